import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One HTTP exchange with keep-alive connections, over Node's built-in `node:http`/`node:https`. Chosen over
 * undici because a pilot is a long-lived process that should stay small: loading undici and compiling its
 * WebAssembly HTTP parser costs about 22 MB of resident memory, node:http about 2 MB, at the same request
 * rate (docs/pilot-memory.md has the figures).
 */
export interface TransportOptions {
  /** Most sockets per origin. */
  connections: number;
  /** Idle keep-alive sockets are closed after this long (earlier when the server announces less). */
  keepAliveMs: number;
  tls: { ca?: string | Buffer; verify: boolean };
}

export interface SendOptions {
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** From sending until the answer's headers, and between chunks of its body. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RawResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Thrown when the answer's headers or its next body chunk did not come within the timeout. */
export class TransportTimeout extends Error {
  readonly code = 'PICAS_TRANSPORT_TIMEOUT';
  constructor(readonly phase: 'headers' | 'body', readonly timeoutMs: number) {
    super(`no ${phase === 'headers' ? 'answer' : 'further data'} within ${timeoutMs} ms`);
  }
}

export class HttpTransport {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly target: { protocol: string; hostname: string; port: number };
  private inFlight = 0;
  private drained: (() => void) | undefined;

  constructor(origin: URL, options: TransportOptions) {
    const https = origin.protocol === 'https:';
    this.target = { protocol: origin.protocol, hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(origin.port) || (https ? 443 : 80) };
    const common = { keepAlive: true, maxSockets: options.connections, timeout: options.keepAliveMs, scheduling: 'lifo' as const };
    if (origin.protocol === 'https:') {
      this.agent = new HttpsAgent({ ...common, rejectUnauthorized: options.tls.verify, ...(options.tls.ca ? { ca: options.tls.ca } : {}) });
      this.send = httpsRequest;
    } else {
      this.agent = new HttpAgent(common);
      this.send = httpRequest;
    }
  }

  /**
   * One request to `path` (with its query) at the origin. The path is sent exactly as given: a URL string
   * would be normalised first, and `/db/..` (a token whose id is `..`, even written `%2E%2E`) would become
   * `/`, a request for another resource.
   */
  async request(path: string, options: SendOptions): Promise<RawResponse> {
    this.inFlight++;
    try {
      return await this.exchange(path, options);
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  private exchange(path: string, options: SendOptions): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...options.headers };
      if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let phase: 'headers' | 'body' = 'headers';
      let lastActivity = performance.now();
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      // One timer for the whole exchange; a chunk only notes the time (re-arming a timer per chunk costs
      // measurable CPU on large answers). When it fires early it waits out the rest: a slow but steady
      // answer never times out.
      const check = () => {
        const idle = performance.now() - lastActivity;
        if (idle >= options.timeoutMs) fail(new TransportTimeout(phase, options.timeoutMs));
        else timer = setTimeout(check, options.timeoutMs - idle);
      };
      timer = setTimeout(check, options.timeoutMs);
      const activity = () => { lastActivity = performance.now(); };
      const req = this.send({ ...this.target, path, method: options.method, headers, agent: this.agent, signal: options.signal });
      req.once('error', fail);
      req.once('response', (res: IncomingMessage) => {
        phase = 'body';
        activity();
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => { chunks.push(chunk); activity(); });
        res.once('error', fail);
        res.once('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        // A connection cut mid-body ends with 'close' and no 'end' (and, depending on timing, an 'aborted').
        res.once('close', () => {
          if (res.complete) return;
          if (options.signal?.aborted) fail(new DOMException('This operation was aborted', 'AbortError'));
          else fail(Object.assign(new Error('the connection closed before the whole answer arrived'), { code: 'ECONNRESET' }));
        });
      });
      req.end(options.body);
    });
  }

  /** Let requests under way finish, then close every connection. */
  async close(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((done) => { this.drained = done; });
    this.agent.destroy();
  }
}
