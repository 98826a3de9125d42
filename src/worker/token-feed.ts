import type { Database } from '../couch/database.js';
import { claimTokens, type ClaimedToken, type ClaimOptions, type ClaimStats } from '../claim/claim.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';

/**
 * Hands claimed tokens to a pilot's slots. Claims go in batches (one `_bulk_docs` each); only one claim is
 * in flight at a time, so slots that ask together share its result instead of racing each other.
 */
export class TokenFeed {
  private queue: ClaimedToken[] = [];
  private inFlight: Promise<void> | undefined;
  private exhausted = false;
  readonly stats: ClaimStats = { rounds: 0, conflicts: 0 };

  constructor(
    private readonly db: Database,
    private readonly options: ClaimOptions,
    private readonly retry: RetryOptions = {},
    private readonly hooks: {
      /** How many to claim now (e.g. sized from recent task durations); default options.batchSize. */
      batchSize?: () => number;
      /** Run before each claim: the pilot writes pending results first. */
      beforeClaim?: () => Promise<void>;
    } = {},
  ) {}

  /** The next claimed token, or undefined when the views hold no free token right now. */
  async next(): Promise<ClaimedToken | undefined> {
    for (;;) {
      const token = this.queue.shift();
      if (token) return token;
      if (this.options.signal?.aborted) return undefined;
      if (!this.inFlight) {
        this.exhausted = false;
        this.inFlight = this.fill().finally(() => { this.inFlight = undefined; });
      }
      await this.inFlight;
      if (this.queue.length === 0 && this.exhausted) return undefined;
    }
  }

  private async fill(): Promise<void> {
    await this.hooks.beforeClaim?.();
    const options = this.hooks.batchSize ? { ...this.options, batchSize: this.hooks.batchSize() } : this.options;
    const claimed = await withRetry(() => claimTokens(this.db, options, this.stats), { ...this.retry, signal: this.options.signal });
    if (claimed.length === 0) this.exhausted = true;
    this.queue.push(...claimed);
  }

  /** True while a claim is on its way: its tokens may be locked in the database but not yet known here. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Ids of tokens claimed and waiting for a slot. */
  queuedIds(): Set<string> {
    return new Set(this.queue.map((t) => t._id));
  }

  /** Tokens claimed and waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Take back all but the first `keep` waiting tokens (the last claimed go first), to give them back. */
  takeBack(keep: number): ClaimedToken[] {
    if (this.queue.length <= keep) return [];
    return this.queue.splice(Math.max(0, keep));
  }

  /** Tokens claimed but not started: the pilot gives them back when it stops. */
  drain(): ClaimedToken[] {
    const left = this.queue;
    this.queue = [];
    return left;
  }
}
