/**
 * Typed CouchDB errors. Classification uses the HTTP status and CouchDB's `error` field; the wording of
 * `reason` (it differs between CouchDB versions and PouchDB) only refines a class into a subclass with a more
 * helpful message (a missing database, a locked account), never changes what a caller's `instanceof` sees.
 */
export class CouchError extends Error {
  readonly status: number;
  readonly error: string;
  readonly reason: string;
  /** Where the failing request went (method and URL without credentials). */
  readonly where: string;

  constructor(status: number, error: string, reason: string, where: string) {
    super(`${where}: ${status} ${error}${reason ? `: ${reason}` : ''}`);
    this.name = new.target.name;
    this.status = status;
    this.error = error;
    this.reason = reason;
    this.where = where;
  }
}

/** 409: the document changed since the `_rev` the caller had; another writer won. */
export class ConflictError extends CouchError {}
/** 404: no such database, document, view or attachment. */
export class NotFoundError extends CouchError {}
/** 401: wrong or missing credentials. */
export class UnauthorizedError extends CouchError {}
/** 401 to a request sent without any credentials: the server wants a user name and password. */
export class NoCredentialsError extends UnauthorizedError {}
/** 403: authenticated, but not allowed (not a member, or a validation function refused). */
export class ForbiddenError extends CouchError {}
/**
 * 403 "Account is temporarily locked": CouchDB 3.4+ locks a user name for some minutes after repeated failed
 * logins from one address (`[chttpd_auth_lockout]`, 5 failures lock for 5 minutes by default). Every request
 * is refused until then, also with the right password.
 */
export class AccountLockedError extends ForbiddenError {}
/** 404 because the database itself does not exist (not a document or view in it). */
export class DatabaseNotFoundError extends NotFoundError {
  constructor(status: number, error: string, reason: string, where: string, readonly database: string) {
    super(status, error, reason, where);
  }
}
/** 412: e.g. creating a database that exists already. */
export class PreconditionFailedError extends CouchError {}
/** 400: a malformed request (bad document id, bad view parameters). */
export class BadRequestError extends CouchError {}
/** 5xx or 429: the server is overloaded or broken; worth retrying later. */
export class ServerError extends CouchError {}

/** The server could not be reached at all (refused, reset, DNS, TLS). `code` is Node's error code. */
export class UnreachableError extends Error {
  readonly code: string;
  readonly where: string;
  constructor(where: string, code: string, detail: string) {
    super(`${where}: cannot reach the server (${code}${detail ? `: ${detail}` : ''})`);
    this.name = 'UnreachableError';
    this.code = code;
    this.where = where;
  }
}

/** No answer within the configured timeout. */
export class TimeoutError extends Error {
  readonly where: string;
  readonly timeoutMs: number;
  constructor(where: string, timeoutMs: number) {
    super(`${where}: no answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.where = where;
    this.timeoutMs = timeoutMs;
  }
}

/** The server answered, but not as CouchDB does (not JSON, unexpected shape). */
export class NotCouchDBError extends Error {
  readonly where: string;
  /** The HTTP status of the answer that gave it away, when there was one. */
  readonly status: number | undefined;
  constructor(where: string, detail: string, status?: number) {
    super(`${where}: the server did not answer as CouchDB (${detail})`);
    this.name = 'NotCouchDBError';
    this.where = where;
    this.status = status;
  }
}

/** TLS certificate verification failed. */
export class TlsError extends UnreachableError {}

/**
 * The URL's scheme does not match what the server speaks at that address: an `https://` URL at a port that
 * speaks plain HTTP (`speaks: 'http'`), or an `http://` URL at a port that speaks TLS (`speaks: 'https'`).
 */
export class WrongSchemeError extends UnreachableError {
  constructor(where: string, code: string, readonly origin: string, readonly speaks: 'http' | 'https') {
    super(where, code, speaks === 'http' ? 'the server does not speak TLS at this address' : 'the server speaks TLS (https) at this address');
    this.name = 'WrongSchemeError';
  }
}

export function errorForStatus(status: number, error: string, reason: string, where: string): CouchError {
  switch (status) {
    case 400: return new BadRequestError(status, error, reason, where);
    case 401: return new UnauthorizedError(status, error, reason, where);
    case 403: return new ForbiddenError(status, error, reason, where);
    case 404: return new NotFoundError(status, error, reason, where);
    case 409: return new ConflictError(status, error, reason, where);
    case 412: return new PreconditionFailedError(status, error, reason, where);
    default:
      if (status === 429 || status >= 500) return new ServerError(status, error, reason, where);
      return new CouchError(status, error, reason, where);
  }
}

/** True for failures that may go away by themselves: unreachable, timeout, 5xx, 429. */
export function isTransient(err: unknown): boolean {
  if (err instanceof TlsError || err instanceof WrongSchemeError) return false;
  return err instanceof UnreachableError || err instanceof TimeoutError || err instanceof ServerError;
}
