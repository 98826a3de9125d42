import type { Database } from '../couch/database.js';
import { TOKEN_STATES, type TokenState } from './state.js';

export type StateCounts = Record<TokenState, number>;

/** Counts per state from the design document's `overview_total` view (one request, reduced by the server). */
export async function countStates(db: Database, design = 'Monitor'): Promise<StateCounts> {
  const result = await db.view<number>(design, 'overview_total', { group: true });
  const counts = Object.fromEntries(TOKEN_STATES.map((s) => [s, 0])) as StateCounts;
  for (const row of result.rows) {
    if (typeof row.key === 'string' && (TOKEN_STATES as readonly string[]).includes(row.key)) {
      counts[row.key as TokenState] = Number(row.value) || 0;
    }
  }
  return counts;
}
