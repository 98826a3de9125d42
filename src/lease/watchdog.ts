import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchdogMain } from './watchdog-main.js';

/**
 * The pilot's side of the watchdog (see watchdog-main.ts): starts it, and tells it the lease deadline
 * and the process groups of running commands through an atomically rewritten state file.
 */
export class Watchdog {
  private dir: string | undefined;
  private readonly groups = new Set<number>();
  private deadline = Number.MAX_SAFE_INTEGER;
  private child: ChildProcess | undefined;

  /**
   * `marker` (`NAME=value`) is set in the environment of every command of this pilot: the watchdog finds
   * the commands by it, so a command is covered from its first instant, named here or not.
   */
  constructor(private readonly graceMs: number, private readonly marker: string) {}

  get started(): boolean {
    return this.child !== undefined;
  }

  /** Start the watchdog process; call before the first command is spawned. */
  start(): void {
    if (this.child) return;
    this.dir = mkdtempSync(join(tmpdir(), 'picas-watchdog-'));
    this.write();
    // `__name`: a helper some TypeScript loaders (tsx) insert into function sources; a no-op here.
    const program = `var __name = (f) => f; (${watchdogMain.toString()})(process.argv[1]);`;
    // Detached: its own process group, so a signal to the pilot's group (SIGSTOP, Ctrl-C) does not reach it.
    this.child = spawn(process.execPath, ['-e', program, this.file!], { detached: true, stdio: ['ignore', 'ignore', 'inherit'] });
    this.child.unref();
  }

  /** Commands must be stopped before this local time (epoch ms) unless it is moved again. */
  setDeadline(localMs: number): void {
    this.deadline = localMs;
    this.write();
  }

  add(pgid: number): void { this.groups.add(pgid); this.write(); }
  remove(pgid: number): void { this.groups.delete(pgid); this.write(); }

  private get file(): string | undefined {
    return this.dir ? join(this.dir, 'state.json') : undefined;
  }

  private write(): void {
    const file = this.file;
    if (!file) return; // not started: nothing to guard yet, and no folder left behind by a killed pilot
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ pilotPid: process.pid, deadline: this.deadline, groups: [...this.groups], graceMs: this.graceMs, marker: this.marker }));
    renameSync(tmp, file);
  }

  stop(): void {
    try { this.child?.kill('SIGTERM'); } catch { /* already gone */ }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
