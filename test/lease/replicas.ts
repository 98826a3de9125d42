import { rmSync } from 'node:fs';
import PouchDB from 'pouchdb-node';
import { spawnEmbeddedServer, type TestServer } from '../helpers/couch.js';
import { CouchServer } from '../../src/couch/server.js';
import type { Database, Doc } from '../../src/couch/database.js';

type Embedded = Awaited<ReturnType<typeof spawnEmbeddedServer>>;

/**
 * Two real embedded servers, each in its own process, and real replication between them over HTTP
 * (PouchDB's replicator, running in the test process: the embedded server has no `_replicate`).
 */
export interface Replicas {
  servers: [TestServer, TestServer];
  clients: [CouchServer, CouchServer];
  /** The same database on both servers, created empty. */
  create(name: string): Promise<[Database, Database]>;
  /** One-shot replication of `name` from server `from` to the other. */
  replicate(name: string, from: 0 | 1): Promise<void>;
  /** One-shot both ways. */
  sync(name: string): Promise<void>;
  /** Continuous replication both ways until the returned function is called. */
  live(name: string): () => void;
  stop(): Promise<void>;
}

function asTestServer(s: Embedded): TestServer {
  const u = new URL(s.url); u.username = s.username; u.password = s.password;
  return {
    url: s.url, username: s.username, password: s.password, owned: true, authUrl: u.toString().replace(/\/$/, ''),
    client: () => new CouchServer({ url: s.url, username: s.username, password: s.password }),
  };
}

export async function startReplicas(): Promise<Replicas> {
  const embedded = [await spawnEmbeddedServer(), await spawnEmbeddedServer()] as const;
  process.once('exit', () => {
    for (const s of embedded) { s.child.kill('SIGKILL'); rmSync(s.dataDir, { recursive: true, force: true }); }
  });
  const servers = embedded.map(asTestServer) as [TestServer, TestServer];
  const clients = servers.map((s) => s.client()) as [CouchServer, CouchServer];
  const pouches: { close(): Promise<void> }[] = [];
  const pouch = (i: 0 | 1, name: string) => {
    const p = new PouchDB(`${servers[i].url}/${name}`, { auth: { username: servers[i].username, password: servers[i].password }, skip_setup: true });
    pouches.push(p);
    return p;
  };
  const cancels = new Set<() => void>();
  const replicas: Replicas = {
    servers,
    clients,
    async create(name) {
      const dbs = clients.map((c) => c.db(name)) as [Database, Database];
      for (const d of dbs) await d.create();
      return dbs;
    },
    async replicate(name, from) {
      const to = from === 0 ? 1 : 0;
      const result = await PouchDB.replicate(pouch(from, name), pouch(to, name));
      if (!result.ok) throw new Error(`replication of ${name} failed: ${JSON.stringify(result.errors)}`);
    },
    async sync(name) {
      await replicas.replicate(name, 0);
      await replicas.replicate(name, 1);
    },
    live(name) {
      const feeds = [
        PouchDB.replicate(pouch(0, name), pouch(1, name), { live: true, retry: true }),
        PouchDB.replicate(pouch(1, name), pouch(0, name), { live: true, retry: true }),
      ];
      for (const f of feeds) f.on('error', (err: Error) => { process.stderr.write(`replication error: ${err.message}\n`); });
      const cancel = () => { for (const f of feeds) f.cancel(); cancels.delete(cancel); };
      cancels.add(cancel);
      return cancel;
    },
    async stop() {
      for (const c of [...cancels]) c();
      for (const p of pouches) await p.close().catch(() => {});
      for (const c of clients) await c.close();
      // The servers' processes are unref'd (a test process ends without them): hold the loop while they exit.
      for (const s of embedded) { s.child.ref(); await s.stop(); rmSync(s.dataDir, { recursive: true, force: true }); }
    },
  };
  return replicas;
}

/** Winning revision and `_conflicts` of one document, as a plain GET with `conflicts=true` reports them. */
export async function winnerOf(db: Database, id: string): Promise<Doc & { picas?: Record<string, any> }> {
  return db.get(id, { conflicts: true });
}

/**
 * Wait (bounded) until both servers hold the same winning revision and the same `_conflicts` of every
 * listed document: replication has settled. Returns false if it did not within `timeoutMs`.
 */
export async function settled(dbs: [Database, Database], ids: string[], timeoutMs = 30_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000 && Date.now() < until; i++) {
    const [a, b] = await Promise.all(dbs.map((d) => d.allDocs({ keys: ids, include_docs: true, conflicts: true })));
    const same = a.rows.every((r, k) => {
      const other = b.rows[k];
      return !!r.doc && !!other?.doc && r.doc._rev === other.doc._rev
        && JSON.stringify(r.doc._conflicts ?? []) === JSON.stringify(other.doc._conflicts ?? []);
    });
    if (same) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
