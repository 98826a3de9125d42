import type { Database, Doc } from '../couch/database.js';
import { ConflictError, NotFoundError } from '../couch/errors.js';
import type { PilotIdentity } from './pilot-identity.js';

/**
 * A pilot's heartbeat: one small document per pilot (`picas-pilot:<pilotId>`) whose `alive_until` (server
 * epoch seconds) extends the leases of every token the pilot holds. Renewing it is one small write per
 * renewal interval whatever the number of slots, and never touches a token (no attachment is re-sent).
 */
export const HEARTBEAT_PREFIX = 'picas-pilot:';
export const CONTROL_DOC_ID = 'picas-control';

export interface HeartbeatDoc extends Doc {
  type: 'picas-pilot';
  pilot: string;
  host: string;
  job?: string;
  started_at: number;
  alive_until: number;
  /** Token ids this pilot holds now (for people and the dashboard; leases do not depend on it). */
  holding: string[];
  /** Set by a person (or `picas drain`): finish the current tokens, claim no more, stop. */
  drain?: boolean;
  stopped?: boolean;
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
}

export class Heartbeat {
  private doc: HeartbeatDoc | undefined;
  private timer: NodeJS.Timeout | undefined;
  private holding = new Set<string>();
  private renewing: Promise<void> | undefined;
  /** Local epoch ms until which the lease certainly holds (server expiry, seen from here). */
  deadlineLocalMs = 0;
  renewals = 0;
  failures = 0;

  constructor(private readonly db: Database, private readonly pilot: PilotIdentity, private readonly options: HeartbeatOptions) {}

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

  hold(id: string): void { this.holding.add(id); }
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
          ...(pilot.jobId ? { job: pilot.jobId.value } : {}), started_at: nowServer,
        } as HeartbeatDoc),
        // Whole seconds, rounded up so the Date header's 1 s resolution never shortens a lease: the
        // watchdog and every other pilot read the same number.
        alive_until: Math.ceil(db.server.serverNow() / 1000) + this.options.leaseSeconds,
        holding: [...this.holding],
      };
      let rev: string;
      try {
        rev = (await db.put(next)).rev;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        // Someone wrote our document (e.g. to ask us to drain): take theirs and write ours on top.
        const theirs = await db.get<HeartbeatDoc>(next._id);
        if (theirs.drain) this.options.onDrain?.();
        rev = (await db.put({ ...theirs, alive_until: next.alive_until, holding: next.holding })).rev;
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

  /** The database-wide control document: `{"drain": true}` asks every pilot to drain. */
  private async checkControl(): Promise<void> {
    try {
      const control = await this.db.get<Doc & { drain?: boolean }>(CONTROL_DOC_ID);
      if (control.drain) this.options.onDrain?.();
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
      await this.db.put({ ...this.doc, alive_until: 0, holding: [], stopped: true });
    } catch { /* best effort: an unrenewed heartbeat expires by itself */ }
  }
}
