import type { Database } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import { heartbeatId, type HeartbeatDoc } from '../lease/heartbeat.js';
import type { Token } from '../tokens/token.js';

export interface ExpiredLeases {
  /** Tokens still locked whose lease ended (their pilot died or lost contact); at most `limit` counted. */
  count: number;
  /** True when there may be more than `count`. */
  more: boolean;
  ids: string[];
}

/**
 * Locked tokens whose lease has ended: a bounded range of the `picas/leases` view (leases that ended by
 * their claim time) checked against their pilots' heartbeats, as the claims' takeover does. Ordinary pilots
 * take these over by themselves; `picas reset --expired` puts them back at once. With `update: 'lazy'`
 * (while a large push is being indexed) the view answers as it is instead of indexing first.
 */
export async function expiredLeases(db: Database, nowServer: number, limit = 200, update: 'true' | 'lazy' = 'true'): Promise<ExpiredLeases> {
  let rows;
  try {
    rows = (await db.view<null, Token>('picas', 'leases', { endkey: nowServer, limit, include_docs: true, update })).rows;
  } catch (err) {
    // A database set up without picas's design document (e.g. by the Python client): no leases to show.
    if (err instanceof NotFoundError) return { count: 0, more: false, ids: [] };
    throw err;
  }
  const held = rows.map((r) => r.doc as (Token & { picas?: { pilot?: string; lease_until?: number } }) | undefined)
    .filter((d): d is Token & { picas: { pilot: string; lease_until: number } } => !!d?.picas?.pilot);
  const pilots = [...new Set(held.map((d) => d.picas.pilot))];
  const beats = new Map<string, number>();
  for (const hb of await db.bulkGet<HeartbeatDoc>(pilots.map((p) => ({ id: heartbeatId(p) })))) {
    if ('alive_until' in hb) beats.set(hb.pilot, hb.alive_until);
  }
  const expired = held.filter((d) => Math.max(d.picas.lease_until, beats.get(d.picas.pilot) ?? 0) < nowServer);
  return { count: expired.length, more: rows.length >= limit, ids: expired.map((d) => d._id) };
}
