import type { Database } from '../couch/database.js';
import { heldTokens } from '../lease/expiry.js';

export interface ExpiredLeases {
  /** Tokens still locked whose lease ended (their pilot died or lost contact); at most `limit` counted. */
  count: number;
  /** True when there may be more than `count`. */
  more: boolean;
  ids: string[];
}

/**
 * Locked tokens whose lease has ended: a bounded range of the `picas/leases` view (leases that ended by
 * their claim time) checked against their pilots' heartbeats. Ordinary pilots take these over by
 * themselves; `picas reset --expired` puts them back at once.
 */
export async function expiredLeases(db: Database, nowServer: number, limit = 200): Promise<ExpiredLeases> {
  const held = await heldTokens(db, { until: nowServer, limit });
  const expired = held.filter((h) => h.expiresAt < nowServer);
  return { count: expired.length, more: held.length >= limit, ids: expired.map((h) => h.token._id) };
}
