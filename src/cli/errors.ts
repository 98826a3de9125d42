import {
  AccountLockedError, BadRequestError, ConflictError, CouchError, DatabaseNotFoundError, ForbiddenError, NoCredentialsError,
  NotCouchDBError, NotFoundError, ServerError, TimeoutError, TlsError, UnauthorizedError, UnreachableError, WrongSchemeError,
} from '../couch/errors.js';
import { InvalidDocIdError } from '../couch/server.js';
import { ConfigError, UsersDbForbiddenError } from '../config/errors.js';
import { PromptCancelled } from '../config/prompt.js';
import { EXIT } from './exit-codes.js';

/** A user-facing failure: one line of what failed and what to do, plus the exit code. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'UserError';
  }
}

/** Turn any error into one clear line (what failed, where, what to do) and an exit code. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof UserError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof ConfigError) return { message: err.message, exitCode: EXIT.config };
  if (err instanceof PromptCancelled) return { message: err.message, exitCode: EXIT.interrupted };
  if (err instanceof UsersDbForbiddenError) return { message: err.message, exitCode: EXIT.auth };
  if (err instanceof InvalidDocIdError) return { message: `${err.message}.`, exitCode: EXIT.usage };
  if (err instanceof WrongSchemeError) {
    const { origin } = err;
    const message = err.speaks === 'http'
      ? `${err.where}: the server at ${origin} does not speak TLS (https) at that address. Use ${origin.replace(/^https:/, 'http:')} if it serves plain HTTP there, or the port where it serves HTTPS (CouchDB's default is 6984).`
      : `${err.where}: the server at ${origin} speaks TLS at that address: use ${origin.replace(/^http:/, 'https:')} instead.`;
    return { message, exitCode: EXIT.unreachable };
  }
  if (err instanceof TlsError) {
    return { message: `${err.message}. Give the server's CA with --ca-file, or (unsafe) --insecure to skip verification.`, exitCode: EXIT.unreachable };
  }
  if (err instanceof UnreachableError) {
    return { message: `${err.message}. Is the server running and the URL right? (set PICAS_HOST_URL or --url; \`picas serve\` starts the embedded one)`, exitCode: EXIT.unreachable };
  }
  if (err instanceof TimeoutError) {
    return { message: `${err.message}. The server is slow or unreachable; raise --timeout or check the server.`, exitCode: EXIT.unreachable };
  }
  if (err instanceof NotCouchDBError) {
    return { message: `${err.message}: this is not a CouchDB server. Check that the URL points at CouchDB itself (scheme, host, port, path; PICAS_HOST_URL or --url).`, exitCode: EXIT.unreachable };
  }
  if (err instanceof ServerError) {
    const what = err.status === 429 ? 'is overloaded and refuses requests for now' : 'is failing';
    return {
      message: `${err.where}: the server ${what} (${err.status} ${err.error}${err.reason ? `: ${err.reason}` : ''}). This is an outage of CouchDB or of a proxy in front of it, not a wrong setting: try again later.`,
      exitCode: EXIT.unreachable,
    };
  }
  if (err instanceof NoCredentialsError) {
    return {
      message: `${err.where}: the server wants a user name and password (401), and none were given. Give them with PICAS_USERNAME and PICAS_PASSWORD (or --username and --password-file), or store them with \`picas init\`.`,
      exitCode: EXIT.auth,
    };
  }
  if (err instanceof AccountLockedError) {
    return {
      message: `${err.where}: the server has temporarily locked this account after repeated failed logins (403: ${err.reason}); it refuses even the right password for some minutes (5 by default). Correct the password everywhere it is used (PICAS_PASSWORD, conf.yml, running pilots), then wait before trying again.`,
      exitCode: EXIT.auth,
    };
  }
  if (err instanceof DatabaseNotFoundError) {
    return {
      message: `${err.where}: the database ${JSON.stringify(err.database)} does not exist (404). Check its name (PICAS_DATABASE, --database), or create it with \`picas push\` or \`picas views\`.`,
      exitCode: EXIT.notFound,
    };
  }
  if (err instanceof UnauthorizedError) {
    return { message: `${err.where}: wrong user name or password (401). Check PICAS_USERNAME/PICAS_PASSWORD or ~/.config/picas/conf.yml.`, exitCode: EXIT.auth };
  }
  if (err instanceof ForbiddenError) {
    return { message: `${err.where}: not allowed (403 ${err.error}${err.reason ? `: ${oneLine(err.reason)}` : ''}). Ask the database's admin to add your user as a member.`, exitCode: EXIT.auth };
  }
  if (err instanceof NotFoundError) {
    return { message: `${err.where}: not found (404${err.reason ? `: ${err.reason}` : ''}). Check the database name (PICAS_DATABASE, --database) and the view name.`, exitCode: EXIT.notFound };
  }
  if (err instanceof ConflictError) {
    return { message: `${err.where}: conflict (409): the document changed meanwhile; run the command again.`, exitCode: EXIT.failure };
  }
  if (err instanceof BadRequestError && err.error === 'compilation_error') {
    return { message: `${err.where}: the server refused the design document: a view's code does not compile (${oneLine(err.reason)}). Fix the view's code (with \`picas views\`: the --condition).`, exitCode: EXIT.failure };
  }
  if (err instanceof BadRequestError) {
    return { message: `${err.where}: bad request (400 ${err.error}${err.reason ? `: ${oneLine(err.reason)}` : ''})`, exitCode: EXIT.failure };
  }
  if (err instanceof CouchError) return { message: oneLine(err.message), exitCode: EXIT.failure };
  if (err instanceof TypeError && /URL/.test(err.message)) return { message: err.message, exitCode: EXIT.config };
  if (err instanceof Error) return { message: err.message, exitCode: EXIT.failure };
  return { message: String(err), exitCode: EXIT.failure };
}

/** A server's reason as one line: CouchDB quotes whole view functions, line breaks and all. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
