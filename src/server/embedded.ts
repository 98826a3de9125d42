import { mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import expressPouchDB from 'express-pouchdb';
import PouchDB from 'pouchdb-node';
import { accessControl } from './access.js';
import { authFront } from './auth-front.js';
import { serverUuid, welcome } from './welcome.js';
import { viewUpdateParam } from './view-update-param.js';
import { bigintOutput } from './json-body.js';
import { DbInfo } from './db-info.js';
import { pouchFixups } from './pouch-fixups.js';
import { SessionKeeper } from './session.js';
import { ValidatorCache } from './validate-doc-update.js';
import { RevsLimits } from './revs-limit.js';
import { dropIndexesOlderThanIcuKeys } from './icu-collation.js';
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';

// pouchdb-find ships no type declarations.
const PouchFind = createRequire(import.meta.url)('pouchdb-find') as unknown;
import { openInternalStore } from './internal-store.js';
import { errorHandler, guardProcess, guardRequests } from './request-guard.js';
import { SecurityStore } from './security.js';
import { UserDirectory } from './users.js';
import { installSharedViewContexts } from './view-code-contexts.js';

/**
 * The embedded CouchDB-compatible server: PouchDB's HTTP layer (express-pouchdb) on LevelDB files in one
 * data folder, behind a front of our own that authenticates every request, applies CouchDB 3's access
 * rules, serves the routes express-pouchdb gets wrong (`_changes`, `_security`, `_users`, `_session`), and
 * keeps any failing request from ending the process. One process owns the data folder; everything else
 * talks HTTP to it.
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
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!options.admin.username || !options.admin.password) throw new Error('the embedded server needs an admin user name and password');
  guardProcess(log);
  allowOneListenerPerFeed();
  installSharedViewContexts();
  dropIndexesOlderThanIcuKeys(dataDir);

  (PouchDB as unknown as { plugin(p: unknown): void }).plugin(PouchFind);
  const Pouch = PouchDB.defaults({ prefix: `${dataDir}/` });
  const pouchApp = expressPouchDB(Pouch, {
    mode: 'minimumForPouchDB',
    // No gzip: it holds continuous feeds back, and the server is mostly reached over loopback.
    // No temporary views: they run code from the request (refused in access.ts anyway).
    overrideMode: { exclude: ['compression', 'routes/temp-views', 'routes/session-stub'] },
    inMemoryConfig: true,
    logPath: `${dataDir}/log.txt`,
  });
  const store = openInternalStore(dataDir);
  const users = new UserDirectory(store.users, options.admin);
  const security = new SecurityStore(store.security);
  const sessions = new SessionKeeper(users);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(guardRequests(log));
  app.use(bigintOutput());
  app.use(welcome(serverUuid(dataDir)));
  app.use(authFront(users, sessions));
  app.use(accessControl({ Pouch, users, security, sessions, validators: new ValidatorCache(), info: new DbInfo(dataDir), revsLimits: new RevsLimits(store.security, Pouch) }));
  app.use(viewUpdateParam());
  app.use(pouchFixups());
  app.use(pouchApp);
  app.use(errorHandler(log));

  const server: Server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, app)
    : createHttpServer(app);
  server.keepAliveTimeout = 60_000;
  // Long polls and continuous feeds set their own limits.
  server.requestTimeout = 0;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5984, host, () => {
      server.removeListener('error', reject);
      resolveListen();
    });
  }).catch(async (err) => {
    await store.close();
    throw err;
  });
  server.on('error', (err) => log(`server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    close: () => closing ??= (async () => {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      // Close the databases so LevelDB writes its files out before the process ends.
      const open: any[] = [...(Pouch.__dbCacheMap?.values?.() ?? [])];
      await Promise.race([
        Promise.allSettled([...open.map((db) => db.close()), store.close()]),
        new Promise((r) => setTimeout(r, 5000).unref()),
      ]);
    })(),
  };
}

/** Live `_changes` feeds this server may hold open at once before Node warns of a listener leak. */
export const MAX_OPEN_FEEDS = 10_000;

/**
 * Every open `_changes` feed (a waiting pilot's long poll, a dashboard) adds a listener to PouchDB's
 * per-database emitters, which are internal to PouchDB and warn past Node's default of 10: eleven waiting
 * pilots printed a 'possible memory leak' warning. Raise the default for this server process to a bound
 * far above any real farm on one embedded server, so a true leak still warns.
 */
function allowOneListenerPerFeed(): void {
  if (EventEmitter.defaultMaxListeners < MAX_OPEN_FEEDS) EventEmitter.defaultMaxListeners = MAX_OPEN_FEEDS;
}
