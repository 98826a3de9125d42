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
  /**
   * Batch writes in flight at once while the next batch is read. CouchDB writes a database's shards in
   * parallel, so a second write in flight keeps it busy while the first one's answer travels back (on
   * the embedded server it makes no difference). Memory holds at most this many batches plus one.
   */
  inFlight?: number;
  /** Called for every token not added: none is dropped silently. */
  onRejected?: (rejection: PushRejection) => void;
  /** Called after every batch. */
  onProgress?: (progress: PushProgress) => void;
  retry?: RetryOptions;
}

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_IN_FLIGHT = 2;

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
 * Push records as new tokens in bulk batches, up to `inFlight` batch writes at a time while the next batch
 * is read (memory holds those batches and the one being read). Every token the
 * database did not take is reported through `onRejected` with its source line. A retry after a lost
 * answer cannot duplicate tokens: ids are fixed before the first try, so a token written by the lost
 * try comes back as "already there".
 */
export async function pushTokens(db: Database, records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>, options: PushOptions = {}): Promise<PushProgress> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const inFlight = Math.max(1, options.inFlight ?? DEFAULT_IN_FLIGHT);
  const progress: PushProgress = { sent: 0, added: 0, existing: 0, failed: 0 };
  const writes = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let batch: Token[] = [];
  let wheres: string[] = [];

  const write = async (docs: Token[], where: string[]) => {
    const results = await withRetry(() => db.bulkDocs(docs), options.retry);
    results.forEach((result, i) => {
      if (result.ok || (result.rev && !result.error)) {
        progress.added++;
        return;
      }
      const r = rejection({ ...result, id: result.id ?? docs[i]!._id }, where[i] ?? '');
      if (r.kind === 'exists') progress.existing++;
      else progress.failed++;
      options.onRejected?.(r);
    });
    progress.sent += docs.length;
    options.onProgress?.({ ...progress });
  };
  const send = () => {
    if (batch.length === 0) return;
    const w: Promise<void> = write(batch, wheres)
      .catch((error) => { failure ??= { error }; })
      .finally(() => { writes.delete(w); });
    writes.add(w);
    batch = [];
    wheres = [];
  };
  // A failed write (after its retries) ends the push with its error once the writes already in flight have
  // answered: their tokens are counted or reported, and nothing after the failed batch is sent.
  const settle = async () => {
    await Promise.all(writes);
    if (failure) throw failure.error;
  };

  try {
    for await (const record of records) {
      batch.push(recordToToken(record, options));
      wheres.push(record.where);
      if (batch.length >= batchSize) {
        send();
        while (writes.size >= inFlight) await Promise.race(writes);
        if (failure) await settle();
      }
    }
  } catch (err) {
    // A bad record or a failed read: the batches already sent still answer (and are counted) first.
    await Promise.all(writes);
    throw err;
  }
  send();
  await settle();
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
