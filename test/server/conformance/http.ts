import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The raw bytes as received (still encoded when the server compressed them). */
  body: Buffer;
  /** True when the stream was cut by us after `streamMs`. */
  cut: boolean;
}

/**
 * One request on its own connection, sending exactly the given headers (plus Host, and what the caller put
 * in: Authorization, Content-Length): no client library adds Accept, Content-Type or Accept-Encoding.
 * With `streamMs` the answer is read for that long and the connection is then closed.
 */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, opts: { timeoutMs?: number; streamMs?: number } = {}): Promise<RawAnswer> {
  const url = new URL(base);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    const chunks: Buffer[] = [];
    const req = send({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      method,
      path,
      headers,
      agent: false,
      rejectUnauthorized: false,
    }, (res) => {
      let streamTimer: NodeJS.Timeout | undefined;
      const finish = (cut: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (streamTimer) clearTimeout(streamTimer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut });
        if (cut) req.destroy();
      };
      if (opts.streamMs !== undefined) streamTimer = setTimeout(() => finish(true), opts.streamMs);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(false));
      res.on('error', (err) => fail(err));
    });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', fail);
    if (body) req.end(body); else req.end();
  });
}
