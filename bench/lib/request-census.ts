// A loopback TCP relay in front of a server that counts the HTTP requests passing through by kind
// (method and route shape, ids and database names folded), for the profile's "requests per token".
import { createServer, connect, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

// Request lines only: a body (JSON) cannot hold a bare CRLF, so " HTTP/1.1\r\n" ends nothing but a request line.
const REQUEST_LINE = /(GET|PUT|POST|DELETE|HEAD|COPY) (\/\S*) HTTP\/1\.1\r\n/g;

/** `/picas-bench-x/_design/Monitor/_view/todo?limit=500` -> `GET /{db}/_design/Monitor/_view/todo?limit`. */
export function routeShape(method: string, path: string): string {
  const [pathname, query] = path.split('?', 2) as [string, string | undefined];
  const segments = pathname.split('/').filter(Boolean);
  const parts = segments.map((p, i) => {
    if (i === 0) return p.startsWith('_') ? p : '{db}';
    // Design document and view names say which query it was; document ids are folded.
    return p.startsWith('_') || ['_design', '_view'].includes(segments[i - 1]!) ? p : '{id}';
  });
  const keys = query ? `?${query.split('&').map((kv) => kv.split('=')[0]).sort().join('&')}` : '';
  return `${method} /${parts.join('/')}${keys}`;
}

export interface RequestCensus {
  url: string;
  counts: Map<string, number>;
  close(): Promise<void>;
}

export async function startRequestCensus(targetUrl: string): Promise<RequestCensus> {
  const target = new URL(targetUrl);
  const counts = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    const upstream = connect(Number(target.port), target.hostname);
    let carry = '';
    client.on('data', (chunk: Buffer) => {
      // Keep a short tail so a request line split across two chunks is still seen once.
      const text = carry + chunk.toString('latin1');
      let last = 0;
      for (const m of text.matchAll(REQUEST_LINE)) {
        const key = routeShape(m[1]!, m[2]!);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        last = m.index! + m[0].length;
      }
      carry = text.slice(Math.max(last, text.length - 300));
    });
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const u = new URL(targetUrl);
  u.port = String((server.address() as AddressInfo).port);
  return {
    url: u.toString(),
    counts,
    close: () => new Promise<void>((r) => { server.close(() => r()); for (const s of sockets) s.destroy(); }),
  };
}
