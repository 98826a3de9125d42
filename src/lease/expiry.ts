import type { Database } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import type { Token } from '../tokens/token.js';
import { heartbeatId, type HeartbeatDoc } from './heartbeat.js';

/**
 * When a held token's lease ends: the later of the lease written at claim time and its pilot's heartbeat.
 * All times are the server's epoch seconds (from its Date header), never a node's own clock.
 */
export interface HeldToken {
  token: Token & { picas: { pilot: string; attempt: string; lease_until: number } };
  expiresAt: number;
}

/** Safety margin a takeover waits beyond expiry, so a pilot's watchdog has stopped the command first. */
export const defaultMarginSeconds = (leaseSeconds: number): number => Math.max(2, Math.min(30, Math.ceil(leaseSeconds / 10)));

/** Tokens held under a lease (locked, not done), with the moment each lease ends. */
export async function heldTokens(db: Database, options: { limit?: number; until?: number } = {}): Promise<HeldToken[]> {
  let rows;
  try {
    rows = (await db.view<null, Token>('picas', 'leases', {
      include_docs: true, limit: options.limit ?? 1000, ...(options.until !== undefined ? { endkey: options.until } : {}),
    })).rows;
  } catch (err) {
    // A database set up without picas's design document (e.g. by the Python client): no leases to recover.
    if (err instanceof NotFoundError) return [];
    throw err;
  }
  const docs = rows.map((r) => r.doc).filter((d): d is HeldToken['token'] => !!d && !!(d as { picas?: unknown }).picas);
  const pilots = [...new Set(docs.map((d) => d.picas.pilot))];
  const beats = new Map<string, number>();
  for (const hb of await db.bulkGet<HeartbeatDoc>(pilots.map((p) => ({ id: heartbeatId(p) })))) {
    if ('alive_until' in hb) beats.set(hb.pilot, hb.alive_until);
  }
  return docs.map((token) => ({ token, expiresAt: Math.max(token.picas.lease_until, beats.get(token.picas.pilot) ?? 0) }));
}

/** Held tokens whose lease ended more than `marginSeconds` ago: free for a takeover. */
export async function expiredTokens(db: Database, nowServer: number, marginSeconds: number, limit = 100): Promise<HeldToken[]> {
  const held = await heldTokens(db, { until: nowServer - marginSeconds, limit });
  return held.filter((h) => h.expiresAt + marginSeconds < nowServer);
}
