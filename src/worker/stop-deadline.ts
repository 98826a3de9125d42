import type { RetryOptions } from '../couch/retry.js';

/**
 * How long a stopping pilot keeps trying the server. Until a stop, writes retry for the outage patience.
 * After a signal, running commands get `graceMs` to end, and writes (results of finished commands,
 * tokens put back) are tried until `graceMs` + `slackMs` from the signal, then left to their leases (or
 * the spool). A second signal (`hurry`) shortens that to about a second.
 */
export class StopDeadline {
  private readonly expired = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** Local epoch ms of the deadline, once stopping. */
  at: number | undefined;
  /** Retry options for writes: the base ones, ending at the deadline once there is one. */
  readonly retry: RetryOptions;

  constructor(base: RetryOptions, private readonly graceMs: number, private readonly slackMs: number) {
    this.retry = { ...base, signal: this.expired.signal };
  }

  /** Aborted when the deadline has passed. */
  get signal(): AbortSignal {
    return this.expired.signal;
  }

  /** The first signal: the clock starts. */
  begin(): void {
    if (this.at === undefined) this.set(Date.now() + this.graceMs + this.slackMs);
  }

  /** A second signal: about a second more for what can be put back quickly. */
  hurry(): void {
    this.set(Math.min(this.at ?? Number.POSITIVE_INFINITY, Date.now() + 1_000));
  }

  private set(at: number): void {
    this.at = at;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.expired.abort(new Error('stop deadline passed')), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
