import type { Database } from '../couch/database.js';
import { Heartbeat, heartbeatId, type HeartbeatDoc, type PilotProgress } from '../lease/heartbeat.js';
import type { PilotIdentity } from '../lease/pilot-identity.js';
import { ConflictWatch } from '../lease/replication-conflicts.js';
import { Watchdog } from '../lease/watchdog.js';
import { followRequests, LogPublisher } from '../status/log-follow.js';
import { WorkSignal } from './work-signal.js';

/** Set in every command's environment; the watchdog finds the pilot's commands by it. */
export const PILOT_MARKER = 'PICAS_PILOT_ID';

export interface LeaseKeeperOptions {
  leaseSeconds: number;
  /** Grace between SIGTERM and SIGKILL the watchdog gives a command (ms). */
  graceMs?: number;
  /** Check held tokens for replication conflicts at each renewal. */
  checkConflicts?: boolean;
  /** A token lost this many times goes to error; the watchdog needs it to put a dead pilot's tokens back. */
  maxLost?: number;
  /** What the heartbeat document reports at each renewal: tokens done/failed, why the pilot stops. */
  progress?: () => PilotProgress;
  log: (line: string) => void;
  onDrain: () => void;
}

/**
 * Keeps a pilot's leases: the heartbeat renews them; a watchdog process stops commands if a renewal does
 * not come in time (also while this process is frozen); running tasks are aborted here too, through
 * `lostSignal`, shortly before the lease would end. Optionally watches held tokens for replication
 * conflicts at each renewal.
 */
export class LeaseKeeper {
  private lost = new AbortController();
  private readonly safetyMs: number;
  private readonly heartbeat: Heartbeat;
  private readonly watchdog: Watchdog;
  private readonly pilotId: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly conflicts: ConflictWatch | undefined;
  /** Live output of the running commands, published only while someone follows a token (`picas logs -f`). */
  readonly output: LogPublisher;
  /** Ends the feed open on our own heartbeat document (see watchOthers). */
  private readonly watching = new AbortController();

  constructor(private readonly db: Database, pilot: PilotIdentity, private readonly options: LeaseKeeperOptions) {
    this.safetyMs = Math.min(10_000, (options.leaseSeconds * 1000) / 4);
    this.pilotId = pilot.pilotId;
    this.watchdog = new Watchdog(Math.min(options.graceMs ?? 30_000, this.safetyMs / 2), `${PILOT_MARKER}=${pilot.pilotId}`,
      { db, pilotId: pilot.pilotId, leaseSeconds: options.leaseSeconds, maxLost: options.maxLost });
    this.conflicts = options.checkConflicts !== false ? new ConflictWatch(db, { log: options.log }) : undefined;
    this.output = new LogPublisher(db, { log: options.log });
    this.heartbeat = new Heartbeat(db, pilot, {
      leaseSeconds: options.leaseSeconds,
      log: options.log,
      onRenew: (deadline) => { this.arm(deadline); void this.conflicts?.check(); },
      onDrain: options.onDrain,
      // A follower asks through our heartbeat document: our renewal conflicts with its write, and we read it.
      onOthersWrite: (doc) => this.output.setRequests(followRequests(doc, Math.floor(db.server.serverNow() / 1000))),
      progress: options.progress,
    });
  }

  /**
   * Aborted when the lease is about to end unrenewed. Replaced by a fresh one after a renewal succeeds
   * again: once aborted a signal stays aborted, and every later token would be stopped at once.
   */
  get lostSignal(): AbortSignal {
    return this.lost.signal;
  }

  private arm(deadlineLocalMs: number): void {
    if (this.lost.signal.aborted) this.lost = new AbortController();
    this.watchdog.setDeadline(deadlineLocalMs - this.safetyMs);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.options.log('lease could not be renewed in time: stopping running commands (their tokens may be taken over)');
      this.lost.abort(new Error('lease lost'));
    }, Math.max(0, deadlineLocalMs - this.safetyMs - Date.now()));
    this.timer.unref();
  }

  async start(): Promise<void> {
    // Until the first renewal succeeds, the claims' own lease (claim time + lease) is all there is.
    this.arm(Date.now() + this.options.leaseSeconds * 1000);
    await this.heartbeat.start();
    // Started before any claim, so a follow request (written only once a token runs) is after where the feed starts.
    void this.watchOthers();
  }

  /**
   * Notices within a round trip when someone else writes this pilot's heartbeat document (a follow request
   * from `picas logs --follow`), instead of at the next renewal (a third of the lease: 100 s by default).
   * One `_changes` feed held open, filtered to that one document id (work-signal.ts): a request per own
   * renewal (each is a change) while nobody follows. A change with a revision other than our own renewal's
   * is read once.
   * Ended by stop() (the request is aborted, so nothing keeps the process alive); a server that refuses
   * the feed leaves follow requests to the renewals.
   */
  private async watchOthers(): Promise<void> {
    const id = heartbeatId(this.pilotId);
    const stop = this.watching.signal;
    const feed = new WorkSignal(this.db, {
      docIds: [id],
      log: () => this.options.log('the changes feed is not available: follow requests (picas logs --follow) are noticed at lease renewals only'),
    });
    try {
      while (!stop.aborted) {
        if (await feed.wait(10 * 60_000, stop) !== 'change') continue;
        const changed = feed.lastChanges.some((c) => c.changes?.some((r) => r.rev !== this.heartbeat.rev));
        feed.lastChanges = [];
        if (!changed) continue;
        const doc = await this.db.find<HeartbeatDoc>(id).catch(() => undefined);
        if (doc && !stop.aborted) this.output.setRequests(followRequests(doc, Math.floor(this.db.server.serverNow() / 1000)));
      }
    } catch (err) {
      if (!stop.aborted) this.options.log(`watching the heartbeat document for follow requests ended (${(err as Error).message}); they are noticed at lease renewals`);
    }
  }

  renew(): Promise<void> {
    return this.heartbeat.renew();
  }

  /** A token is held from its claim to its result; returns the signal that fires if a replica won it. */
  hold(id: string, attempt: string): AbortSignal | undefined {
    this.heartbeat.hold(id);
    this.watchdog.hold(id);
    return this.conflicts?.hold(id, attempt);
  }

  release(id: string): void {
    this.heartbeat.release(id);
    this.watchdog.release(id);
    this.conflicts?.release(id);
  }

  /** Before a command is spawned: the watchdog must run first, so no instant of a command is unguarded. */
  commandStarting = (): NodeJS.ProcessEnv => {
    this.watchdog.start();
    return { [PILOT_MARKER]: this.pilotId };
  };

  commandStarted = (pgid: number): void => {
    this.watchdog.add(pgid);
  };

  commandEnded = (pgid: number): void => {
    this.watchdog.remove(pgid);
  };

  async stop(): Promise<void> {
    this.watching.abort();
    if (this.timer) clearTimeout(this.timer);
    this.output.stop();
    await this.heartbeat.stop();
    this.watchdog.stop();
  }
}
