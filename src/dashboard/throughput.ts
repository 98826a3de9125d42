import type { Database } from '../couch/database.js';
import { queryStatusView } from '../status/design.js';

export interface ThroughputPoint {
  /** Start of the interval, epoch seconds. */
  t: number;
  done: number;
  error: number;
}

export interface Throughput {
  points: ThroughputPoint[];
  /** Seconds per point: 10, 30 or 60, the finest that shows the whole span in at most 60 points. */
  bucketSeconds: number;
  /** False when the chart does not reach back an hour because one read could not take it all: the oldest points are left out. */
  complete: boolean;
}

const BUCKETS = [10, 30, 60];
const POINTS = 60;
const FINEST = BUCKETS[0]!;
const HOUR = 3600;
/**
 * Finish times this close to the newest one read are read again at the next refresh: a pilot's clock a
 * little behind the others', or a result saved a little late, still lands in its interval. Older late
 * arrivals (a result spooled for minutes) are not counted in the chart; the counts and the rate are exact.
 */
const SETTLE_SECONDS = 15;

/**
 * Tokens finished per interval over the last hour at most, from the `picas-status/finished` view (finish
 * time as key, 0/1 as value). The first read takes the last hour, newest first, at most `maxRows` rows
 * (keys and values only); after that each read takes only what finished since the previous one (from a
 * little before it: SETTLE_SECONDS), and the older intervals are kept as counts. A dashboard refreshing
 * every few seconds on a farm finishing hundreds of tokens a second thus reads a few thousand rows, not
 * the same 20,000 each time (1.5 s of the embedded server's one thread at a million tokens, every 5 s).
 * When one read cannot take everything since the last (more than `maxRows` finished), the chart starts
 * again from what it read, with the oldest intervals left out (`complete` false), never at the cost of
 * a scan.
 */
export class ThroughputChart {
  /** Counts per FINEST-second interval, for intervals wholly before `settledUntil`. */
  private settled = new Map<number, { done: number; error: number }>();
  /** Intervals before this time are settled; reads start here. Undefined: nothing read yet. */
  private settledUntil: number | undefined;
  /** Counts are known from this time on (-Infinity: for the whole hour). */
  private knownSince = -Infinity;

  constructor(private readonly maxRows = 20_000) {}

  /**
   * Reads what is new and returns the chart; undefined when the status views are missing (and cannot be
   * made). `indexCurrent: false` says the view may lag far behind the database (a large push being
   * indexed): nothing is then settled, so tokens indexed late are still counted in their intervals.
   */
  async read(db: Database, nowSeconds: number, options: { indexCurrent?: boolean } = {}): Promise<Throughput | undefined> {
    const hourAgo = nowSeconds - HOUR;
    const from = this.settledUntil !== undefined && this.settledUntil > hourAgo ? this.settledUntil : hourAgo;
    if (from === hourAgo) this.restart();
    const result = await queryStatusView(db, () => db.view<number>('picas-status', 'finished', {
      descending: true, startkey: nowSeconds + HOUR, endkey: from, limit: this.maxRows, update: 'lazy',
    }));
    if (!result) return undefined;
    const rows = result.rows.map((r) => ({ t: Number(r.key), error: Boolean(r.value) }));
    if (rows.length >= this.maxRows) {
      // More finished since the last read than one read takes: start again from these rows, the oldest
      // (partly read) interval left out.
      this.restart();
      this.knownSince = Math.floor(rows[rows.length - 1]!.t / FINEST) * FINEST + FINEST;
    }
    const recent = new Map<number, { done: number; error: number }>();
    for (const row of rows) {
      const slot = Math.floor(row.t / FINEST) * FINEST;
      // Before `from`: settled already, or the interval only partly inside the hour.
      if (row.t < this.knownSince || slot < from) continue;
      const counts = recent.get(slot) ?? { done: 0, error: 0 };
      recent.set(slot, counts);
      if (row.error) counts.error++; else counts.done++;
    }
    // Intervals well before now will not change any more: keep them as counts, read after them next time.
    const settleBefore = options.indexCurrent === false ? from : Math.floor((nowSeconds - SETTLE_SECONDS) / FINEST) * FINEST;
    for (const [slot, counts] of recent) if (slot < settleBefore) this.settled.set(slot, counts);
    this.settledUntil = settleBefore;
    for (const slot of this.settled.keys()) if (slot < hourAgo - FINEST) this.settled.delete(slot);
    return this.chart(new Map([...this.settled, ...recent]), nowSeconds);
  }

  private restart(): void {
    this.settled.clear();
    this.settledUntil = undefined;
    this.knownSince = -Infinity;
  }

  private chart(counts: Map<number, { done: number; error: number }>, nowSeconds: number): Throughput {
    const hourAgo = nowSeconds - HOUR;
    let oldest = nowSeconds;
    for (const [slot, c] of counts) if (slot >= hourAgo - FINEST && (c.done || c.error) && slot < oldest) oldest = slot;
    if (this.knownSince > hourAgo && this.knownSince < oldest) oldest = this.knownSince;
    const span = Math.max(60, nowSeconds - oldest);
    const bucket = BUCKETS.find((b) => b * POINTS >= span) ?? 60;
    const end = Math.floor(nowSeconds / bucket) * bucket;
    const start = end - (POINTS - 1) * bucket;
    const points: ThroughputPoint[] = Array.from({ length: POINTS }, (_, i) => ({ t: start + i * bucket, done: 0, error: 0 }));
    for (const [slot, c] of counts) {
      const i = Math.floor((slot - start) / bucket);
      if (i < 0 || i >= POINTS) continue;
      points[i]!.done += c.done;
      points[i]!.error += c.error;
    }
    const complete = this.knownSince === -Infinity || this.knownSince <= start;
    // An interval only partly known is left out rather than shown too low.
    const firstWhole = complete ? start : Math.ceil(this.knownSince / bucket) * bucket;
    return { points: points.filter((p) => p.t >= firstWhole), bucketSeconds: bucket, complete };
  }
}

