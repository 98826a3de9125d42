import type { Database, Doc } from '../couch/database.js';
import { ConflictError } from '../couch/errors.js';
import type { StaleAttempt } from '../tokens/picas-record.js';

/**
 * Replicated databases (two CouchDB servers replicating to each other, or the nodes of a cluster) accept
 * two claims of one token made on different servers at nearly the same time: both writes succeed, and once
 * replication has carried each to the other side the token has two live revisions. CouchDB then picks the
 * same winner everywhere (the revision a plain GET returns; the others are listed in `_conflicts`), so a
 * pilot can tell whether its attempt won by comparing the winner's `picas.attempt` with its own.
 *
 * The rules that make this converge:
 * - The pilot whose attempt is in the winner keeps running; it records every losing attempt in the
 *   winner's `picas.stale_attempts` and then deletes the losing revisions (a deleted revision never wins).
 * - The pilot whose attempt lost stops its command and writes nothing on its own revision: an edit there
 *   would raise that branch's generation and could make it the winner again.
 * - A losing pilot cleans up on the winner's behalf only after the winner had a few rounds to do it (the
 *   winning pilot may already have finished and stopped watching).
 */

export interface HeldAttempt {
  id: string;
  /** `picas.attempt` written by our claim. */
  attempt: string;
}

export interface ConflictCheck {
  /** Tokens whose winning revision belongs to another attempt: stop their commands, write nothing. */
  lost: string[];
  /** Tokens whose losing revisions we recorded and deleted in this round. */
  resolved: string[];
}

export interface CheckOptions {
  /** Tokens to clean up even though we lost them (the winner did not do it in time). */
  cleanUpLost?: ReadonlySet<string>;
  log?: (line: string) => void;
}

type TokenDoc = Doc & { picas?: Record<string, unknown> & { attempt?: string; stale_attempts?: StaleAttempt[] } };

const attemptOf = (doc: TokenDoc | undefined): string | undefined => {
  const a = doc?.picas?.attempt;
  return typeof a === 'string' ? a : undefined;
};

/**
 * Check the tokens this pilot holds for replication conflicts: one `_all_docs` request (winners with their
 * `_conflicts`) for all of them; only when there are conflicts to clean up, one `_bulk_get` for the losing
 * revisions and, per token, one conditional write of the winner and one `_bulk_docs` of deletions.
 */
export async function checkHeldTokens(db: Database, held: HeldAttempt[], options: CheckOptions = {}): Promise<ConflictCheck> {
  const result: ConflictCheck = { lost: [], resolved: [] };
  if (held.length === 0) return result;
  const mine = new Map(held.map((h) => [h.id, h.attempt]));
  const rows = (await db.allDocs<TokenDoc>({ keys: [...mine.keys()], include_docs: true, conflicts: true })).rows;
  const toResolve: TokenDoc[] = [];
  for (const row of rows) {
    const id = typeof row.key === 'string' ? row.key : row.id;
    const doc = row.doc ?? undefined;
    // A token deleted meanwhile is not ours to judge here: saving its result reports that.
    if (!id || !doc || !mine.has(id)) continue;
    const won = attemptOf(doc) === mine.get(id);
    if (!won) result.lost.push(id);
    if (doc._conflicts?.length && (won || options.cleanUpLost?.has(id))) toResolve.push(doc);
  }
  if (toResolve.length === 0) return result;

  const refs = toResolve.flatMap((w) => (w._conflicts ?? []).map((rev) => ({ id: w._id, rev })));
  const leaves = new Map<string, TokenDoc[]>();
  for (const leaf of await db.bulkGet<TokenDoc>(refs)) {
    // Tokens have an `error` field of their own: an unreadable revision is the entry without a `_rev`.
    if (!('_rev' in leaf)) continue;
    const doc = leaf as TokenDoc;
    (leaves.get(doc._id) ?? leaves.set(doc._id, []).get(doc._id)!).push(doc);
  }
  const now = Math.floor(db.server.serverNow() / 1000);
  for (const winner of toResolve) {
    const losing = leaves.get(winner._id) ?? [];
    const finished = finishedLoser(winner, losing);
    if (finished) {
      // A claim won the tie-break over a finished result (the claim was made from a copy that had not seen
      // the result yet): the result stands. The claim's revision is deleted, so the result is the winner
      // everywhere, and a claim of ours is lost: its command stops and writes nothing.
      await db.bulkDelete([{ _id: winner._id, _rev: winner._rev! }]);
      options.log?.(`${winner._id}: replication conflict: attempt ${attemptOf(finished) ?? '(none)'} had finished this token on another copy; the claim of attempt ${attemptOf(winner) ?? '(none)'} was deleted so that its result stands`);
      // A winner of another attempt (cleaned up on its behalf) is in `lost` already; ours joins it.
      if (!result.lost.includes(winner._id)) result.lost.push(winner._id);
      continue;
    }
    if (await resolveOne(db, winner, losing, now, options.log)) result.resolved.push(winner._id);
  }
  return result;
}

/**
 * A losing revision that finished the token (`done` set) under another attempt than the winner's, when the
 * winner itself is not finished: a result must never be recorded as a stale attempt and deleted because a
 * claim made from a lagging copy won the revision tie-break (both one generation above the claim they
 * branched from). Undefined when there is none.
 */
export function finishedLoser(winner: TokenDoc, losing: TokenDoc[]): TokenDoc | undefined {
  if (Number(winner.done) > 0) return undefined;
  return losing.find((leaf) => Number(leaf.done) > 0 && !leaf._deleted && attemptOf(leaf) !== attemptOf(winner));
}

/** The winner with every losing attempt recorded as stale (and stale records found on losing revisions kept). */
export function mergeLosers(winner: TokenDoc, losing: TokenDoc[], now: number): { merged: TokenDoc; added: number } {
  const picas = { ...(winner.picas ?? {}) };
  const stale: StaleAttempt[] = Array.isArray(picas.stale_attempts) ? [...picas.stale_attempts] : [];
  const known = new Set(stale.map((s) => s.attempt));
  const winning = attemptOf(winner);
  let added = 0;
  const add = (record: StaleAttempt) => {
    if (!record?.attempt || known.has(record.attempt) || record.attempt === winning) return;
    known.add(record.attempt);
    stale.push(record);
    added++;
  };
  for (const leaf of losing) {
    for (const s of Array.isArray(leaf.picas?.stale_attempts) ? leaf.picas!.stale_attempts : []) add(s);
    const attempt = attemptOf(leaf);
    if (!attempt) continue;
    const p = leaf.picas!;
    add({
      attempt,
      pilot: String(p.pilot ?? ''),
      host: String(p.host ?? ''),
      recorded_at: now,
      ...(Number(leaf.done) > 0 ? { exit_code: leaf.exit_code } : {}),
      note: `claimed on another replica at the same time as attempt ${winning ?? '(none)'}; lost the replication conflict (revision ${leaf._rev} deleted)`,
    });
  }
  const { _conflicts, ...body } = winner;
  void _conflicts;
  return { merged: { ...body, picas: { ...picas, stale_attempts: stale } }, added };
}

/** Record the losers in the winner (conditional on its revision), then delete the losing revisions. */
async function resolveOne(db: Database, winner: TokenDoc, losing: TokenDoc[], now: number, log?: (line: string) => void): Promise<boolean> {
  const { merged, added } = mergeLosers(winner, losing, now);
  if (added > 0) {
    try {
      await db.put(merged);
    } catch (err) {
      // The winner changed meanwhile (its pilot saved a result): the next round reads it again.
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }
  const revs = winner._conflicts ?? [];
  // A revision that is no longer a leaf (someone deleted or edited it) answers 409: nothing left to do there.
  await db.bulkDelete(revs.map((rev) => ({ _id: winner._id, _rev: rev })));
  log?.(`${winner._id}: replication conflict resolved: attempt ${attemptOf(winner) ?? '(none)'} won; ${revs.length} losing revision(s) recorded as stale and deleted`);
  return true;
}

export interface ConflictWatchOptions {
  log?: (line: string) => void;
  /** Rounds a released token is still watched: the other revision may arrive after our result (default 5). */
  lingerRounds?: number;
  /** Rounds a losing pilot leaves the cleanup to the winner before doing it itself (default 2). */
  adoptAfterRounds?: number;
}

interface Watched { attempt: string; abort?: AbortController; lost: boolean; rounds: number }

/**
 * A pilot's view of its tokens for replication conflicts: `hold` gives each running token a signal that
 * aborts when its attempt loses a conflict; `check` (called at every lease renewal) is one request for all
 * held and recently released tokens. Failures are logged, never thrown: a missed round is caught up next time.
 */
export class ConflictWatch {
  private readonly held = new Map<string, Watched>();
  private readonly lingering = new Map<string, Watched>();
  private running: Promise<void> | undefined;
  checks = 0;
  lost = 0;
  resolved = 0;

  constructor(private readonly db: Database, private readonly options: ConflictWatchOptions = {}) {}

  hold(id: string, attempt: string): AbortSignal {
    const abort = new AbortController();
    this.lingering.delete(id);
    this.held.set(id, { attempt, abort, lost: false, rounds: 0 });
    return abort.signal;
  }

  release(id: string): void {
    const w = this.held.get(id);
    if (!w) return;
    this.held.delete(id);
    this.lingering.set(id, { attempt: w.attempt, lost: w.lost, rounds: 0 });
  }

  /** One round; concurrent calls share it. */
  check(): Promise<void> {
    this.running ??= this.checkOnce().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    const log = this.options.log;
    const watched = new Map<string, Watched>([...this.lingering, ...this.held]);
    if (watched.size === 0) return;
    const adoptAfter = this.options.adoptAfterRounds ?? 2;
    const cleanUpLost = new Set([...this.lingering].filter(([, w]) => w.lost && w.rounds >= adoptAfter).map(([id]) => id));
    let outcome: ConflictCheck;
    try {
      outcome = await checkHeldTokens(this.db, [...watched].map(([id, w]) => ({ id, attempt: w.attempt })), { cleanUpLost, log });
    } catch (err) {
      log?.(`replication conflict check failed (${(err as Error).message}); trying again at the next renewal`);
      return;
    }
    this.checks++;
    this.resolved += outcome.resolved.length;
    for (const id of outcome.lost) {
      const checked = watched.get(id)!;
      const now = this.held.get(id) ?? this.lingering.get(id);
      // The same token may have been released and claimed again (another attempt) while we were asking.
      if (!now || now.attempt !== checked.attempt || now.lost) continue;
      now.lost = true;
      if (now.abort) {
        this.lost++;
        log?.(`${id}: another attempt won a replication conflict over attempt ${now.attempt}: stopping its command; its result will not be saved`);
        now.abort.abort(new Error('lost a replication conflict'));
      }
    }
    const limit = this.options.lingerRounds ?? 5;
    for (const id of outcome.resolved) if (this.lingering.get(id)?.lost) this.lingering.delete(id);
    for (const [id, w] of this.lingering) if (++w.rounds > limit) this.lingering.delete(id);
  }
}
