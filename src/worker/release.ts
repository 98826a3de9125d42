import type { Database } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { ClaimedToken } from '../claim/claim.js';
import { markError } from '../tokens/operations.js';
import type { Token } from '../tokens/token.js';
import { saveResult, type SaveOutcome } from './save-result.js';

/** Drop the lease part of picas's record, keeping its history (stale attempts, counters). */
export function withoutLease(token: Token): Token {
  const picas = { ...((token as { picas?: Record<string, unknown> }).picas ?? {}) };
  for (const k of ['attempt', 'pilot', 'host', 'job', 'claimed_at', 'lease_until']) delete picas[k];
  return { ...token, picas } as Token;
}

/**
 * Give a held token back: to todo (lock 0, done 0) or to error with a reason. Conditional on still holding
 * it: if another attempt owns the token meanwhile, nothing of ours is written over theirs.
 */
export async function releaseToken(
  db: Database,
  token: ClaimedToken,
  to: 'todo' | 'error',
  reason: string,
  retry: RetryOptions = {},
): Promise<SaveOutcome> {
  return saveResult(db, token, (current) => {
    if (to === 'error') return markError(withoutLease(current), reason);
    return { ...withoutLease(current), lock: 0, done: 0 };
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
    await releaseToken(db, token, 'todo', 'pilot stopped before starting it', retry)
      .catch((err) => failed.push({ id: token._id, error: (err as Error).message }));
  }
  return failed;
}
