import { createRequire } from 'node:module';

/**
 * `update=false` and `update=lazy` view reads that answer from the index as it is, at once, even while
 * the index is being brought up to date.
 *
 * PouchDB runs every read and every update of one view through one queue, and an update holds that queue
 * until the index has caught up with the whole database: after a push of 20,000 tokens a "stale" read
 * waited seconds behind an indexer that some other read had started, so `picas status` hung exactly when
 * it promised to say "catching up" instead (CouchDB answers such reads from the last committed index).
 *
 * PouchDB's query code lives twice on disk: bundled inside pouchdb-node (used for every other query and
 * for all index updates) and as pouchdb-abstract-mapreduce of the same version, whose queues are its own
 * (pouchdb-find uses that copy too, for Mango indexes: other view names, other queues).
 * Stale reads go through the second: same view databases (found by the same signature, shared through
 * the database's view cache), a queue of their own. Each index batch is written in one LevelDB batch,
 * so a read between batches sees whole batches; its `update_seq` is the one from before the update in
 * progress (PouchDB sets it at the end), which errs on the side of "behind".
 *
 * Reads still wait for each other on this path, as on PouchDB's (a second copy whose queues are off was
 * tried: a one-row read asked beside a 20,000-row read still answered after it in two tries of three, the
 * large read keeping the one thread busy); the dashboard's chart no longer makes large reads after its
 * first (dashboard/throughput.ts).
 *
 * Only map reads take this path (PouchDB's built-in reducers are not exported, and reduce reads with
 * update=false are rare): anything this path cannot answer falls back to the ordinary query, which
 * also produces the canonical error.
 */
const require = createRequire(import.meta.url);
const createAbstractMapReduce = require('pouchdb-abstract-mapreduce') as (
  localDocName: string,
  mapper: (mapFun: unknown, emit: unknown) => unknown,
  reducer: (reduceFun: unknown) => unknown,
  ddocValidator: (ddoc: { views?: Record<string, { map?: unknown }> }, viewName: string) => void,
) => { query: (this: unknown, name: string, opts: Record<string, unknown>) => Promise<unknown> };

class NotForThisPath extends Error {}

const staleReader = createAbstractMapReduce(
  // PouchDB's own name for the list of a database's view indexes (view cleanup reads it).
  'mrviews',
  () => { throw new NotForThisPath('stale reads never update an index'); },
  () => { throw new NotForThisPath('reduce reads go through the ordinary query'); },
  (ddoc, viewName) => { if (typeof ddoc.views?.[viewName]?.map !== 'string') throw new NotForThisPath('not a JavaScript map view'); },
);

/**
 * The two copies must name view databases alike: with another version beside pouchdb-node's the second
 * copy could read an index of its own, empty, and answer "no rows". Off unless the versions are the same.
 */
const versionOf = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
export const staleReadsBypassQueue = versionOf('pouchdb-abstract-mapreduce') === versionOf('pouchdb-node');

interface QueryableDb { query(name: string, opts: Record<string, unknown>): Promise<any> }

/** `db.query(name, opts)`, with `stale: 'ok'` / `'update_after'` map reads answered without queueing behind an index update. */
export async function queryView(db: QueryableDb, name: string, opts: Record<string, unknown>): Promise<any> {
  const stale = opts.stale;
  if (!staleReadsBypassQueue || (stale !== 'ok' && stale !== 'update_after')) return db.query(name, opts);
  let result: unknown;
  try {
    result = await staleReader.query.call(db, name, { ...opts, stale: 'ok' });
  } catch {
    return db.query(name, opts);
  }
  // `update=lazy`: bring the index up to date after answering, through PouchDB's own queue.
  if (stale === 'update_after') db.query(name, { stale: 'update_after', limit: 0, reduce: false }).catch(() => undefined);
  return result;
}
