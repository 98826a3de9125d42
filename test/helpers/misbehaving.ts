import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Real loopback servers that misbehave on purpose, for error-path tests. */
export interface Running { url: string; close(): Promise<void> }

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closer(server: Server | TcpServer, sockets: Set<Socket>): () => Promise<void> {
  return () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); });
}

function track(server: Server | TcpServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return sockets;
}

/** Accepts connections and never answers. */
export async function silentServer(): Promise<Running> {
  const server = createTcpServer(() => {});
  const sockets = track(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: closer(server, sockets) };
}

/** An HTTP server that is not CouchDB: answers every request with an HTML page. */
export async function htmlServer(status = 200): Promise<Running> {
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'text/html' });
    res.end('<html><body>It works!</body></html>');
  });
  const sockets = track(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: closer(server, sockets) };
}

/** Reads the request, then cuts the connection without answering. */
export async function cuttingServer(): Promise<Running> {
  const server = createTcpServer((socket) => { socket.once('data', () => socket.destroy()); });
  const sockets = track(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: closer(server, sockets) };
}

/** A port where nothing listens (bound, then closed). */
export async function closedPortUrl(): Promise<string> {
  const server = createTcpServer();
  const port = await listen(server);
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
