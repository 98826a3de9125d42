import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real loopback HTTP proxy in front of the test's server, for tests that must see or bend what passes:
 * hold some requests back (`holdMs`), change the answers' headers (`headers`), or read each answer's body
 * (`onAnswer`, which then buffers it). Everything else passes as it is. (test/helpers/proxy.ts works a
 * level lower, on TCP connections: delays, cuts, refusals.)
 */
export interface HttpProxyHooks {
  /** Milliseconds to hold this request before forwarding it (0: at once). */
  holdMs?: (url: string) => number;
  headers?: (headers: IncomingHttpHeaders) => IncomingHttpHeaders;
  onAnswer?: (url: string, status: number, body: Buffer) => void;
}

export async function startHttpProxy(target: string, hooks: HttpProxyHooks = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const forward = () => {
      const out = request({ host: to.hostname, port: to.port, method: req.method, path: url, headers: req.headers }, (answer) => {
        const status = answer.statusCode ?? 502;
        const headers = hooks.headers ? hooks.headers(answer.headers) : answer.headers;
        if (!hooks.onAnswer) { res.writeHead(status, headers); answer.pipe(res); return; }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          hooks.onAnswer!(url, status, body);
          res.writeHead(status, headers);
          res.end(body);
        });
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    };
    const hold = hooks.holdMs?.(url) ?? 0;
    if (hold > 0) setTimeout(forward, hold); else forward();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
