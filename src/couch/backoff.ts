/** Randomised exponential back-off ("full jitter"): a wait in [base, min(cap, base * 2^n)]. */
export function backoffMs(attempt: number, baseMs = 20, capMs = 2_000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return baseMs + random() * Math.max(0, ceiling - baseMs);
}

/** Sleep that ends early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
