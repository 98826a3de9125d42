import type { Database } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import { tokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';

/** The three answers Snakemake's cluster status command may give. */
export type SnakemakeJobStatus = 'success' | 'failed' | 'running';

export interface JobStatusAnswer {
  status: SnakemakeJobStatus;
  /** Why, when it is not what the token's state says by itself (missing, not a token). */
  note?: string;
}

/**
 * A token's state as Snakemake's status: done → success, error → failed, todo or locked → running.
 * A token that does not exist (deleted, or a wrong id) is failed, never running: Snakemake would wait for
 * it for ever. An outage is retried within `retry`'s patience, then thrown (the command exits non-zero,
 * which Snakemake 7 reports as "Failed to obtain job status": it stops rather than wait blind).
 */
export async function snakemakeJobStatus(db: Database, id: string, retry: RetryOptions = {}): Promise<JobStatusAnswer> {
  const token = await withRetry(() => db.find<Token>(id), retry);
  if (!token) return { status: 'failed', note: `no token "${id}" in database "${db.name}" (deleted, or not a picas job id)` };
  switch (tokenState(token)) {
    case 'done': return { status: 'success' };
    case 'error': return { status: 'failed' };
    case 'todo':
    case 'locked': return { status: 'running' };
    default: return { status: 'failed', note: `document "${id}" is not a token in a known state (type ${JSON.stringify(token.type)}, lock ${JSON.stringify(token.lock)}, done ${JSON.stringify(token.done)})` };
  }
}
