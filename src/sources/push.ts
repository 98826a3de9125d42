import type { BulkResult, Database } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { Token } from '../tokens/token.js';
import type { SourceRecord } from './record.js';
import { recordToToken, type IdPolicy } from './to-token.js';

/** One token that was not added, and why. `exists` is not an error: the same token is there already. */
export interface PushRejection {
  id: string;
  where: string;
  kind: 'exists' | 'failed';
  reason: string;
}

export interface PushProgress {
  /** Tokens sent so far (added + existing + failed). */
  sent: number;
  added: number;
  existing: number;
  failed: number;
}

export interface PushOptions extends IdPolicy {
  /** Tokens per `_bulk_docs` request. */
  batchSize?: number;
  /** Called for every token not added: none is dropped silently. */
  onRejected?: (rejection: PushRejection) => void;
  /** Called after every batch. */
  onProgress?: (progress: PushProgress) => void;
  retry?: RetryOptions;
}

export const DEFAULT_BATCH_SIZE = 500;

/** Why CouchDB refused one document of a bulk write, in words. */
function rejection(result: BulkResult, where: string): PushRejection {
  if (result.error === 'conflict') {
    return { id: result.id, where, kind: 'exists', reason: 'already there (a token with this id exists; nothing changed)' };
  }
  if (result.error === 'forbidden' || result.error === 'unauthorized') {
    return { id: result.id, where, kind: 'failed', reason: `refused by the database (${result.error}${result.reason ? `: ${result.reason}` : ''})` };
  }
  return { id: result.id, where, kind: 'failed', reason: `${result.error ?? 'unknown error'}${result.reason ? `: ${result.reason}` : ''}` };
}

/**
 * Push records as new tokens in bulk batches, holding one batch in memory at a time. Every token the
 * database did not take is reported through `onRejected` with its source line. A retry after a lost
 * answer cannot duplicate tokens: ids are fixed before the first try, so a token written by the lost
 * try comes back as "already there".
 */
export async function pushTokens(db: Database, records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>, options: PushOptions = {}): Promise<PushProgress> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const progress: PushProgress = { sent: 0, added: 0, existing: 0, failed: 0 };
  let batch: Token[] = [];
  let wheres: string[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const docs = batch;
    const results = await withRetry(() => db.bulkDocs(docs), options.retry);
    results.forEach((result, i) => {
      if (result.ok || (result.rev && !result.error)) {
        progress.added++;
        return;
      }
      const r = rejection({ ...result, id: result.id ?? docs[i]!._id }, wheres[i] ?? '');
      if (r.kind === 'exists') progress.existing++;
      else progress.failed++;
      options.onRejected?.(r);
    });
    progress.sent += docs.length;
    batch = [];
    wheres = [];
    options.onProgress?.({ ...progress });
  };

  for await (const record of records) {
    batch.push(recordToToken(record, options));
    wheres.push(record.where);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return progress;
}

/**
 * Read every record once without keeping any, to find a malformed line before anything is written and
 * to learn how many tokens there are (for the progress bar). Ids are checked too.
 */
export async function checkRecords(records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>, ids: IdPolicy = {}): Promise<number> {
  let count = 0;
  for await (const record of records) {
    recordToToken(record, ids);
    count++;
  }
  return count;
}
