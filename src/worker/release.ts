import type { Database } from '../couch/database.js';
import type { RetryOptions } from '../couch/retry.js';
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
