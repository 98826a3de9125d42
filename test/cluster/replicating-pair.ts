import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import PouchDB from 'pouchdb-node';
import { spawnEmbeddedServer } from '../helpers/couch.js';
import { startBalancer, type Balancer } from '../helpers/balancer.js';
import { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';

type Embedded = Awaited<ReturnType<typeof spawnEmbeddedServer>>;

/**
 * A stand-in for a CouchDB cluster behind a load balancer, built from real parts: two embedded servers,
 * each in its own process and with the same admin account, replicating every database given to `live` both
 * ways continuously (PouchDB's replicator over HTTP, in the test process), and a loopback balancer that sends
 * successive requests to alternating servers. Conflicting revisions and lagging reads appear as they do in a
 * cluster whose copies disagree for a moment.
 */
export interface ReplicatingPair {
  servers: [Embedded, Embedded];
  balancer: Balancer;
  username: string;
  password: string;
  /** The balancer's URL with the admin credentials (for CLI pilots). */
  authUrl: string;
  /** A new client talking to the balancer. */
  client(): CouchServer;
  /** A client for one server directly (for checks that must read one copy). */
  direct(i: 0 | 1): CouchServer;
  /** Create `name` on both servers (if missing) and replicate it both ways until `stop` is called (returned). */
  live(name: string): Promise<{ dbs: [Database, Database]; stop: () => void }>;
  stop(): Promise<void>;
}

export async function startReplicatingPair(): Promise<ReplicatingPair> {
  const username = 'admin';
  const password = randomBytes(12).toString('hex');
  const servers = [await spawnEmbeddedServer({ username, password }), await spawnEmbeddedServer({ username, password })] as [Embedded, Embedded];
  process.once('exit', () => {
    for (const s of servers) { s.child.kill('SIGKILL'); rmSync(s.dataDir, { recursive: true, force: true }); }
  });
  const balancer = await startBalancer(servers.map((s) => s.url));
  const clients: CouchServer[] = [];
  const track = (c: CouchServer) => { clients.push(c); return c; };
  const pouches: { close(): Promise<void> }[] = [];
  const cancels = new Set<() => void>();
  const auth = { username, password };
  const u = new URL(balancer.url); u.username = username; u.password = password;
  const pair: ReplicatingPair = {
    servers, balancer, username, password,
    authUrl: u.toString().replace(/\/$/, ''),
    client: () => track(new CouchServer({ url: balancer.url, username, password })),
    direct: (i) => track(new CouchServer({ url: servers[i].url, username, password })),
    async live(name) {
      const dbs = [pair.direct(0).db(name), pair.direct(1).db(name)] as [Database, Database];
      for (const d of dbs) await d.create({ ifMissing: true });
      const ends = dbs.map((_, i) => {
        const p = new PouchDB(`${servers[i]!.url}/${name}`, { auth, skip_setup: true });
        pouches.push(p);
        return p;
      });
      const feeds = [
        PouchDB.replicate(ends[0]!, ends[1]!, { live: true, retry: true }),
        PouchDB.replicate(ends[1]!, ends[0]!, { live: true, retry: true }),
      ];
      for (const f of feeds) f.on('error', (err: Error) => { process.stderr.write(`replication error: ${err.message}\n`); });
      const stop = () => { for (const f of feeds) f.cancel(); cancels.delete(stop); };
      cancels.add(stop);
      return { dbs, stop };
    },
    async stop() {
      for (const c of [...cancels]) c();
      for (const p of pouches) await p.close().catch(() => {});
      for (const c of clients) await c.close().catch(() => {});
      await balancer.close();
      for (const s of servers) { s.child.ref(); await s.stop(); rmSync(s.dataDir, { recursive: true, force: true }); }
    },
  };
  return pair;
}
