import type { Database } from '../couch/database.js';
import { catchUp, readStateSnapshot, type StateSnapshot } from '../tokens/status.js';
import { readPilots, type PilotInfo } from './pilots.js';
import { recentErrors, type ErrorSummary } from './errors.js';
import { completionRate, etaSeconds, type CompletionRate } from './rate.js';
import { expiredLeases, type ExpiredLeases } from './expired.js';

/**
 * Everything `picas status` and the dashboard show about a run, from bounded reads only: the state views'
 * sizes, the heartbeat documents, a bounded range of the finished-by-time view, the few most recent
 * errors and a bounded range of expired leases. Nothing here scans the tokens, so it answers in the same
 * time at a thousand tokens and at a million.
 */
export interface FarmStatus {
  todo: number;
  locked: number;
  done: number;
  error: number;
  /** Tokens in the four states. */
  total: number;
  /** Active pilots (running or draining), from their heartbeat documents. */
  pilots: PilotInfo[];
  /** Pilots that stopped, or vanished, and whose heartbeat is still kept. */
  pilotsEnded: number;
  rate?: CompletionRate;
  /** Seconds until todo and locked are done at the recent rate. */
  etaSeconds?: number;
  expired: ExpiredLeases;
  /** The most recent errors; undefined when the status views are missing and this user may not create them. */
  errors?: ErrorSummary[];
  index: Pick<StateSnapshot, 'consistent' | 'catchingUp' | 'indexLag' | 'source'>;
  /** Server epoch seconds of this reading. */
  time: number;
  database: string;
}

export interface FarmStatusOptions {
  design?: string;
  errors?: number;
  rateWindowSeconds?: number;
}

export async function farmStatus(db: Database, options: FarmStatusOptions = {}): Promise<FarmStatus> {
  const snapshot = await readStateSnapshot(db, options.design ?? 'Monitor', { kick: false });
  const now = Math.floor(db.server.serverNow() / 1000);
  const update = snapshot.catchingUp ? 'lazy' : 'true';
  const [pilots, rate, errors, expired] = await Promise.all([
    readPilots(db, now),
    completionRate(db, now, options.rateWindowSeconds ?? 600, 1_000, update),
    recentErrors(db, options.errors ?? 5, update),
    expiredLeases(db, now, 200, update),
  ]);
  // Lagging views are asked to catch up only now, after the other reads (on the embedded server the
  // indexing runs in the server's one process and would slow every read behind it).
  if (snapshot.catchingUp) await catchUp(db, options.design ?? 'Monitor');
  const { counts } = snapshot;
  const active = pilots.filter((p) => p.state === 'running' || p.state === 'draining');
  return {
    ...counts,
    total: counts.todo + counts.locked + counts.done + counts.error,
    pilots: active,
    pilotsEnded: pilots.length - active.length,
    rate,
    etaSeconds: etaSeconds(counts.todo + counts.locked, rate),
    expired,
    errors,
    index: { consistent: snapshot.consistent, catchingUp: snapshot.catchingUp, indexLag: snapshot.indexLag, source: snapshot.source },
    time: now,
    database: db.name,
  };
}
