import type { Database } from '../couch/database.js';
import { queryStatusView } from './design.js';

export interface CompletionRate {
  /** Tokens finished (done or error) per minute over the window. */
  perMinute: number;
  /** The window it was measured over, in seconds. */
  windowSeconds: number;
  /** Tokens finished within the window (at most `maxRows`). */
  finished: number;
}

/**
 * How fast tokens finish: the tokens finished in the last `windowSeconds` (by their `done` time), read as
 * one range of the `picas-status/finished` view, keys only and at most `maxRows` rows. When more finished
 * than that, the window shrinks to the time those rows span, so the read stays bounded at any rate.
 */
export async function completionRate(db: Database, nowSeconds: number, windowSeconds = 600, maxRows = 1_000, update: 'true' | 'lazy' = 'true'): Promise<CompletionRate | undefined> {
  const result = await queryStatusView(db, () => db.view<number>('picas-status', 'finished', {
    descending: true, startkey: nowSeconds + 3600, endkey: nowSeconds - windowSeconds, limit: maxRows, update,
  }));
  if (!result) return undefined;
  const rows = result.rows;
  // The window is what the rows span when they do not fill it: a run that started two minutes ago is
  // measured over those two minutes, not diluted over ten; or, with more rows than read, over the rows read.
  let window = windowSeconds;
  if (rows.length >= maxRows || rows.length > 0) {
    const oldest = Number(rows[rows.length - 1]!.key);
    window = Math.min(windowSeconds, Math.max(10, nowSeconds - oldest));
  }
  return { perMinute: (rows.length / window) * 60, windowSeconds: window, finished: rows.length };
}

/** Seconds until the tokens left (todo and locked) are done at this rate; undefined when nothing finishes. */
export function etaSeconds(left: number, rate: CompletionRate | undefined): number | undefined {
  if (left === 0) return 0;
  if (!rate || rate.perMinute <= 0) return undefined;
  return (left / rate.perMinute) * 60;
}
