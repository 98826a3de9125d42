/**
 * How much work a pilot may hold without starting it. A pilot claims in batches (fewer requests), but a
 * token it claims and cannot start soon is a token another pilot with a free slot could be running. So a
 * pilot holds no more unstarted tokens than it will start within about `batchSeconds`, judged by:
 * - the durations of its recent tokens: the mean of the last few, but never less than the last one, so a
 *   long token changes the estimate at once (a batch of short tokens after it brings it down again);
 * - each running token's time so far: a slot busy longer than the estimate frees later than estimated,
 *   which tells of long tokens before any of them has ended.
 * Starts within T = sum over slots of T / max(estimate, that slot's running time); an idle slot counts
 * T / estimate. Before any token ended, nothing is known: claims take one token per slot.
 */
export interface WorkPaceOptions {
  slots: number;
  /** Most tokens per claim. */
  maxBatch: number;
  /** Seconds of work per pilot to claim ahead (default 2). */
  batchSeconds?: number;
  /** Durations remembered (default 8). */
  window?: number;
  /** For tests: the clock (ms). */
  now?: () => number;
}

export class WorkPace {
  private readonly recent: number[] = [];
  private readonly running = new Map<number, number>();
  private readonly targetMs: number;

  constructor(private readonly options: WorkPaceOptions) {
    this.targetMs = (options.batchSeconds ?? 2) * 1000;
  }

  private now(): number {
    return (this.options.now ?? performance.now.bind(performance))();
  }

  /** A slot started a token. */
  started(slot: number): void {
    this.running.set(slot, this.now());
  }

  /** A slot's token ended (ran to its end, failed or was stopped): `countDuration` false for stops that say nothing of its length. */
  ended(slot: number, countDuration = true): void {
    const since = this.running.get(slot);
    this.running.delete(slot);
    if (since === undefined || !countDuration) return;
    this.recent.push(this.now() - since);
    if (this.recent.length > (this.options.window ?? 8)) this.recent.shift();
  }

  /** The typical token's duration (ms), or undefined before any ended. */
  estimateMs(): number | undefined {
    if (this.recent.length === 0) return undefined;
    const mean = this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    return Math.max(1, mean, this.recent[this.recent.length - 1]!);
  }

  /** Tokens the pilot will start within about batchSeconds (fractional). */
  startsSoon(): number {
    const estimate = this.estimateMs();
    const now = this.now();
    let starts = 0;
    for (let slot = 0; slot < this.options.slots; slot++) {
      const since = this.running.get(slot);
      const busyFor = since === undefined ? 0 : now - since;
      const per = Math.max(estimate ?? 0, busyFor);
      // Nothing known of durations yet and this slot idle: it starts one now.
      starts += per > 0 ? this.targetMs / per : 1;
    }
    return starts;
  }

  /** How many tokens to claim now (a slot is free and asks). */
  claimSize(): number {
    const max = Math.max(1, this.options.maxBatch);
    if (max <= 1) return 1;
    if (this.estimateMs() === undefined) return Math.min(max, this.options.slots);
    return Math.max(1, Math.min(max, Math.ceil(this.startsSoon())));
  }

  /** Most unstarted tokens to keep; the rest go back. */
  keepUnstarted(): number {
    if (this.estimateMs() === undefined && this.running.size === 0) return Number.POSITIVE_INFINITY;
    return Math.floor(this.startsSoon());
  }
}
