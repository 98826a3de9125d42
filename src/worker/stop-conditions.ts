import { existsSync } from 'node:fs';
import type { PilotSummary } from './pilot-types.js';

export type StopReason = PilotSummary['stoppedBy'];

export interface StopConditionsOptions {
  /** Aborted by a signal: stop now. */
  signal: AbortSignal;
  maxTasks?: number;
  maxTotalTimeMs?: number;
  /** Asked before each claim: true ends the pilot. */
  stop?: () => boolean | Promise<boolean>;
  /** Drain when this file exists. */
  stopFile?: string;
  /** Drain when this aborts (SIGUSR1). */
  drain?: AbortSignal;
  log: (line: string) => void;
  /** For tests: the clock (ms). */
  now?: () => number;
}

/**
 * Decides whether the pilot claims another token, and if not, why it stops: a signal, --max-tasks,
 * --max-total-time, the caller's stop function, or a drain (stop file, SIGUSR1, the database). The first
 * reason found is kept: later ones do not overwrite it.
 */
export class StopConditions {
  private readonly startedAt: number;
  private started = 0;
  private draining = false;
  reason: StopReason | undefined;

  constructor(private readonly options: StopConditionsOptions) {
    this.startedAt = this.now();
    if (options.drain?.aborted) this.startDrain('asked by signal');
    else options.drain?.addEventListener('abort', () => this.startDrain('asked by signal'), { once: true });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Finish current tokens, claim no more (said once). */
  startDrain(why: string): void {
    if (this.draining) return;
    this.draining = true;
    this.options.log(`draining (${why}): finishing current tokens, claiming no more`);
  }

  /** A token was started (counts towards --max-tasks). */
  taskStarted(): void {
    this.started++;
  }

  /** Record why the pilot ends, unless a reason is known already. */
  settle(reason: StopReason): void {
    this.reason ??= reason;
  }

  /** True when no further token may be claimed; `reason` says why. */
  async shouldStop(): Promise<boolean> {
    const o = this.options;
    if (o.signal.aborted) { this.settle('signal'); return true; }
    if (this.reason) return true;
    if (o.maxTasks !== undefined && this.started >= o.maxTasks) { this.settle('maxTasks'); return true; }
    if (o.maxTotalTimeMs !== undefined && this.now() - this.startedAt >= o.maxTotalTimeMs) { this.settle('maxTotalTime'); return true; }
    if (o.stop && await o.stop()) { this.settle('stop'); return true; }
    if (o.stopFile && existsSync(o.stopFile)) this.startDrain(`stop file ${o.stopFile} exists`);
    if (this.draining) { this.settle('drain'); return true; }
    return false;
  }
}
