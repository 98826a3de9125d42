import type { BulkResult, Database, Doc } from '../couch/database.js';
import { docPath } from '../couch/server.js';
import { ConflictError, NotFoundError } from '../couch/errors.js';
import { sleep } from '../couch/backoff.js';
import { finishedLoser, mergeLosers } from '../lease/replication-conflicts.js';
import type { ClaimedToken } from './claim.js';

/**
 * Deciding whether a claim (or a result) stands when the database has more than one copy of each document:
 * the nodes of a CouchDB cluster, or servers that replicate to each other behind one address.
 *
 * On one server a conditional write either wins or gets a 409. With several copies two writers can each get
 * their write accepted by a different copy; CouchDB answers `202 Accepted` when a write reached fewer copies
 * than its write quorum (a cluster's copies that refused it hold another revision), and replicating servers
 * answer `201` to both. The copies then converge on one winning revision, the same everywhere (highest
 * generation, then the highest revision id), and list the others in `_conflicts`.
 *
 * So a claim is trusted only once it is known to stand: read back with `conflicts=true` (with `r` = the
 * number of copies on a cluster, so every copy is asked) until the claim's revision has been seen and the set
 * of live revisions has stayed the same for `settleMs`. Then:
 * - the winner carries our attempt: the losing revisions are recorded in the winner as stale attempts (as
 *   src/lease/replication-conflicts.ts does) and deleted, and the claim is sealed: written once more on top of
 *   the winner, so that any revision arriving late (a generation lower) can never win over it;
 * - the winner carries another attempt: our claim lost; we delete our own revision (a losing leaf; the winner
 *   stays) and the token is not run.
 * A revision that never shows within `maxWaitMs` is treated as lost: not running a token is always safe (its
 * holder's lease expires and another pilot takes it over), running it twice is not.
 */

export type ConfirmMode = 'auto' | 'always' | 'off';

export interface ConfirmOptions {
  /**
   * 'auto' (default): confirm when the write was answered 202 or the database reports more than one copy
   * (a CouchDB cluster's `cluster.n`); 'always': confirm every claim (servers replicating to each other,
   * which cannot tell they are replicated); 'off': trust every 2xx.
   */
  mode?: ConfirmMode;
  /** The set of live revisions must stay the same this long before the claim is trusted (ms). Default: 200
   *  on a cluster (every copy is read), 1000 with mode 'always' (servers replicating to each other: it must
   *  exceed their replication delay). */
  settleMs?: number;
  /** Between read-backs (ms). Default: settleMs on a cluster (each read asks every copy, so two reads
   *  settleMs apart suffice); a quarter of it otherwise (reads through a balancer reach the servers at random,
   *  so more of them are needed to have asked each server), at least 50. */
  intervalMs?: number;
  /** Give up (treat the claim as lost) after this long (ms, default 30 s or 20 × settleMs, whichever is more). */
  maxWaitMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ConfirmStats {
  /** Writes answered 202 Accepted. */
  accepted: number;
  /** Claims read back before trusting them. */
  confirmed: number;
  /** Claims that lost to another attempt's revision (not run). */
  lost: number;
  /** Losing revisions deleted. */
  deleted: number;
}

export const confirmStats = (): ConfirmStats => ({ accepted: 0, confirmed: 0, lost: 0, deleted: 0 });

type TokenDoc = Doc & { picas?: Record<string, unknown> & { attempt?: string; stale_attempts?: { attempt?: string }[] } };

const attemptOf = (doc: TokenDoc | undefined): string | undefined => {
  const a = doc?.picas?.attempt;
  return typeof a === 'string' ? a : undefined;
};
const generation = (rev: string | undefined): number => Number.parseInt(String(rev ?? '0'), 10) || 0;

/** `_bulk_docs` that also says whether the server answered 202 Accepted (fewer copies than the quorum). */
export async function writeDocs(db: Database, docs: Doc[]): Promise<{ results: BulkResult[]; accepted: boolean }> {
  if (docs.length === 0) return { results: [], accepted: false };
  const res = await db.request<BulkResult[]>('POST', '/_bulk_docs', { body: { docs } });
  return { results: res.body, accepted: res.status === 202 };
}

/** PUT that also says whether the server answered 202 Accepted. Throws ConflictError on 409 like Database.put. */
export async function putDoc(db: Database, doc: Doc): Promise<{ rev: string; accepted: boolean }> {
  const res = await db.request<{ rev: string }>('PUT', `/${docPath(doc._id)}`, { body: doc });
  return { rev: res.body.rev, accepted: res.status === 202 };
}

const copiesCache = new WeakMap<Database, Promise<number | undefined>>();

/** How many copies of each document the database keeps (`cluster.n` of a CouchDB 2+), once per Database. */
export function copiesOf(db: Database): Promise<number | undefined> {
  let known = copiesCache.get(db);
  if (!known) {
    known = db.info().then((info) => {
      const n = Number((info as { cluster?: { n?: unknown } }).cluster?.n);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    }).catch(() => { copiesCache.delete(db); return undefined; });
    copiesCache.set(db, known);
  }
  return known;
}

const chosen = new WeakMap<Database, ConfirmOptions>();

/**
 * The confirmation a pilot chose for its database (set by its claims), so that its other writes based on a
 * read (results after a conflict, giving tokens back, its heartbeat) read settled answers too.
 */
export function useConfirm(db: Database, options: ConfirmOptions): void {
  if (options.mode || options.settleMs !== undefined) chosen.set(db, { ...chosen.get(db), ...options });
}

/** Whether writes to this database need confirming, given whether this one was answered 202. */
export async function needsConfirm(db: Database, accepted: boolean, given: ConfirmOptions = {}): Promise<boolean> {
  const options = { ...chosen.get(db), ...given };
  const mode = options.mode ?? 'auto';
  if (mode === 'off') return false;
  if (mode === 'always' || accepted) return true;
  return ((await copiesOf(db)) ?? 1) > 1;
}

async function readBack(db: Database, id: string, copies: number | undefined): Promise<TokenDoc | undefined> {
  try {
    // r = every copy: fabric waits for all of them and merges what they hold (read repair), so a revision
    // accepted by a single copy is seen.
    const query: Record<string, unknown> = { conflicts: true };
    if (copies && copies > 1) query.r = copies;
    return (await db.request<TokenDoc>('GET', `/${docPath(id)}`, { query })).body;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

async function settings(db: Database, given: ConfirmOptions) {
  const options = { ...chosen.get(db), ...given };
  const copies = await copiesOf(db);
  const settleMs = options.settleMs ?? (options.mode === 'always' && !(copies && copies > 1) ? 1_000 : 200);
  return {
    copies,
    settleMs,
    intervalMs: options.intervalMs ?? Math.max(50, Math.round(copies && copies > 1 ? settleMs : settleMs / 4)),
    maxWaitMs: options.maxWaitMs ?? Math.max(30_000, 20 * settleMs),
  };
}

/** What a read-back loop ended with: the settled winner and whether our revision is among the live ones. */
interface Settled { winner: TokenDoc | undefined; ours: boolean; recordedLost: boolean }

/**
 * Read `id` back until `rev` (or a later revision of ours on the same branch) is among its live revisions
 * and the live set has not changed for `settleMs` (at least two reads agreeing).
 */
async function settle(db: Database, id: string, rev: string, attempt: string, s: Awaited<ReturnType<typeof settings>>, signal?: AbortSignal): Promise<Settled> {
  const started = Date.now();
  let previous = '';
  let sameSince = 0;
  let agreeing = 0;
  let last: Settled = { winner: undefined, ours: false, recordedLost: false };
  for (let read = 0; read < 10_000; read++) {
    const doc = await readBack(db, id, s.copies);
    const leaves = doc ? [doc._rev!, ...(doc._conflicts ?? [])].sort() : [];
    const winnerIsOurs = attemptOf(doc) === attempt && generation(doc?._rev) >= generation(rev);
    const ours = leaves.includes(rev) || winnerIsOurs;
    const recordedLost = !!doc && attemptOf(doc) !== attempt
      && (doc.picas?.stale_attempts ?? []).some((x) => x?.attempt === attempt);
    last = { winner: doc, ours, recordedLost };
    // The winner already recorded our attempt as stale: nothing more can change our fate.
    if (recordedLost || !doc) return last;
    const key = leaves.join(',');
    const now = Date.now();
    if (key !== previous) { previous = key; sameSince = now; agreeing = 1; } else agreeing++;
    if (ours && agreeing >= 2 && now - sameSince >= s.settleMs && now - started >= s.settleMs) return last;
    if (now - started >= s.maxWaitMs || signal?.aborted) return { ...last, ours: false };
    await sleep(s.intervalMs, signal);
  }
  return { ...last, ours: false };
}

/**
 * The winner with its losing revisions recorded as stale (when there are any), written on top of it; or,
 * when a losing revision finished the token under another attempt, that revision (the claim must yield).
 */
async function sealWinner(db: Database, winner: TokenDoc, now: number): Promise<{ doc: TokenDoc; deleted: number } | { finished: TokenDoc } | undefined> {
  const losingRevs = winner._conflicts ?? [];
  let body: TokenDoc;
  if (losingRevs.length) {
    const losing: TokenDoc[] = [];
    for (const leaf of await db.bulkGet<TokenDoc>(losingRevs.map((rev) => ({ id: winner._id, rev })))) {
      if ('_rev' in leaf) losing.push(leaf as TokenDoc);
    }
    type Leaf = Parameters<typeof mergeLosers>[0];
    const finished = finishedLoser(winner as Leaf, losing as Leaf[]);
    if (finished) return { finished: finished as TokenDoc };
    body = mergeLosers(winner as Leaf, losing as Leaf[], now).merged as TokenDoc;
  } else {
    const { _conflicts, ...rest } = winner;
    void _conflicts;
    body = rest;
  }
  let rev: string;
  try {
    rev = (await putDoc(db, body)).rev;
  } catch (err) {
    if (err instanceof ConflictError) return undefined;
    throw err;
  }
  let deleted = 0;
  if (losingRevs.length) {
    const results = await db.bulkDelete(losingRevs.map((r) => ({ _id: winner._id, _rev: r })));
    deleted = results.filter((r) => r.ok).length;
  }
  return { doc: { ...body, _rev: rev }, deleted };
}

/** Delete one losing revision of ours (a live winner remains). Best effort: the winner's pilot also cleans up. */
async function dropRevision(db: Database, id: string, rev: string): Promise<boolean> {
  try {
    await db.remove(id, rev);
    return true;
  } catch (err) {
    if (err instanceof ConflictError || err instanceof NotFoundError) return false;
    throw err;
  }
}

const decided = new WeakMap<Database, Set<string>>();

/**
 * True for an attempt of this pilot whose claim answer arrived and was confirmed (standing or lost). On a
 * cluster or replicating servers a lagging view can still show such a token locked under the pilot's name
 * after it finished it; that is not a claim whose answer was lost, and must not be given back. (Kept only
 * where claims are confirmed: on one server views do not show such old states.)
 */
export function confirmedAttempt(db: Database, attempt: string | undefined): boolean {
  return attempt !== undefined && (decided.get(db)?.has(attempt) ?? false);
}

/**
 * Keep only the claims that stand (see the top of this file). `accepted`: the claim write was answered 202.
 * Returns the standing claims with their sealed revisions; the others are dropped (never run).
 */
export async function confirmClaims(
  db: Database, claimed: ClaimedToken[], accepted: boolean, options: ConfirmOptions = {}, stats?: ConfirmStats,
): Promise<ClaimedToken[]> {
  if (stats && accepted) stats.accepted++;
  useConfirm(db, options);
  if (claimed.length === 0 || !(await needsConfirm(db, accepted, options))) return claimed;
  const seen = decided.get(db) ?? decided.set(db, new Set()).get(db)!;
  for (const c of claimed) seen.add(c.picas.attempt);
  const s = await settings(db, options);
  const out = await Promise.all(claimed.map((c) => confirmOne(db, c, s, options, stats)));
  return out.filter((c): c is ClaimedToken => !!c);
}

async function confirmOne(
  db: Database, claim: ClaimedToken, s: Awaited<ReturnType<typeof settings>>, options: ConfirmOptions, stats?: ConfirmStats,
): Promise<ClaimedToken | undefined> {
  const attempt = claim.picas.attempt;
  if (stats) stats.confirmed++;
  for (let round = 0; round < 5; round++) {
    const { winner, ours, recordedLost } = await settle(db, claim._id, claim._rev, attempt, s, options.signal);
    if (winner && ours && attemptOf(winner) === attempt) {
      const sealed = await sealWinner(db, winner, Math.floor(db.server.serverNow() / 1000));
      // Someone changed the winner meanwhile (another pilot cleaning up): read again.
      if (!sealed) continue;
      if ('finished' in sealed) {
        // The claim was made from a copy that had not yet seen the token's result, and won the tie-break
        // of revision ids: the result stands. Deleting our revision makes it the winner everywhere.
        if (stats) stats.lost++;
        options.log?.(`${claim._id}: claim not confirmed (attempt ${attemptOf(sealed.finished) ?? '(none)'} had finished this token on another copy); not running it`);
        if (await dropRevision(db, claim._id, winner._rev!) && stats) stats.deleted++;
        return undefined;
      }
      if (stats) stats.deleted += sealed.deleted;
      if (sealed.deleted) options.log?.(`${claim._id}: claim confirmed over ${sealed.deleted} competing revision(s), which were recorded as stale and deleted`);
      return { ...(sealed.doc as ClaimedToken) };
    }
    if (stats) stats.lost++;
    const why = recordedLost ? 'the winning attempt recorded ours as stale'
      : !winner ? 'the token is gone'
        : ours ? `attempt ${attemptOf(winner) ?? '(none)'} holds the winning revision`
          : 'our revision never showed up when read back';
    options.log?.(`${claim._id}: claim not confirmed (${why}); not running it`);
    if (winner && (winner._conflicts ?? []).includes(claim._rev) && await dropRevision(db, claim._id, claim._rev) && stats) stats.deleted++;
    return undefined;
  }
  options.log?.(`${claim._id}: claim not confirmed (the token kept changing while it was read back); not running it`);
  if (stats) stats.lost++;
  return undefined;
}

/**
 * After a write of our own on a document only we write (a result on a token we hold, a pilot's heartbeat):
 * once its live revisions have settled, delete every losing revision that carries the same attempt (or, with
 * `attempt` undefined, every losing revision): copies of our own writes that a retry landed on a lagging
 * copy. Returns how many were deleted.
 */
export async function dropOwnConflicts(
  db: Database, id: string, rev: string, attempt: string | undefined, options: ConfirmOptions = {},
): Promise<number> {
  const s = await settings(db, options);
  const { winner } = await settle(db, id, rev, attempt ?? '', { ...s, maxWaitMs: Math.min(s.maxWaitMs, 5 * s.settleMs + 2_000) }, options.signal);
  if (!winner?._conflicts?.length) return 0;
  if (attempt !== undefined && attemptOf(winner) !== attempt) return 0;
  let dropped = 0;
  const leaves = await db.bulkGet<TokenDoc>(winner._conflicts.map((r) => ({ id, rev: r })));
  for (const leaf of leaves) {
    if (!('_rev' in leaf)) continue;
    const doc = leaf as TokenDoc;
    if (attempt !== undefined && attemptOf(doc) !== attempt) continue;
    if (await dropRevision(db, id, doc._rev!)) dropped++;
  }
  if (dropped) options.log?.(`${id}: ${dropped} duplicate revision(s) of our own write deleted`);
  return dropped;
}

/**
 * Documents as they stand once every copy agrees: on a cluster or replicating servers (see needsConfirm), read
 * until two reads at least `settleMs` apart give the same revisions and conflicts; otherwise one plain read.
 * For writes based on what is read (giving a token back, re-reading after a 409): a read from a lagging copy
 * would make the write a competing revision of a newer one.
 */
export async function settledRows<T extends Doc = Doc>(db: Database, ids: string[], options: ConfirmOptions = {}): Promise<{ rows: { id?: string; key: unknown; doc?: T | null }[] }> {
  if (!(await needsConfirm(db, false, options))) return db.allDocs<T>({ keys: ids, include_docs: true });
  const s = await settings(db, options);
  const started = Date.now();
  let previous = '';
  let sameSince = 0;
  for (;;) {
    const result = await db.allDocs<T>({ keys: ids, include_docs: true, conflicts: true });
    const key = JSON.stringify(result.rows.map((r) => [r.doc?._rev, r.doc?._conflicts ?? []]));
    const now = Date.now();
    if (key !== previous) { previous = key; sameSince = now; } else if (now - sameSince >= s.settleMs) return result;
    if (now - started >= s.maxWaitMs || options.signal?.aborted) return result;
    await sleep(s.intervalMs, options.signal);
  }
}

/** One document as it stands once every copy agrees (see settledRows). Throws NotFoundError like Database.get. */
export async function settledGet<T extends Doc = Doc>(db: Database, id: string, options: ConfirmOptions = {}): Promise<T> {
  if (!(await needsConfirm(db, false, options))) return db.get<T>(id);
  const row = (await settledRows<T>(db, [id], options)).rows[0];
  if (!row?.doc) return db.get<T>(id);
  const { _conflicts, ...doc } = row.doc;
  void _conflicts;
  return doc as T;
}
