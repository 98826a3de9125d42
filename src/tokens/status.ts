import type { Database, ViewResult } from '../couch/database.js';
import { DatabaseNotFoundError, NotFoundError } from '../couch/errors.js';
import { TOKEN_STATES, tokenState, type TokenState } from './state.js';
import type { Token } from './token.js';

export type StateCounts = Record<TokenState, number>;

/** The counts per state and how they were read. */
export interface StateSnapshot {
  counts: StateCounts;
  /**
   * True when the four counts describe one moment: every token is counted once, in the state it had then,
   * so the counts add up to the tokens in the four states. False only while an index is catching up with
   * more changes than can be reconciled in one read, or, on a large database on the embedded server, while
   * pilots change tokens faster than the views can be reconciled (the counts are then each view's own).
   */
  consistent: boolean;
  /** Changes the state views have not indexed yet (0 when up to date; approximate on CouchDB). */
  indexLag: number;
  /** The views are far behind the database (a large push): counts are from the index as it is. */
  catchingUp: boolean;
  /** Where the counts came from: the state views' sizes, or the overview_total view's grouped sum. */
  source: 'views' | 'overview';
}

export interface SnapshotOptions {
  /** Bring the views up to date first when they lag by at most this many changes (default 1,000). */
  maxLagToUpdate?: number;
  /** Reconcile views read at different sequences through at most this many changed documents (default 5,000). */
  maxReconcile?: number;
  /**
   * When pilots change tokens faster than the four views can be reconciled, count from the one
   * `overview_total` view instead, if the database holds at most this many documents (default 50,000).
   * On the embedded server that reads every row, so larger databases answer unreconciled instead.
   */
  maxOverviewFallback?: number;
  /**
   * When the views lag: ask the server to go on indexing after answering (`update=lazy`; default true).
   * False leaves that to the caller (`catchUp()`), who may first make its other reads: on the embedded
   * server the indexing then runs in the same process as those reads.
   */
  kick?: boolean;
}

/** The numeric part of an update sequence: a number on PouchDB, `N-opaque` on CouchDB 2+ (a sum over shards). */
export function seqNumber(seq: unknown): number {
  if (typeof seq === 'number') return seq;
  const n = parseInt(String(seq ?? '0'), 10);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Counts per state as one consistent snapshot (see StateSnapshot), in constant time once the views are
 * built. Each state view holds one row per token in that state, so its `total_rows` (asked with
 * `limit=0`) is the count. The four views are read together with their update sequences: on CouchDB they
 * share one index and come back at the same sequence; when they do not (the embedded server indexes each
 * view on its own, and pilots keep `todo` moving), the documents changed between the lowest and the
 * highest sequence are taken out of every view's count and counted once, by their current state: every
 * other token is in the same state in all four views. Never computed as total minus the others.
 *
 * A view that lags by more than `maxLagToUpdate` changes is not waited for (that would hang while a large
 * push is indexed): the answer is the index as it is, with `catchingUp`, and the server is asked to go on
 * indexing in the background (`update=lazy`).
 */
export async function readStateSnapshot(db: Database, design = 'Monitor', options: SnapshotOptions = {}): Promise<StateSnapshot> {
  const maxLag = options.maxLagToUpdate ?? 1_000;
  let stale: ViewResult[];
  let dbSeq: number;
  let docCount: number;
  try {
    const info = await db.info();
    if (isClusteredSeq(info.update_seq)) return await sharedIndexSnapshot(db, design, maxLag, options);
    stale = await Promise.all(TOKEN_STATES.map((state) => db.view(design, state, { limit: 0, update: 'false', update_seq: true })));
    dbSeq = seqNumber(info.update_seq);
    docCount = Number(info.doc_count) || 0;
  } catch (err) {
    // A design document without one of the state views; a missing database is said as such.
    if (err instanceof DatabaseNotFoundError || !(err instanceof NotFoundError)) throw err;
    return overviewSnapshot(db, design);
  }
  if (!stale.every((r) => typeof r.total_rows === 'number')) return overviewSnapshot(db, design);
  const lag = Math.max(0, ...stale.map((r) => dbSeq - seqNumber(r.update_seq)));
  if (lag > maxLag) {
    // Far behind: answer now from the index as it is; ask the server to keep indexing after answering.
    if (options.kick !== false) await catchUp(db, design);
    // More changes than status waits for: each view's count as it is (reconciling would mean reading the
    // documents of every change not indexed yet).
    return { counts: countsOf(stale), consistent: false, indexLag: lag, catchingUp: true, source: 'views' };
  }
  for (let attempt = 0; ; attempt++) {
    const fresh = lag === 0 && attempt === 0 ? stale
      : await Promise.all(TOKEN_STATES.map((state) => db.view(design, state, { limit: 0, update_seq: true })));
    const counts = await reconcile(db, design, fresh, options.maxReconcile ?? 5_000);
    if (counts) return { counts, consistent: true, indexLag: 0, catchingUp: false, source: 'views' };
    if (attempt >= 2) {
      // The views keep moving under busy pilots (every round saw new changes). One view holds each token
      // once, so its grouped sum is one snapshot by construction: affordable on a small database.
      if (docCount <= (options.maxOverviewFallback ?? 50_000)) return overviewSnapshot(db, design);
      return { counts: countsOf(fresh), consistent: false, indexLag: 0, catchingUp: false, source: 'views' };
    }
  }
}

const overviewSnapshot = async (db: Database, design: string): Promise<StateSnapshot> =>
  ({ counts: await countStatesByOverview(db, design), consistent: true, indexLag: 0, catchingUp: false, source: 'overview' });

/** CouchDB 2 and later answer update sequences as `N-opaque` strings; PouchDB as numbers. */
export const isClusteredSeq = (seq: unknown): boolean => typeof seq === 'string' && /^\d+-/.test(seq);

/** The state of a design document's one index on CouchDB: its sequence, and the changes it has not indexed. */
async function indexState(db: Database, design: string): Promise<{ seq: string; pending: number }> {
  const body = (await db.request<{ view_index?: { update_seq?: unknown; updates_pending?: { total?: number } } }>(
    'GET', `/_design/${encodeURIComponent(design)}/_info`)).body;
  return { seq: JSON.stringify(body.view_index?.update_seq ?? null), pending: Number(body.view_index?.updates_pending?.total ?? 0) };
}

/**
 * Counts on CouchDB, where the views of one design document share one index. A view's own `update_seq`
 * says nothing of lag there: it sums only the shards that hold rows of that view, so an empty view answers
 * `0-…` and a view whose rows sit on one shard lags behind the database for ever (status said "index
 * catching up" for good whenever a state was empty). The design document's `_info` tells the index's
 * pending changes instead. The counts come from `overview_total` grouped by state: one request, so one
 * index state (four size queries saw pilots' claims move the index between them), and cheap on CouchDB,
 * which keeps `_sum` reductions in its b-tree (the embedded server would read every row).
 */
async function sharedIndexSnapshot(db: Database, design: string, maxLag: number, options: SnapshotOptions): Promise<StateSnapshot> {
  const { pending } = await indexState(db, design);
  if (pending > maxLag) {
    // Far behind: answer now from the index as it is; ask the server to keep indexing after answering.
    const counts = await countStatesByOverview(db, design, { update: 'false' });
    if (options.kick !== false) await catchUp(db, design);
    return { counts, consistent: false, indexLag: pending, catchingUp: true, source: 'overview' };
  }
  return { counts: await countStatesByOverview(db, design), consistent: true, indexLag: 0, catchingUp: false, source: 'overview' };
}

/** Ask the server to bring the state views up to date after answering (`update=lazy`): nothing waits for it. */
export async function catchUp(db: Database, design = 'Monitor'): Promise<void> {
  await Promise.all(TOKEN_STATES.map((state) => db.view(design, state, { limit: 0, update: 'lazy' }).catch(() => undefined)));
}

/**
 * Counts per state as one consistent snapshot, with the views brought up to date first however far behind
 * they are (what tests, benches and scripts want: exact counts). `picas status` and the dashboard use
 * readStateSnapshot, which answers at once from a lagging index and says so.
 */
export async function countStates(db: Database, design = 'Monitor'): Promise<StateCounts> {
  return (await readStateSnapshot(db, design, { maxLagToUpdate: Number.POSITIVE_INFINITY })).counts;
}

const countsOf = (views: ViewResult[]): StateCounts =>
  Object.fromEntries(TOKEN_STATES.map((state, i) => [state, views[i]!.total_rows ?? 0])) as StateCounts;

/**
 * The counts of four views read at update sequences `views[i].update_seq`, made into one snapshot; undefined
 * when that cannot be done in a bounded number of reads (too many changes between them, or views moving).
 */
async function reconcile(db: Database, design: string, views: ViewResult[], maxDocs: number): Promise<StateCounts | undefined> {
  const seqs = views.map((r) => r.update_seq);
  const nums = seqs.map(seqNumber);
  const low = seqs[nums.indexOf(Math.min(...nums))];
  const high = Math.max(...nums);
  // Documents changed after the lowest view's sequence. The feed is read up to its end, which covers the
  // highest view's sequence: every document not named here had the same state for all four views. Read
  // even when the four sequences are equal: a view records the sequence of a change, but may have indexed
  // a newer revision of that document (PouchDB reads documents as they are when it indexes), and such a
  // document shows up here, with its newer sequence.
  const feed = await db.changes({ since: low, limit: maxDocs + 1 });
  if (feed.results.length > maxDocs || seqNumber(feed.last_seq) < high) return undefined;
  const changed = new Set(feed.results.map((r) => r.id).filter((id) => !id.startsWith('_design/')));
  let covered = feed.last_seq;
  // Each view's count and its rows for the changed documents from one answer: the count without them is
  // the count of the unchanged tokens in that state. Then the feed is read on: a document changed
  // meanwhile may already be in a view's count by its new state (pilots keep `todo` indexing), so it joins
  // the changed set and the views are asked again, until a round passes with no new change.
  let parts: ViewResult[] | undefined;
  for (let round = 0; round < 6 && !parts; round++) {
    if (changed.size === 0) return countsOf(views);
    const answers = await Promise.all(TOKEN_STATES.map((state) => db.view(design, state, { keys: [...changed], update: 'false' })));
    if (answers.some((p) => typeof p.total_rows !== 'number')) return undefined;
    const more = await db.changes({ since: covered, limit: maxDocs + 1 });
    covered = more.last_seq;
    const before = changed.size;
    for (const r of more.results) if (!r.id.startsWith('_design/')) changed.add(r.id);
    if (changed.size > maxDocs) return undefined;
    if (changed.size === before) parts = answers;
  }
  if (!parts) return undefined;
  const counts = Object.fromEntries(TOKEN_STATES.map((state, i) => [state, parts![i]!.total_rows! - new Set(parts![i]!.rows.map((r) => r.id)).size])) as StateCounts;
  // The changed documents, counted once each by their current state. Outside the standard Monitor a
  // document belongs to the design only when some view listed it (its extra condition held).
  const listed = new Set(parts.flatMap((p) => p.rows.map((r) => String(r.id))));
  const docs = await db.allDocs<Token>({ keys: [...changed], include_docs: true });
  for (const row of docs.rows) {
    const doc = row.doc;
    if (!doc) continue;
    if (design !== 'Monitor' && !listed.has(String(row.id))) continue;
    const state = tokenState(doc);
    if (state) counts[state]++;
  }
  return counts;
}

/** Counts per state from the design document's `overview_total` view (one request, reduced by the server). */
export async function countStatesByOverview(db: Database, design = 'Monitor', params: { update?: 'false' } = {}): Promise<StateCounts> {
  const result = await db.view<number>(design, 'overview_total', { group: true, ...params });
  const counts = Object.fromEntries(TOKEN_STATES.map((s) => [s, 0])) as StateCounts;
  for (const row of result.rows) {
    if (typeof row.key === 'string' && (TOKEN_STATES as readonly string[]).includes(row.key)) {
      counts[row.key as TokenState] = Number(row.value) || 0;
    }
  }
  return counts;
}
