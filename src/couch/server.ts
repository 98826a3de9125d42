import { readFileSync } from 'node:fs';
import { HttpTransport, TransportTimeout } from './http-transport.js';
import {
  AccountLockedError, CouchError, DatabaseNotFoundError, NoCredentialsError, NotCouchDBError, TimeoutError, TlsError,
  UnreachableError, WrongSchemeError, errorForStatus,
} from './errors.js';
import { speaksTls } from './tls-probe.js';
import { Database } from './database.js';
import { parseJson, toJson } from './json.js';

/**
 * The only door to CouchDB. A thin layer over node:http with keep-alive (http-transport.ts) rather than
 * `nano`: measured in bench/client-overhead.ts it makes more requests per second from one client, and it
 * gives us what nano hides: response headers (the server's `Date`, which leases are timed by) and the
 * connection error's code (refused vs reset vs TLS), which users' error messages depend on. (It used
 * undici until loading undici was measured to cost a pilot ~22 MB of memory: docs/pilot-memory.md.)
 */
export interface CouchOptions {
  /** Server URL, e.g. `https://couch.example.org:6984`. May carry `user:password@`; explicit fields win. */
  url: string;
  username?: string;
  password?: string;
  /** Timeout for every request, from sending to the end of the answer's headers and between body chunks. */
  timeoutMs?: number;
  /** Certificate verification is on unless `verify: false` is given explicitly. */
  tls?: { caFile?: string; ca?: string | Buffer; verify?: boolean };
  /** Keep-alive sockets per origin. */
  connections?: number;
  /**
   * Before the first request, make sure the server is CouchDB (GET /, a welcome with `couchdb`), so that a
   * wrong URL fails as "not CouchDB" rather than as whatever its first answer looks like. The CLI turns it
   * on; outages (unreachable, 5xx) are thrown as they are, and checked again on the next request.
   */
  verify?: boolean;
}

export interface RequestOptions {
  query?: Record<string, unknown>;
  body?: unknown;
  /** Send `body` as is (a Buffer or string) with this content type. */
  rawBody?: { data: Buffer | string; contentType: string };
  headers?: Record<string, string>;
  /** Return the body as a Buffer instead of parsed JSON. */
  binary?: boolean;
  /** Override the client's timeout for this request (long polls). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface CouchResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** Query parameters whose values CouchDB expects as JSON. */
const JSON_PARAMS = new Set(['key', 'keys', 'startkey', 'endkey', 'start_key', 'end_key']);

export function encodeQuery(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    params.set(k, JSON_PARAMS.has(k) || (typeof v === 'object' && v !== null) ? toJson(v) : String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** A document id that no request may carry: it would address another resource than a document. */
export class InvalidDocIdError extends TypeError {
  constructor(readonly id: string, why: string) {
    super(`document id ${JSON.stringify(id)} ${why}`);
    this.name = 'InvalidDocIdError';
  }
}

/**
 * Encode a document id as one URL path segment; `_design/` and `_local/` keep their slash. Every id the
 * Python client may write (`.`, `..`, `/`, `%`, `?`, `#`, any Unicode) stays one segment: `encodeURIComponent`
 * covers all but the dot segments, which are written as `%2E` (the transport sends paths unnormalised).
 * Other ids starting with `_` are refused: `/db/_all_docs` is not a document.
 */
export function docPath(id: string): string {
  for (const prefix of ['_design/', '_local/']) {
    if (id.startsWith(prefix) && id.length > prefix.length) return prefix + segment(id.slice(prefix.length));
  }
  if (id === '') throw new InvalidDocIdError(id, 'is empty');
  if (id.startsWith('_')) throw new InvalidDocIdError(id, 'starts with "_", which CouchDB reserves (only _design/ and _local/ documents); it is not a token');
  return segment(id);
}

/** One URL path segment: `encodeURIComponent`, and `.`/`..` written as `%2E` so they stay names. */
export function segment(text: string): string {
  return text === '.' || text === '..' ? text.replace(/\./g, '%2E') : encodeURIComponent(text);
}

/** Node's error text for a TLS handshake that met plain HTTP instead. */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|record layer failure|http request/i;

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_NOT_YET_VALID', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO',
]);

export class CouchServer {
  /** Origin and path of the server, never with credentials. */
  readonly url: string;
  readonly username: string | undefined;
  readonly timeoutMs: number;
  private readonly authHeader: string | undefined;
  private readonly transport: HttpTransport;
  private readonly origin: URL;
  /** The URL's path (a server behind a proxy at `https://host/couchdb`), prepended to every request. */
  private readonly basePath: string;
  /** Still to check that the server is CouchDB before the next request (CouchOptions.verify). */
  private unverified: boolean;
  /** The check under way: requests made meanwhile wait for it (one GET /, one failed login at most). */
  private verifying: Promise<void> | undefined;
  private closed = false;
  /** What it takes to open another client to the same server (e.g. for the pilot's watchdog); never printed. */
  readonly #reconnect: CouchOptions;
  private serverClock: { serverMs: number; localMs: number } | undefined;
  /** Counters for benchmarks: requests made and bytes sent/received. */
  readonly stats = { requests: 0, bytesOut: 0, bytesIn: 0 };

  constructor(options: CouchOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new TypeError(`not a valid server URL: ${JSON.stringify(redactUrl(options.url))} (expected e.g. http://127.0.0.1:5984)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`not a valid server URL: ${redactUrl(options.url)} (only http:// and https:// are supported)`);
    }
    const username = options.username ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
    const password = options.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
    parsed.username = '';
    parsed.password = '';
    this.url = parsed.toString().replace(/\/+$/, '');
    this.origin = new URL(parsed.origin);
    this.basePath = parsed.pathname.replace(/\/+$/, '');
    this.unverified = options.verify === true;
    this.username = username;
    this.authHeader = username !== undefined
      ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`
      : undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const ca = options.tls?.ca ?? (options.tls?.caFile ? readFileSync(options.tls.caFile) : undefined);
    this.#reconnect = {
      url: this.url, username, password, timeoutMs: this.timeoutMs,
      tls: { verify: options.tls?.verify !== false, ...(ca ? { ca: ca.toString() } : {}) },
    };
    this.transport = new HttpTransport(parsed, {
      keepAliveMs: 30_000,
      connections: options.connections ?? 64,
      tls: { verify: options.tls?.verify !== false, ...(ca ? { ca } : {}) },
    });
  }

  /** Options for a new client to this server with the same credentials (a private copy; contains the password). */
  connectionOptions(): CouchOptions {
    return structuredClone(this.#reconnect);
  }

  db(name: string): Database {
    return new Database(this, name);
  }

  /** The server's current time in epoch ms, from the `Date` header of its latest answer plus local elapsed time. */
  serverNow(): number {
    if (!this.serverClock) return Date.now();
    return this.serverClock.serverMs + (performance.now() - this.serverClock.localMs);
  }

  /** Ask the server for its time now (one small request), then return `serverNow()`. */
  async syncClock(): Promise<number> {
    await this.request('GET', '/');
    return this.serverNow();
  }

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<CouchResponse<T>> {
    const where = `${method} ${this.url}${path.split('?')[0]}`;
    // A closed client must not quietly open new connections (they would keep the process alive).
    if (this.closed) throw new Error(`${where}: this CouchServer client was closed`);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.authHeader) headers.authorization = this.authHeader;
    let body: string | Buffer | undefined;
    if (options.rawBody) {
      body = options.rawBody.data;
      headers['content-type'] = options.rawBody.contentType;
    } else if (options.body !== undefined) {
      body = toJson(options.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = options.timeoutMs ?? this.timeoutMs;
    if (this.unverified && path !== '/') {
      this.verifying ??= this.verify().finally(() => { this.verifying = undefined; });
      await this.verifying;
    }
    const sentAt = performance.now();
    let res;
    this.stats.requests++;
    if (body) this.stats.bytesOut += Buffer.byteLength(body);
    try {
      res = await this.transport.request(`${this.basePath}${path}${encodeQuery(options.query)}`, {
        method, headers, body, timeoutMs: timeout, signal: options.signal,
      });
    } catch (err) {
      throw await this.transportError(err, where, timeout);
    }
    const raw = res.body;
    this.stats.bytesIn += raw.length;
    const date = res.headers.date;
    if (typeof date === 'string') {
      const serverMs = Date.parse(date);
      // The Date header has 1 s resolution: take the midpoint of the request as its local moment.
      if (!Number.isNaN(serverMs)) this.serverClock = { serverMs: serverMs + 500, localMs: (sentAt + performance.now()) / 2 };
    }
    const contentType = String(res.headers['content-type'] ?? '');
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (options.binary) return { status: res.statusCode, headers: res.headers, body: raw as T };
      if (method === 'HEAD') return { status: res.statusCode, headers: res.headers, body: undefined as T };
      return { status: res.statusCode, headers: res.headers, body: parseAnswer<T>(raw, contentType, where, res.statusCode) };
    }
    // A refusal without a body cannot say why (a locked account, or not a member): ask again with a GET.
    if (method === 'HEAD' && res.statusCode === 403) await this.request('GET', path, { ...options, binary: true });
    throw this.statusError(res.statusCode, raw, contentType, method, path, where);
  }

  /**
   * The error for a non-2xx answer. CouchDB answers errors as `{"error": ..., "reason": ...}` (whatever the
   * content type says: some servers label it text/plain), so an answer that is not, where a body was sent,
   * came from something else: a web server at the wrong URL (not CouchDB), or a proxy in front of CouchDB
   * whose 502/503/504 page means an outage.
   */
  private statusError(status: number, raw: Buffer, contentType: string, method: string, path: string, where: string): Error {
    const answer = couchErrorBody(raw);
    const outage = status === 429 || (status >= 500 && status !== 501);
    let error: string;
    let reason = '';
    if (answer) {
      ({ error, reason } = answer);
    } else if (method === 'HEAD' || raw.length === 0) {
      // Nothing to judge by but the content type: CouchDB never answers with a web page.
      if (/html/i.test(contentType) && !outage && status !== 401) {
        throw new NotCouchDBError(where, `HTTP ${status} with ${contentType}`, status);
      }
      error = statusName(status);
    } else if (outage || status === 401) {
      // A proxy's error page (an outage), or a proxy asking for its own credentials.
      error = statusName(status);
      reason = `a ${describeBody(contentType)} answer, not CouchDB's: a proxy in front of it?`;
    } else {
      throw new NotCouchDBError(where, `HTTP ${status} ${describeBody(contentType)} answer where CouchDB answers JSON`, status);
    }
    if (status === 401 && !this.authHeader) return new NoCredentialsError(status, error, reason, where);
    if (status === 403 && /temporarily locked|account is locked/i.test(reason)) return new AccountLockedError(status, error, reason, where);
    if (status === 404 && /no_db_file|database does not exist/i.test(reason)) {
      const db = decodeURIComponent(path.split('?')[0]!.split('/')[1] ?? '');
      return new DatabaseNotFoundError(status, error, reason, where, db);
    }
    return errorForStatus(status, error, reason, where);
  }

  /** GET / once: a server whose welcome is not CouchDB's is named as such before any other request. */
  private async verify(): Promise<void> {
    try {
      await this.welcome();
    } catch (err) {
      // Not CouchDB (a 2xx welcome that is not CouchDB's), an outage (checked again next time) or refused
      // credentials: said as they are.
      if (err instanceof NotCouchDBError && (err.status === undefined || err.status < 300)) throw err;
      if (err instanceof UnreachableError || err instanceof TimeoutError) throw err;
      if (err instanceof CouchError && (err.status === 401 || err.status === 403 || err.status === 429 || err.status >= 500)) throw err;
      // Anything else (a proxy that only lets database paths through, and answers / with its own 403 or
      // 404 page): no verdict; the requests themselves tell.
    }
    this.unverified = false;
  }

  private async transportError(err: unknown, where: string, timeout: number): Promise<Error> {
    if (err instanceof CouchError) return err;
    const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.code ?? e.cause?.code ?? e.name ?? 'ERROR';
    if (err instanceof TransportTimeout) return new TimeoutError(where, timeout);
    if (e.name === 'AbortError' || code === 'ABORT_ERR') return err as Error;
    const https = this.origin.protocol === 'https:';
    if (https && NOT_TLS.test(e.message ?? '')) return new WrongSchemeError(where, code, this.origin.origin, 'http');
    if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(e.message ?? '')) {
      return new TlsError(where, code, (e.message ?? '').split('\n')[0]!.trim());
    }
    // A TLS port closes on (or answers with non-HTTP bytes to) a plain request: ask it for a handshake.
    if (!https && (code === 'ECONNRESET' || code.startsWith('HPE_'))) {
      const port = Number(this.origin.port) || 80;
      if (await speaksTls(this.origin.hostname.replace(/^\[(.*)\]$/, '$1'), port, Math.min(timeout, 5_000))) {
        return new WrongSchemeError(where, code, this.origin.origin, 'https');
      }
    }
    return new UnreachableError(where, code, code === 'ECONNREFUSED' ? 'nothing listens there' : (e.message ?? ''));
  }

  /** GET / : the server's welcome object. Throws NotCouchDBError when it is not CouchDB-like. */
  async welcome(signal?: AbortSignal): Promise<{ couchdb: string; version?: string; vendor?: unknown }> {
    const res = await this.request<any>('GET', '/', { signal });
    if (!res.body || typeof res.body !== 'object' || !('couchdb' in res.body)) {
      throw new NotCouchDBError(`GET ${this.url}/`, 'no "couchdb" field in the welcome object');
    }
    return res.body;
  }

  async allDbs(): Promise<string[]> {
    return (await this.request<string[]>('GET', '/_all_dbs')).body;
  }

  async session(): Promise<{ userCtx: { name: string | null; roles: string[] } }> {
    return (await this.request<any>('GET', '/_session')).body;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close();
  }
}

function parseAnswer<T>(raw: Buffer, contentType: string, where: string, status: number): T {
  if (!raw.length) return undefined as T;
  const text = raw.toString('utf8');
  try {
    return parseJson<T>(text);
  } catch {
    throw new NotCouchDBError(where, `HTTP ${status} answer is not JSON (${contentType || 'no content type'})`, status);
  }
}

/** `{error, reason}` of a CouchDB error answer, or undefined when the body is not one. */
function couchErrorBody(raw: Buffer): { error: string; reason: string } | undefined {
  if (raw.length === 0 || raw.length > 65_536) return undefined;
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { error?: unknown; reason?: unknown } | null;
    if (!parsed || typeof parsed !== 'object' || typeof parsed.error !== 'string') return undefined;
    return { error: parsed.error, reason: typeof parsed.reason === 'string' ? parsed.reason : '' };
  } catch {
    return undefined;
  }
}

function describeBody(contentType: string): string {
  const type = contentType.split(';')[0]!.trim();
  return type ? (/html/i.test(type) ? 'web page (HTML)' : type) : 'untyped';
}

function statusName(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 429) return 'too_many_requests';
  return status >= 500 ? 'server_error' : 'http_error';
}

/** A URL fit for messages: any password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
