import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, that a test steers: pass bytes through, delay them, cut
 * every open connection, or refuse new ones. Pilots are pointed at `url`; the test flips `mode` mid-run.
 */
export type ProxyMode = 'pass' | 'refuse';

export interface Proxy {
  url: string;
  /** Delay added to every chunk in both directions (ms); 0 passes at once. */
  delayMs: number;
  /** 'refuse': new connections are closed at once (and open ones cut); 'pass': normal. */
  setMode(mode: ProxyMode): void;
  /** Destroy every open connection (both sides), as a network drop would. */
  cutAll(): number;
  /** Send new connections to another server (e.g. one restarted on a new port with the same data). */
  setTarget(url: string): void;
  /** Connections accepted so far (to check a scenario really went through the proxy). */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startProxy(targetUrl: string): Promise<Proxy> {
  let target = new URL(targetUrl);
  const pairs = new Set<[Socket, Socket]>();
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  const state = { delayMs: 0 };

  // Forward chunks in order; with a delay each chunk waits its turn, so order is kept.
  const pipeDelayed = (from: Socket, to: Socket) => {
    let chain = Promise.resolve();
    from.on('data', (chunk) => {
      const delay = state.delayMs;
      if (delay <= 0) { chain = chain.then(() => { if (!to.destroyed) to.write(chunk); }); return; }
      chain = chain.then(() => new Promise<void>((r) => setTimeout(() => { if (!to.destroyed) to.write(chunk); r(); }, delay)));
    });
    from.on('end', () => { void chain.then(() => to.end()); });
  };

  const server: Server = createServer((client) => {
    if (mode === 'refuse') { client.destroy(); return; }
    accepted++;
    const upstream = connect(Number(target.port || 80), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    client.on('error', drop); upstream.on('error', drop);
    client.on('close', drop); upstream.on('close', drop);
    pipeDelayed(client, upstream);
    pipeDelayed(upstream, client);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

  const cutAll = () => {
    const n = pairs.size;
    for (const [a, b] of pairs) { a.destroy(); b.destroy(); }
    pairs.clear();
    return n;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get delayMs() { return state.delayMs; },
    set delayMs(ms: number) { state.delayMs = ms; },
    setMode(next: ProxyMode) { mode = next; if (next === 'refuse') cutAll(); },
    cutAll,
    setTarget(url: string) { target = new URL(url); },
    get accepted() { return accepted; },
    close: () => new Promise<void>((resolve) => { cutAll(); server.close(() => resolve()); }),
  };
}
