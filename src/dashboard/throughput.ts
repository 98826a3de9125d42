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
  /** False when more tokens finished in the span than one read takes: the oldest points are left out. */
  complete: boolean;
}

const BUCKETS = [10, 30, 60];
const POINTS = 60;

/**
 * Tokens finished per interval over the last hour at most, from one bounded read of the
 * `picas-status/finished` view (keys and a 0/1 value only, at most `maxRows` rows, newest first). A run
 * that started a few minutes ago is shown in 10 s intervals over those minutes, a long one per minute over
 * the last hour. When more tokens finished than one read takes, the oldest intervals are left out
 * (`complete` false), never read at the cost of a scan.
 */
export async function throughput(db: Database, nowSeconds: number, maxRows = 20_000): Promise<Throughput | undefined> {
  const hourAgo = nowSeconds - 3600;
  const result = await queryStatusView(db, () => db.view<number>('picas-status', 'finished', {
    descending: true, startkey: nowSeconds + 3600, endkey: hourAgo, limit: maxRows, update: 'lazy',
  }));
  if (!result) return undefined;
  const rows = result.rows;
  const complete = rows.length < maxRows;
  const oldest = rows.length ? Number(rows[rows.length - 1]!.key) : nowSeconds;
  const span = Math.max(60, nowSeconds - oldest);
  const bucket = BUCKETS.find((b) => b * POINTS >= span) ?? 60;
  const end = Math.floor(nowSeconds / bucket) * bucket;
  const start = end - (POINTS - 1) * bucket;
  const points: ThroughputPoint[] = Array.from({ length: POINTS }, (_, i) => ({ t: start + i * bucket, done: 0, error: 0 }));
  for (const row of rows) {
    const i = Math.floor((Number(row.key) - start) / bucket);
    if (i < 0 || i >= POINTS) continue;
    if (row.value) points[i]!.error++; else points[i]!.done++;
  }
  // An interval only partly read is left out rather than shown too low.
  const firstWhole = complete ? start : (Math.floor(oldest / bucket) + 1) * bucket;
  return { points: points.filter((p) => p.t >= firstWhole), bucketSeconds: bucket, complete };
}
