import { spawn, type ChildProcess } from 'node:child_process';
import type { Database } from '../couch/database.js';
import { scrubSecrets } from '../exec/environment.js';
import { watchdogEnv, watchdogLaunch } from './watchdog-launch.js';
import type { WatchdogInit, WatchdogMessage } from './watchdog-protocol.js';

/** What the watchdog needs to put a dead pilot's tokens back (its connection is handed over privately). */
export interface WatchdogReleaseOptions {
  db: Database;
  pilotId: string;
  leaseSeconds: number;
  /** A token lost this many times goes to error (as a takeover would decide; default 3). */
  maxLost?: number;
}

/**
 * The pilot's side of the watchdog (see watchdog-main.ts): starts it as its own small process and tells it,
 * through a pipe on its stdin, the connection (once), the lease deadline, and which command groups and
 * tokens are running. Each message is written before the action it describes (a command is spawned after
 * the watchdog is told it may exist), and a write to a pipe reaches the kernel at once, so a pilot frozen or
 * killed a moment later has told its watchdog everything it needs.
 */
export class Watchdog {
  private readonly groups = new Set<number>();
  private readonly tokens = new Set<string>();
  private deadline = Number.MAX_SAFE_INTEGER;
  private child: ChildProcess | undefined;

  /**
   * `marker` (`NAME=value`) is set in the environment of every command of this pilot: the watchdog finds
   * the commands by it, so a command is covered from its first instant, named here or not. Without
   * `release` the watchdog only stops commands; a dead pilot's tokens then wait for their lease.
   */
  constructor(private readonly graceMs: number, private readonly marker: string, private readonly releaseWith?: WatchdogReleaseOptions) {}

  get started(): boolean {
    return this.child !== undefined;
  }

  /** The watchdog's process id (for tests and for simulating a lost node), once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start the watchdog process; call before the first command is spawned. */
  start(): void {
    if (this.child) return;
    const launch = watchdogLaunch();
    // Detached: its own process group, so a signal to the pilot's group (SIGSTOP, Ctrl-C) does not reach it.
    // Its environment has no secrets: the connection comes through the pipe.
    this.child = spawn(launch.command, launch.args, {
      detached: true, stdio: ['pipe', 'ignore', 'inherit'], env: watchdogEnv(scrubSecrets(process.env)),
    });
    this.child.on('error', () => { /* reported by its absence: commands stop at the pilot's own deadline */ });
    this.child.stdin!.on('error', () => { /* the watchdog is gone (killed); nothing to tell any more */ });
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    const init: WatchdogInit = {
      type: 'init', pilotPid: process.pid, pilotId: this.releaseWith?.pilotId ?? this.marker.slice(this.marker.indexOf('=') + 1), marker: this.marker,
      graceMs: this.graceMs, deadline: this.deadline,
    };
    if (this.releaseWith) {
      init.release = {
        connection: this.releaseWith.db.server.connectionOptions(),
        database: this.releaseWith.db.name,
        leaseSeconds: this.releaseWith.leaseSeconds,
        maxLost: this.releaseWith.maxLost ?? 3,
      };
    }
    this.send(init);
    for (const pgid of this.groups) this.send({ type: 'group', pgid, running: true });
    for (const id of this.tokens) this.send({ type: 'token', id, running: true });
  }

  private send(message: WatchdogMessage): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return; // not started: nothing to guard yet
    stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Commands must be stopped before this local time (epoch ms) unless it is moved again. */
  setDeadline(localMs: number): void {
    this.deadline = localMs;
    this.send({ type: 'deadline', deadline: localMs });
  }

  add(pgid: number): void { this.groups.add(pgid); this.send({ type: 'group', pgid, running: true }); }
  remove(pgid: number): void { this.groups.delete(pgid); this.send({ type: 'group', pgid, running: false }); }

  /** A slot took this token to run it: if the pilot dies now, it is a lost run. */
  hold(id: string): void { this.tokens.add(id); this.send({ type: 'token', id, running: true }); }
  release(id: string): void { this.tokens.delete(id); this.send({ type: 'token', id, running: false }); }

  /** The pilot ends normally: the watchdog exits without touching anything. */
  stop(): void {
    this.send({ type: 'stop' });
    this.child?.stdin?.end();
  }
}
