import type { BulkResult, Database } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { ClaimedToken } from '../claim/claim.js';
import type { Token } from '../tokens/token.js';
import { saveResult, type SaveOutcome } from './save-result.js';

interface Pending {
  token: ClaimedToken;
  apply: (current: Token) => Token;
  resolve: (outcome: SaveOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes finished tokens' results together: one `_bulk_docs` for many results, each document conditional on
 * the revision its attempt holds, so the server's durable write is paid once per batch, not once per token.
 * A result that meets a conflict (or any per-document error) takes the careful single path of saveResult,
 * which re-reads and never drops it. Results wait at most `maxDelayMs`, and the pilot flushes before it
 * claims more work, so a result is never held back behind new claims.
 */
export class ResultBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  writes = 0;

  constructor(
    private readonly db: Database,
    private readonly options: { maxBatch: number; maxDelayMs: number; retry?: RetryOptions },
  ) {}

  submit(token: ClaimedToken, apply: (current: Token) => Token): Promise<SaveOutcome> {
    return new Promise<SaveOutcome>((resolve, reject) => {
      this.pending.push({ token, apply, resolve, reject });
      if (this.pending.length >= this.options.maxBatch) void this.flush();
      else if (!this.timer) {
        this.timer = setTimeout(() => { void this.flush(); }, this.options.maxDelayMs);
      }
    });
  }

  get size(): number {
    return this.pending.length;
  }

  /** Write everything submitted so far; resolves when it is all in the database (or failed). */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const batch = this.pending;
    this.pending = [];
    // One flush at a time, in order: a later flush waits for the earlier one.
    this.flushing = this.flushing.then(() => (batch.length ? this.write(batch) : undefined));
    return this.flushing;
  }

  private async write(batch: Pending[]): Promise<void> {
    const docs = batch.map((p) => p.apply(p.token));
    let results: BulkResult[];
    try {
      results = await withRetry(() => this.db.bulkDocs(docs), this.options.retry);
      this.writes++;
    } catch {
      // The batch as a whole failed (outage past patience, or an odd answer): each result alone.
      results = batch.map(() => ({ id: '', error: 'batch_failed' }));
    }
    await Promise.all(batch.map(async (p, i) => {
      const r = results[i];
      if (r?.ok && r.rev) {
        p.resolve({ kind: 'saved', rev: r.rev, token: { ...docs[i]!, _rev: r.rev } });
        return;
      }
      try {
        p.resolve(await saveResult(this.db, p.token, p.apply, this.options.retry));
      } catch (err) {
        p.reject(err);
      }
    }));
  }
}
