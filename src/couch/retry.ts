import { isTransient } from './errors.js';
import { backoffMs, sleep } from './backoff.js';

export interface RetryOptions {
  /** How long to keep trying through an outage before giving up (ms). */
  patienceMs?: number;
  /** Said once per failed try: what we wait for. */
  onRetry?: (err: Error, waitMs: number, attempt: number) => void;
  signal?: AbortSignal;
}

/**
 * Run `fn`, retrying transient failures (unreachable, timeout, 5xx, 429) with exponential back-off and
 * jitter until `patienceMs` has passed. Other errors (409, 404, 401...) are answers, not outages: thrown at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const patience = options.patienceMs ?? 300_000;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || options.signal?.aborted) throw err;
      const elapsed = Date.now() - started;
      if (elapsed >= patience) throw err;
      const wait = Math.min(backoffMs(attempt, 200, 15_000), patience - elapsed);
      options.onRetry?.(err as Error, wait, attempt + 1);
      await sleep(wait, options.signal);
    }
  }
}
