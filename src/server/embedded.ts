import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import expressPouchDB from 'express-pouchdb';
import PouchDB from 'pouchdb-node';
import { authFront } from './auth-front.js';

/**
 * The embedded CouchDB-compatible server: PouchDB's HTTP layer (express-pouchdb) on LevelDB files in one
 * data folder, behind a front of our own (auth-front.ts) that requires credentials and refuses what
 * express-pouchdb gets wrong. One process owns the data folder; everything else talks HTTP to it.
 */
export interface EmbeddedServerOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  admin: { username: string; password: string };
  tls?: { certFile: string; keyFile: string };
  log?: (line: string) => void;
}

export interface EmbeddedServer {
  /** Base URL without credentials, e.g. http://127.0.0.1:5984 */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const Pouch = PouchDB.defaults({ prefix: `${dataDir}/` });
  const pouchApp = expressPouchDB(Pouch, {
    mode: 'minimumForPouchDB',
    overrideMode: { include: ['routes/security'] },
    inMemoryConfig: true,
    logPath: `${dataDir}/log.txt`,
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(authFront({ admin: options.admin }));
  app.use(pouchApp);

  const server: Server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, app)
    : createHttpServer(app);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5984, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`picas embedded server listening on ${url} (data in ${dataDir})`);
  return {
    url,
    host,
    port,
    close: () => new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    }),
  };
}
