import type { Database, Doc } from '../couch/database.js';
import { ConflictError, NotFoundError } from '../couch/errors.js';
import type { PilotIdentity } from './pilot-identity.js';
import { dropOwnConflicts, needsConfirm, settledGet } from '../claim/confirm.js';

/**
 * A pilot's heartbeat: one small document per pilot (`picas-pilot:<pilotId>`) whose `alive_until` (server
 * epoch seconds) extends the leases of every token the pilot holds. Renewing it is one small write per
 * renewal interval whatever the number of slots, and never touches a token (no attachment is re-sent).
 */
export const HEARTBEAT_PREFIX = 'picas-pilot:';
export const CONTROL_DOC_ID = 'picas-control';

/** What a pilot is doing, as its heartbeat says (docs/heartbeats.md). */
export type PilotState = 'running' | 'draining' | 'stopped';

/**
 * The heartbeat document. Times are the server's epoch seconds. Fields are written at every renewal (a
 * third of the lease), so counts and current tokens are as of `renewed_at`. Documented in docs/heartbeats.md.
 */
export interface HeartbeatDoc extends Doc {
  type: 'picas-pilot';
  pilot: string;
  host: string;
  /** The batch system's job id (Slurm array task as `<array>_<task>`, DIRAC, PBS...), when there is one. */
  job?: string;
  /** When the pilot started. */
  started_at: number;
  /** The last heartbeat: when this document was last written by its pilot. */
  renewed_at?: number;
  /** Leases of every token the pilot holds last until then (0 once stopped). */
  alive_until: number;
  /** The pilot's --lease: it renews every third of it (readers judge from this whether it is alive). */
  lease_seconds?: number;
  /** running, draining (finishing its current tokens, claiming no more), or stopped. */
  state?: PilotState;
  /** Why a draining or stopped pilot stops: drain, signal, maxTasks, maxTotalTime, empty, ... */
  stopping_because?: string;
  /** Who stopped it when it did not stop by itself (its watchdog, after the pilot process died). */
  stopped_by?: string;
  /** Token ids this pilot's slots are running now (for people and the dashboard; leases do not depend on it). */
  holding: string[];
  /** The same tokens with the moment each was started. */
  current?: { id: string; started_at: number }[];
  /** Tokens this pilot finished with exit code 0, and otherwise (error, failed), so far. */
  tokens_done?: number;
  tokens_failed?: number;
  /** Set by a person (or `picas drain`): finish the current tokens, claim no more, stop. */
  drain?: boolean;
  stopped?: boolean;
}

/** What the pilot reports to its heartbeat at each renewal. */
export interface PilotProgress {
  done: number;
  failed: number;
  /** Set once the pilot claims no more (a drain, a signal, a limit): it finishes what it runs, then stops. */
  stopping?: string;
}

export const heartbeatId = (pilotId: string): string => `${HEARTBEAT_PREFIX}${pilotId}`;

export interface HeartbeatOptions {
  leaseSeconds: number;
  /** Renewal interval (default a third of the lease, at least 1 s). */
  intervalMs?: number;
  log?: (line: string) => void;
  /** Called after every successful renewal with the new deadline (local epoch ms). */
  onRenew?: (deadlineLocalMs: number) => void;
  /** Called when a person asked this pilot (or all pilots) to drain. */
  onDrain?: () => void;
  /** Someone else wrote this pilot's document (read back at a renewal): e.g. a follow request for a token's output. */
  onOthersWrite?: (doc: HeartbeatDoc) => void;
  /** Counts and stopping reason, written into the document at each renewal. */
  progress?: () => PilotProgress;
}

export class Heartbeat {
  private doc: HeartbeatDoc | undefined;
  private timer: NodeJS.Timeout | undefined;
  private holding = new Map<string, number>(); // token id -> started_at (server epoch s)
  private drainAsked = false;
  private renewing: Promise<void> | undefined;
  /** Local epoch ms until which the lease certainly holds (server expiry, seen from here). */
  deadlineLocalMs = 0;
  renewals = 0;
  failures = 0;

  constructor(private readonly db: Database, private readonly pilot: PilotIdentity, private readonly options: HeartbeatOptions) {}

  /** The revision of this pilot's last own write of its document (a change with another one is someone else's). */
  get rev(): string | undefined {
    return this.doc?._rev;
  }

  get intervalMs(): number {
    return this.options.intervalMs ?? Math.max(1_000, (this.options.leaseSeconds * 1000) / 3);
  }

  async start(): Promise<void> {
    // Lease times are the server's: learn its clock before the first renewal.
    await this.db.server.syncClock().catch(() => undefined);
    await this.renew();
    this.timer = setInterval(() => { void this.renew(); }, this.intervalMs);
    this.timer.unref();
  }

  hold(id: string): void { this.holding.set(id, Math.floor(this.db.server.serverNow() / 1000)); }
  release(id: string): void { this.holding.delete(id); }

  /** One renewal; failures are counted and logged, never thrown (the watchdog acts on a missed deadline). */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => { this.renewing = undefined; });
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    const { db, pilot } = this;
    const sentAt = Date.now();
    try {
      const nowServer = Math.floor(db.server.serverNow() / 1000);
      const next: HeartbeatDoc = {
        ...(this.doc ?? {
          _id: heartbeatId(pilot.pilotId), type: 'picas-pilot', pilot: pilot.pilotId, host: pilot.hostname,
          ...(pilot.jobId ? { job: pilot.jobId.value } : {}), started_at: nowServer, lease_seconds: this.options.leaseSeconds,
        } as HeartbeatDoc),
        // Whole seconds, rounded up so the Date header's 1 s resolution never shortens a lease: the
        // watchdog and every other pilot read the same number.
        alive_until: Math.ceil(db.server.serverNow() / 1000) + this.options.leaseSeconds,
        renewed_at: nowServer,
        ...this.activity(),
      };
      let rev: string;
      try {
        rev = (await db.put(next)).rev;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        // Someone wrote our document (e.g. to ask us to drain): take theirs and write ours on top.
        const theirs = await settledGet<HeartbeatDoc>(db, next._id);
        this.options.onOthersWrite?.(theirs);
        if (theirs.drain) { this.drainAsked = true; this.options.onDrain?.(); }
        const ours = { alive_until: next.alive_until, renewed_at: next.renewed_at, ...this.activity() };
        rev = (await db.put({ ...theirs, ...ours })).rev;
        Object.assign(next, ours);
        next.drain = theirs.drain;
      }
      this.doc = { ...next, _rev: rev };
      // The lease is good until alive_until on the server's clock; count from when we sent the request.
      const serverNowAtSend = db.server.serverNow() - (Date.now() - sentAt);
      this.deadlineLocalMs = sentAt + (next.alive_until * 1000 - serverNowAtSend);
      this.renewals++;
      this.options.onRenew?.(this.deadlineLocalMs);
      await this.checkControl();
    } catch (err) {
      this.failures++;
      this.options.log?.(`lease renewal failed (${(err as Error).message}); commands stop before the lease ends unless a renewal succeeds`);
    }
  }

  /** The fields that say what the pilot does now: its tokens, counts and state. */
  private activity(): Pick<HeartbeatDoc, 'holding' | 'current' | 'state' | 'tokens_done' | 'tokens_failed' | 'stopping_because'> {
    const progress = this.options.progress?.();
    const stopping = progress?.stopping ?? (this.drainAsked ? 'drain' : undefined);
    return {
      holding: [...this.holding.keys()],
      current: [...this.holding].map(([id, started_at]) => ({ id, started_at })),
      state: stopping ? 'draining' : 'running',
      ...(stopping ? { stopping_because: stopping } : {}),
      ...(progress ? { tokens_done: progress.done, tokens_failed: progress.failed } : {}),
    };
  }

  /** The database-wide control document: `{"drain": true}` asks every pilot to drain. */
  private async checkControl(): Promise<void> {
    try {
      const control = await this.db.get<Doc & { drain?: boolean }>(CONTROL_DOC_ID);
      if (control.drain) { this.drainAsked = true; this.options.onDrain?.(); }
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** Stop renewing and mark the heartbeat stopped (its leases end now: nothing is held any more). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    if (!this.doc) return;
    try {
      const progress = this.options.progress?.();
      const { rev } = await this.db.put({
        ...this.doc, alive_until: 0, renewed_at: Math.floor(this.db.server.serverNow() / 1000), holding: [], current: [],
        state: 'stopped', stopped: true,
        ...(progress ? { tokens_done: progress.done, tokens_failed: progress.failed, ...(progress.stopping ? { stopping_because: progress.stopping } : {}) } : {}),
      });
      // Clustered or replicated: copies of our own renewals may have landed on lagging copies; drop them.
      if (await needsConfirm(this.db, false)) await dropOwnConflicts(this.db, this.doc._id, rev, undefined);
    } catch { /* best effort: an unrenewed heartbeat expires by itself */ }
  }
}
