import type { Database } from '../couch/database.js';
import { HEARTBEAT_PREFIX, type HeartbeatDoc } from '../lease/heartbeat.js';

export type PilotState = 'running' | 'draining' | 'stopped' | 'gone';

/** One pilot as people want to see it, read from its heartbeat document. */
export interface PilotInfo {
  id: string;
  host: string;
  /** The batch system's job id, when the pilot runs in one. */
  job?: string;
  /** Server epoch seconds. */
  startedAt?: number;
  /** Server epoch seconds of the last renewal, when the heartbeat records it. */
  lastBeat?: number;
  aliveUntil: number;
  state: PilotState;
  /** Tokens finished by this pilot, when the heartbeat records it. */
  done?: number;
  failed?: number;
  /** Tokens it runs now, with their start (server epoch seconds) when recorded. */
  current: { id: string; since?: number }[];
}

/** At most this many heartbeat documents are read per refresh (stopped ones are cleaned up, see below). */
export const MAX_PILOTS_READ = 5_000;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Reads a heartbeat document whatever version of picas wrote it: the fields every heartbeat has (host,
 * job, start, alive_until, holding) and the ones later pilots add (tokens done, current tokens with their
 * start, time of the last renewal, state).
 */
export function pilotFromHeartbeat(doc: HeartbeatDoc & Record<string, unknown>, nowServer: number): PilotInfo {
  const currentRaw = Array.isArray(doc.current) ? doc.current : Array.isArray(doc.running) ? doc.running : undefined;
  const current = currentRaw
    ? currentRaw.map((c: unknown) => (typeof c === 'string' ? { id: c } : { id: String((c as { id?: unknown }).id ?? ''), since: num((c as Record<string, unknown>).started_at ?? (c as Record<string, unknown>).since ?? (c as Record<string, unknown>).start) }))
    : (doc.holding ?? []).map((id) => ({ id: String(id) }));
  const aliveUntil = num(doc.alive_until) ?? 0;
  const stateField = typeof doc.state === 'string' ? doc.state : undefined;
  let state: PilotState;
  if (doc.stopped || stateField === 'stopped') state = 'stopped';
  else if (aliveUntil < nowServer) state = 'gone';
  else if (doc.drain || stateField === 'draining') state = 'draining';
  else state = 'running';
  return {
    id: String(doc.pilot ?? doc._id.slice(HEARTBEAT_PREFIX.length)),
    host: String(doc.host ?? ''),
    ...(doc.job ? { job: String(doc.job) } : {}),
    startedAt: num(doc.started_at) ?? num(doc.pilot_started_at),
    lastBeat: num(doc.last_heartbeat) ?? num(doc.renewed_at) ?? num(doc.last_beat),
    aliveUntil,
    state,
    done: num(doc.tokens_done) ?? num(doc.done_count) ?? num((doc as Record<string, unknown>).done),
    failed: num(doc.tokens_failed) ?? num(doc.failed),
    current: current.filter((c) => c.id),
  };
}

/** Every pilot with a heartbeat document (bounded), running ones first, then by start. */
export async function readPilots(db: Database, nowServer: number): Promise<PilotInfo[]> {
  const rows = (await db.allDocs<HeartbeatDoc>({
    startkey: HEARTBEAT_PREFIX, endkey: `${HEARTBEAT_PREFIX}\ufff0`, include_docs: true, limit: MAX_PILOTS_READ,
  })).rows;
  const order: Record<PilotState, number> = { running: 0, draining: 1, gone: 2, stopped: 3 };
  return rows.filter((r) => r.doc).map((r) => pilotFromHeartbeat(r.doc as HeartbeatDoc & Record<string, unknown>, nowServer))
    .sort((a, b) => order[a.state] - order[b.state] || (a.startedAt ?? 0) - (b.startedAt ?? 0) || a.id.localeCompare(b.id));
}

/** Default time a stopped (or vanished) pilot's heartbeat document is kept: a day. */
export const DEFAULT_PILOT_RETENTION_S = 24 * 3600;

/**
 * Delete the heartbeat documents of pilots that stopped, or vanished without stopping, more than
 * `retentionSeconds` ago, so the pilot list (and every status read of it) does not grow with every pilot
 * ever started. A pilot that is alive is never touched; a write that conflicts (the pilot came back) is
 * left alone. Returns how many were deleted.
 */
export async function cleanupPilots(db: Database, nowServer: number, retentionSeconds = DEFAULT_PILOT_RETENTION_S): Promise<number> {
  const rows = (await db.allDocs<HeartbeatDoc>({
    startkey: HEARTBEAT_PREFIX, endkey: `${HEARTBEAT_PREFIX}\ufff0`, include_docs: true, limit: MAX_PILOTS_READ,
  })).rows;
  const old = rows.map((r) => r.doc as (HeartbeatDoc & Record<string, unknown>) | undefined).filter((d): d is HeartbeatDoc & Record<string, unknown> => {
    if (!d?._rev) return false;
    // The last sign of life: its last renewal (a stopping pilot writes one), else its lease end or start.
    const lastSign = Math.max(num(d.alive_until) ?? 0, num(d.renewed_at) ?? 0, num(d.last_heartbeat) ?? 0, num(d.started_at) ?? 0);
    const over = d.stopped || (num(d.alive_until) ?? 0) < nowServer;
    return Boolean(over) && lastSign < nowServer - retentionSeconds;
  });
  if (old.length === 0) return 0;
  const results = await db.bulkDelete(old.map((d) => ({ _id: d._id, _rev: d._rev! })));
  return results.filter((r) => r.ok).length;
}
