import type { Database } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import { TOKEN_STATES, type TokenState } from './state.js';

export type StateCounts = Record<TokenState, number>;

/**
 * Counts per state. Each state view holds one row per token in that state, so its `total_rows` (asked
 * with `limit=0`) is the count: constant time on CouchDB and on the embedded server, once the view is up
 * to date. The `overview_total` view's grouped sum gives the same counts in one request, but the embedded
 * server (PouchDB) reduces it by reading every row: 9 s per call at 100k tokens, over a minute at 1M
 * (bench/RESULTS.md, scale). It is still the fallback for a design document without the state views.
 */
export async function countStates(db: Database, design = 'Monitor'): Promise<StateCounts> {
  try {
    const results = await Promise.all(TOKEN_STATES.map((state) => db.view(design, state, { limit: 0 })));
    if (results.every((r) => typeof r.total_rows === 'number')) {
      return Object.fromEntries(TOKEN_STATES.map((state, i) => [state, results[i]!.total_rows])) as StateCounts;
    }
  } catch (err) {
    // A design document without one of the state views (a missing database fails below as well).
    if (!(err instanceof NotFoundError)) throw err;
  }
  return countStatesByOverview(db, design);
}

/** Counts per state from the design document's `overview_total` view (one request, reduced by the server). */
export async function countStatesByOverview(db: Database, design = 'Monitor'): Promise<StateCounts> {
  const result = await db.view<number>(design, 'overview_total', { group: true });
  const counts = Object.fromEntries(TOKEN_STATES.map((s) => [s, 0])) as StateCounts;
  for (const row of result.rows) {
    if (typeof row.key === 'string' && (TOKEN_STATES as readonly string[]).includes(row.key)) {
      counts[row.key as TokenState] = Number(row.value) || 0;
    }
  }
  return counts;
}
