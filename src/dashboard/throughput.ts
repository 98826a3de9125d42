import type { Database } from '../couch/database.js';
import { queryStatusView } from '../status/design.js';

export interface ThroughputPoint {
  /** Start of the minute, epoch seconds. */
  t: number;
  done: number;
  error: number;
}

/**
 * Tokens finished per minute over the last `minutes`, from one bounded read of the `picas-status/finished`
 * view (keys and a 0/1 value only, at most `maxRows` rows, newest first). When more tokens finished than
 * that, the oldest minutes are left out (`complete` false), never read at the cost of a scan.
 */
export async function throughput(db: Database, nowSeconds: number, minutes = 60, maxRows = 20_000): Promise<{ points: ThroughputPoint[]; complete: boolean } | undefined> {
  const start = Math.floor(nowSeconds / 60) * 60 - (minutes - 1) * 60;
  const result = await queryStatusView(db, () => db.view<number>('picas-status', 'finished', {
    descending: true, startkey: nowSeconds + 3600, endkey: start, limit: maxRows, update: 'lazy',
  }));
  if (!result) return undefined;
  const points: ThroughputPoint[] = Array.from({ length: minutes }, (_, i) => ({ t: start + i * 60, done: 0, error: 0 }));
  const complete = result.rows.length < maxRows;
  const oldestRead = complete ? start : Number(result.rows[result.rows.length - 1]?.key ?? start);
  for (const row of result.rows) {
    const i = Math.floor((Number(row.key) - start) / 60);
    if (i < 0 || i >= minutes) continue;
    if (row.value) points[i]!.error++; else points[i]!.done++;
  }
  // Minutes only partly read are left out rather than shown too low.
  return { points: points.filter((p) => p.t >= oldestRead - (complete ? 0 : -60)), complete };
}
