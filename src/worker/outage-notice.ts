/**
 * Says once per outage how long the pilot keeps trying the server and when it gives up, instead of a line
 * per retry. Retries that come within `quietMs` of the previous one (from any request: claims, results,
 * renewals) belong to the same outage; a retry after a longer calm starts a new one, said again.
 */
export class OutageNotice {
  private lastRetry = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly patienceMs: number,
    private readonly say: (line: string) => void,
    private readonly options: { quietMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** For RetryOptions.onRetry. */
  onRetry = (err: Error): void => {
    const now = this.now();
    const sameOutage = now - this.lastRetry < (this.options.quietMs ?? 30_000);
    this.lastRetry = now;
    if (sameOutage) return;
    const until = new Date(now + this.patienceMs).toISOString().slice(11, 19);
    this.say(`${err.message}; waiting for the server: retrying for up to ${Math.round(this.patienceMs / 1000)} s (until ${until} UTC), then giving up (--outage-patience)`);
  };
}
