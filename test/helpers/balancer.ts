import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP load balancer of the test's own, in front of several real servers: each request goes to
 * the next server in turn (round robin, request by request, not connection by connection), as a load
 * balancer without sticky sessions does in front of a CouchDB cluster or of servers that replicate to each
 * other. Answers are passed through untouched; the balancer counts them by status.
 */
export interface Balancer {
  /** Base URL without credentials. */
  url: string;
  /** Requests forwarded to each target, in target order. */
  readonly forwarded: number[];
  /** Answers by HTTP status (e.g. how many 202s the servers gave). */
  readonly statuses: Map<number, number>;
  close(): Promise<void>;
}

export interface BalancerOptions {
  /**
   * Change an answer's status on its way back (body untouched), e.g. 201 to 202 as a CouchDB cluster answers
   * a write that reached fewer copies than its quorum. Called with the request's method and path.
   */
  rewriteStatus?: (method: string, path: string, status: number) => number;
}

export async function startBalancer(targets: string[], options: BalancerOptions = {}): Promise<Balancer> {
  if (targets.length === 0) throw new Error('a balancer needs at least one target');
  const origins = targets.map((t) => new URL(t));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const forwarded = origins.map(() => 0);
  const statuses = new Map<number, number>();
  let next = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const i = next;
    next = (next + 1) % origins.length;
    forwarded[i]!++;
    const target = origins[i]!;
    const headers = { ...req.headers, host: target.host };
    const upstream = httpRequest({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent,
    }, (answer) => {
      const status = options.rewriteStatus?.(req.method ?? 'GET', req.url ?? '/', answer.statusCode ?? 502) ?? answer.statusCode ?? 502;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      res.writeHead(status, answer.headers);
      answer.pipe(res);
      answer.once('error', () => res.destroy());
    });
    upstream.once('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'bad_gateway', reason: 'the balancer could not reach its target' }));
      } else res.destroy();
    });
    // A client that goes away (e.g. an aborted long poll) ends the upstream request too.
    res.once('close', () => { if (!res.writableFinished) upstream.destroy(); });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    statuses,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
