import type { Database } from '../couch/database.js';
import type { RetryOptions } from '../couch/retry.js';
import { resetToken } from '../tokens/operations.js';
import { expiredTokens } from '../lease/expiry.js';
import type { Token } from '../tokens/token.js';
import { applyChange, scanSelection, type ChangeOptions, type ChangeResult } from './bulk-change.js';
import type { Selection } from './select.js';

export interface ResetFilter {
  /** Only tokens locked at least this many seconds ago (by the server's clock), like the original's hours. */
  lockedOlderThanSec?: number;
  /** "Now" in epoch seconds; default: the server's time. */
  now?: number;
  /** Only tokens whose lease (heartbeat included) ended more than `marginSeconds` ago: their pilots are gone. */
  expired?: boolean;
  marginSeconds?: number;
}

/** Which tokens of the selection a reset touches. */
export async function resetFilter(db: Database, filter: ResetFilter): Promise<(t: Token) => boolean> {
  if (filter.lockedOlderThanSec === undefined && !filter.expired) return () => true;
  const now = filter.now ?? Math.floor((await db.server.syncClock()) / 1000);
  const before = now - (filter.lockedOlderThanSec ?? 0);
  const expired = filter.expired
    ? new Set((await expiredTokens(db, now, filter.marginSeconds ?? 0, 100_000)).map((h) => h.token._id))
    : undefined;
  return (t) => Number(t.lock) > 0 && Number(t.lock) <= before && (!expired || expired.has(t._id));
}

/** The tokens a reset would touch, without touching them. */
export async function planReset(db: Database, selection: Selection, filter: ResetFilter = {}, onMatch?: (t: Token) => void): Promise<number> {
  return scanSelection(db, selection, await resetFilter(db, filter), onMatch);
}

/**
 * Put tokens back to todo as the original's reset script does: scrub_count + 1; lock, done, hostname,
 * job ids and exit_code cleared; attachments (old logs) dropped. User fields stay.
 */
export async function resetTokens(
  db: Database, selection: Selection, filter: ResetFilter = {},
  options: ChangeOptions = {},
): Promise<ChangeResult> {
  return applyChange(db, selection, await resetFilter(db, filter), (t) => resetToken(t), options);
}
