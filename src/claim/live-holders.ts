import type { Database } from '../couch/database.js';
import { heartbeatId, type HeartbeatDoc } from '../lease/heartbeat.js';

/**
 * Whether the pilots holding tokens are alive, from their heartbeat documents (src/lease/heartbeat.ts):
 * a holder is alive when its heartbeat was renewed within the last lease/3 (its renewal interval) plus a
 * margin, on the server's clock. A pilot that stopped cleanly marks its heartbeat `stopped`; one with no
 * heartbeat document (a foreign client, or a pilot killed before its first renewal) is not known to be alive.
 * A stopped pilot (`stopped`, or `state: 'stopped'`, written by it or by its watchdog) is not alive.
 *
 * The renewal time is read as `renewed_at` when the document has it, else worked out from `alive_until`
 * minus the holder's lease (`lease_seconds` when written, else the reader's own lease).
 */
export interface HolderState {
  pilot: string;
  alive: boolean;
  host?: string;
  /** Server epoch seconds of the last renewal, when known. */
  renewedAt?: number;
  /** Server epoch seconds until which its leases hold. */
  aliveUntil?: number;
}

export interface LiveHoldersOptions {
  /** The reader's lease (s): the renewal interval is a third of it. */
  leaseSeconds: number;
  /** Seconds of slack beyond the renewal interval (a renewal may be late by a request's time). */
  marginSeconds: number;
  /** The server's time now, epoch seconds. */
  nowServer: number;
}

type Beat = Partial<HeartbeatDoc> & { renewed_at?: number; lease_seconds?: number };

export function holderState(pilot: string, doc: Beat | undefined, options: LiveHoldersOptions): HolderState {
  if (!doc || typeof doc.alive_until !== 'number') return { pilot, alive: false };
  const lease = typeof doc.lease_seconds === 'number' ? doc.lease_seconds : options.leaseSeconds;
  const renewedAt = typeof doc.renewed_at === 'number' ? doc.renewed_at : doc.alive_until - lease;
  const alive = !doc.stopped && doc.state !== 'stopped' && renewedAt >= options.nowServer - (lease / 3 + options.marginSeconds);
  return { pilot, alive, host: doc.host, renewedAt, aliveUntil: doc.alive_until };
}

/** The state of each named pilot (one request for all of them). */
export async function liveHolders(db: Database, pilots: string[], options: LiveHoldersOptions): Promise<Map<string, HolderState>> {
  const unique = [...new Set(pilots)];
  const states = new Map<string, HolderState>();
  if (unique.length === 0) return states;
  const docs = await db.bulkGet<HeartbeatDoc>(unique.map((p) => ({ id: heartbeatId(p) })));
  const byPilot = new Map<string, Beat>();
  for (const d of docs) if (d && 'pilot' in d) byPilot.set((d as HeartbeatDoc).pilot, d as Beat);
  for (const p of unique) states.set(p, holderState(p, byPilot.get(p), options));
  return states;
}
