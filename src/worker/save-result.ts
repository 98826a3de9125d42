import type { Database } from '../couch/database.js';
import { ConflictError } from '../couch/errors.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { ClaimedToken } from '../claim/claim.js';
import type { Token } from '../tokens/token.js';
import type { StaleAttempt } from '../tokens/picas-record.js';
import { dropOwnConflicts, putDoc, settledGet } from '../claim/confirm.js';

/** What happened to a result: saved as the token's result, or kept as a record of a superseded attempt. */
export type SaveOutcome =
  | { kind: 'saved'; rev: string; token: Token }
  | { kind: 'stale'; rev: string; owner: string | undefined };

export type { StaleAttempt };

const attemptOf = (doc: Token | undefined): string | undefined =>
  (doc as { picas?: { attempt?: string } } | undefined)?.picas?.attempt;

/**
 * Save a finished attempt's result without ever dropping it. `apply` turns a token (as it is now in the
 * database) into the token with this result. Written conditional on the revision the attempt holds; on a
 * conflict the token is re-read: if this attempt still owns it (someone else touched other fields, e.g. a
 * user or a lease renewal), the result is applied again and saved; if another attempt owns it now, the
 * result is kept on the token as a stale-attempt record, never as its result.
 */
export async function saveResult(
  db: Database,
  claimed: ClaimedToken,
  apply: (current: Token) => Token,
  options: RetryOptions & { maxConflicts?: number; summary?: (t: Token) => Record<string, unknown> } = {},
): Promise<SaveOutcome> {
  let current: Token = claimed;
  const maxConflicts = options.maxConflicts ?? 20;
  for (let i = 0; i <= maxConflicts; i++) {
    if (attemptOf(current) !== claimed.picas.attempt) {
      return recordStale(db, claimed, current, apply, options);
    }
    const next = apply(current);
    try {
      const { rev, accepted } = await withRetry(() => putDoc(db, next), options);
      if (accepted) await dropOwnConflicts(db, next._id, rev, claimed.picas.attempt).catch(() => 0);
      return { kind: 'saved', rev, token: { ...next, _rev: rev } };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      current = await withRetry(() => settledGet<Token>(db, claimed._id), options);
    }
  }
  throw new Error(`token ${claimed._id}: the result could not be saved after ${maxConflicts} conflicts in a row`);
}

async function recordStale(
  db: Database,
  claimed: ClaimedToken,
  current: Token,
  apply: (current: Token) => Token,
  options: RetryOptions & { maxConflicts?: number },
): Promise<SaveOutcome> {
  const result = apply(claimed);
  const record: StaleAttempt = {
    attempt: claimed.picas.attempt,
    pilot: claimed.picas.pilot,
    host: claimed.picas.host,
    recorded_at: Math.floor(Date.now() / 1000),
    exit_code: result.exit_code,
    note: 'this attempt lost the token before its result was saved; kept as a record, not as the result',
  };
  for (let i = 0; i <= (options.maxConflicts ?? 20); i++) {
    const picas = { ...((current as { picas?: Record<string, unknown> }).picas ?? {}) };
    const stale = Array.isArray(picas.stale_attempts) ? picas.stale_attempts as StaleAttempt[] : [];
    picas.stale_attempts = [...stale, record];
    try {
      const { rev } = await withRetry(() => db.put({ ...current, picas }), options);
      return { kind: 'stale', rev, owner: attemptOf(current) };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      current = await withRetry(() => settledGet<Token>(db, claimed._id), options);
    }
  }
  throw new Error(`token ${claimed._id}: the stale attempt record could not be saved`);
}
