import { hostname } from 'node:os';
import type { Database } from '../couch/database.js';
import { ConflictError } from '../couch/errors.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import { markError, nowSeconds } from '../tokens/operations.js';
import { tokenState, type TokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';
import { withoutLease } from '../worker/release.js';

export const CANCELLED_MESSAGE = 'cancelled';

/** What cancelling did to one token. */
export type CancelOutcome =
  /** Not started yet: it will never be claimed now. */
  | 'withdrawn'
  /** Running: its pilot stops the command at its next lease renewal and saves nothing. */
  | 'stopping'
  /** Already finished (done or error): left as it was. */
  | 'finished'
  | 'missing';

/** Recorded in `picas.cancelled` of a cancelled token. */
export interface CancelRecord {
  at: number;
  host: string;
  /** The state it was cancelled in. */
  was: TokenState;
  /** The attempt that was running it, if any (its pilot finds it gone and stops). */
  attempt?: string;
}

type PicasField = Record<string, unknown> & { attempt?: string; cancelled?: CancelRecord };

/**
 * Cancel a token: it ends in error with the message "cancelled" (lock and done 99, as the original's error
 * operation), whether it was waiting (withdrawn: no pilot will claim it) or running. A running token's
 * attempt and lease are taken out of it: its pilot's check of the tokens it holds, at every lease renewal
 * (every lease/3 seconds), finds its attempt gone, stops the command's process group and writes nothing;
 * a result that still arrives is kept as a stale-attempt record, never as the result. So a cancelled token
 * is never reset by the pilot's --max-scrub, which only acts on a result the pilot saves.
 * The write is conditional on the revision read: a pilot claiming the token meanwhile is seen, and the
 * token is cancelled as running.
 */
export async function cancelToken(db: Database, id: string, retry: RetryOptions = {}): Promise<CancelOutcome> {
  for (let i = 0; i < 20; i++) {
    const token = await withRetry(() => db.find<Token & { picas?: PicasField }>(id), retry);
    if (!token) return 'missing';
    const state = tokenState(token);
    if (state !== 'todo' && state !== 'locked') return 'finished';
    const attempt = token.picas?.attempt;
    const record: CancelRecord = { at: nowSeconds(), host: hostname(), was: state, ...(attempt ? { attempt } : {}) };
    const released = withoutLease(token) as Token & { picas: PicasField };
    const next = markError({ ...released, picas: { ...released.picas, cancelled: record } }, CANCELLED_MESSAGE, `cancelled on ${record.host} while ${state}`);
    try {
      await withRetry(() => db.put(next), retry);
      return state === 'todo' ? 'withdrawn' : 'stopping';
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Claimed, renewed or finished meanwhile: read it again and decide anew.
    }
  }
  throw new Error(`token ${id}: could not be cancelled after 20 conflicting writes in a row`);
}
