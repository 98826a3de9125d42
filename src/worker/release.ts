import type { Database } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { ClaimedToken } from '../claim/claim.js';
import { markError } from '../tokens/operations.js';
import type { Token } from '../tokens/token.js';
import { settledRows } from '../claim/confirm.js';
import { saveResult, type SaveOutcome } from './save-result.js';
import { withAttempt, type AttemptOutcome } from '../status/attempt-history.js';

/** Drop the lease part of picas's record, keeping its history (stale attempts, counters). */
export function withoutLease(token: Token): Token {
  const picas = { ...((token as { picas?: Record<string, unknown> }).picas ?? {}) };
  for (const k of ['attempt', 'pilot', 'host', 'job', 'claimed_at', 'lease_until']) delete picas[k];
  return { ...token, picas } as Token;
}

/** The server's epoch seconds, as attempt history records them. */
const serverSeconds = (db: Database): number => Math.floor(db.server.serverNow() / 1000);

/**
 * Give a held token back: to todo (lock 0, done 0) or to error with a reason. Conditional on still holding
 * it: if another attempt owns the token meanwhile, nothing of ours is written over theirs. The attempt is
 * recorded in the token's history with `outcome` (default 'interrupted': a pilot stopped by a signal while
 * running it) in the same write; `null` records nothing (a token that never started).
 */
export async function releaseToken(
  db: Database,
  token: ClaimedToken,
  to: 'todo' | 'error',
  reason: string,
  retry: RetryOptions = {},
  outcome: AttemptOutcome | null = 'interrupted',
): Promise<SaveOutcome> {
  return saveResult(db, token, (current) => {
    const ended = outcome ? withAttempt(current, outcome, serverSeconds(db)) : current;
    if (to === 'error') return markError(withoutLease(ended), reason);
    return { ...withoutLease(ended), lock: 0, done: 0 };
  }, retry);
}

/**
 * Give back tokens claimed but never started (a stopping pilot's queue) in one `_bulk_docs`, each write
 * conditional on the revision of our claim. A token changed since (taken over, reset by a person) goes
 * through `releaseToken`, which writes only if it is still ours. Returns the ids that could not be given
 * back, with why.
 */
export async function releaseUnstarted(
  db: Database,
  tokens: ClaimedToken[],
  retry: RetryOptions = {},
): Promise<{ id: string; error: string }[]> {
  if (tokens.length === 0) return [];
  const failed: { id: string; error: string }[] = [];
  let results: { ok?: boolean; error?: string }[];
  try {
    results = await withRetry(() => db.bulkDocs(tokens.map((t) => ({ ...withoutLease(t), lock: 0, done: 0 }))), retry);
  } catch {
    results = tokens.map(() => ({ error: 'bulk write failed' }));
  }
  for (const [i, r] of results.entries()) {
    if (r.ok) continue;
    const token = tokens[i]!;
    await releaseToken(db, token, 'todo', 'pilot stopped before starting it', retry, null)
      .catch((err) => failed.push({ id: token._id, error: (err as Error).message }));
  }
  return failed;
}

/** A held token named by id and the attempt that holds it (what a pilot's heartbeat or watchdog knows). */
export interface HeldAttempt {
  id: string;
  attempt: string;
}

export interface ReleaseAttemptsOptions {
  /** Count each put-back as a lost run (`picas.lost_runs`): the attempt's pilot died or lost its lease. */
  countLost?: boolean;
  /** With countLost: a token lost this many times goes to error instead of back to todo (default 3). */
  maxLost?: number;
  retry?: RetryOptions;
  /** Rounds of re-reading after conflicts (someone else wrote the token meanwhile). */
  maxRounds?: number;
}

export interface ReleaseAttemptsResult {
  /** Put back to todo. */
  released: string[];
  /** Lost too often: moved to error. */
  failed: string[];
  /** No longer held by the named attempt (finished, taken over, reset, deleted): left as they are. */
  notHeld: string[];
}

/** A token as released by `attempt`'s pilot: to todo, or to error when it was lost too often. */
function releasedByAttempt(current: Token, options: ReleaseAttemptsOptions, now: number): { doc: Token; toError: boolean } {
  if (!options.countLost) return { doc: { ...withoutLease(current), lock: 0, done: 0 }, toError: false };
  // A lost run (its pilot died or lost its lease) is recorded in the token's history, in this same write.
  const base = withoutLease(withAttempt(current, 'lost', now)) as Token & { picas: Record<string, unknown> };
  const lost = (Number(base.picas.lost_runs) || 0) + 1;
  const picas = { ...base.picas, lost_runs: lost };
  const maxLost = options.maxLost ?? 3;
  if (lost >= maxLost) {
    const reason = `lost ${lost} times: the pilots running it died or lost contact before finishing; limit ${maxLost}`;
    return { doc: markError({ ...base, picas } as Token, reason), toError: true };
  }
  return { doc: { ...base, picas, lock: 0, done: 0 } as Token, toError: false };
}

/**
 * Put back tokens held by given attempts, needing nothing but a connection, the token ids and the attempt
 * ids (a pilot's own release, or its watchdog's after the pilot died). Each write is conditional: the token
 * is read, written back only while the same attempt still holds it (locked, not done), on the revision just
 * read, all in one `_bulk_docs`; a conflict re-reads that token and decides again. A token finished, taken
 * over or reset meanwhile is left alone.
 */
export async function releaseAttempts(db: Database, held: HeldAttempt[], options: ReleaseAttemptsOptions = {}): Promise<ReleaseAttemptsResult> {
  const result: ReleaseAttemptsResult = { released: [], failed: [], notHeld: [] };
  const retry = options.retry ?? {};
  let todo = held;
  for (let round = 0; todo.length > 0 && round < (options.maxRounds ?? 10); round++) {
    const rows = (await withRetry(() => settledRows<Token>(db, todo.map((h) => h.id)), retry)).rows;
    const writes: { held: HeldAttempt; doc: Token; toError: boolean }[] = [];
    todo.forEach((h, i) => {
      const doc = rows[i]?.doc;
      const attempt = (doc as { picas?: { attempt?: unknown } } | undefined)?.picas?.attempt;
      if (!doc || attempt !== h.attempt || doc.lock === 0 || doc.done !== 0) { result.notHeld.push(h.id); return; }
      writes.push({ held: h, ...releasedByAttempt(doc, options, serverSeconds(db)) });
    });
    todo = [];
    if (writes.length === 0) break;
    const answers = await withRetry(() => db.bulkDocs(writes.map((w) => w.doc)), retry);
    const again: HeldAttempt[] = [];
    answers.forEach((a, i) => {
      const w = writes[i]!;
      if (a.ok) (w.toError ? result.failed : result.released).push(w.held.id);
      else again.push(w.held);
    });
    todo = again;
  }
  if (todo.length > 0) throw new Error(`could not put back ${todo.map((h) => h.id).join(', ')}: they kept changing`);
  return result;
}
