import type { BulkResult, Database } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { ClaimedToken } from '../claim/claim.js';
import type { Token } from '../tokens/token.js';
import { saveResult, type SaveOutcome } from './save-result.js';
import { dropOwnConflicts, writeDocs } from '../claim/confirm.js';

interface Pending {
  token: ClaimedToken;
  apply: (current: Token) => Token;
  resolve: (outcome: SaveOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes finished tokens' results by group commit: when no result write is in flight, a result handed in
 * is written at once (alone); results that finish while a write is in flight wait for it and then go
 * together in the next write (one `_bulk_docs`, up to `maxBatch`). So an idle pipeline adds no delay (a
 * pilot killed after handing a result to an idle writer loses nothing: its write has started), and under
 * load the server's durable write is still paid once per batch, not once per token. Each document is
 * conditional on the revision its attempt holds; one that meets a conflict (or any per-document error)
 * takes the careful single path of saveResult, which re-reads and never drops it.
 */
export class ResultBatcher {
  private pending: Pending[] = [];
  private inFlight: Promise<void> | undefined;
  /** Bulk writes made (for tests and benchmarks). */
  writes = 0;

  constructor(
    private readonly db: Database,
    private readonly options: { maxBatch: number; retry?: RetryOptions },
  ) {}

  /** Hand in a result: written at once when the writer is idle, else with the next write. */
  submit(token: ClaimedToken, apply: (current: Token) => Token): Promise<SaveOutcome> {
    return new Promise<SaveOutcome>((resolve, reject) => {
      this.pending.push({ token, apply, resolve, reject });
      this.pump();
    });
  }

  /** Results handed in and not yet written (waiting for the write in flight). */
  get waiting(): number {
    return this.pending.length;
  }

  /** True while a write is under way. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  private pump(): void {
    if (this.inFlight || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.options.maxBatch);
    this.inFlight = this.write(batch).finally(() => {
      this.inFlight = undefined;
      this.pump();
    });
  }

  /** Resolves once every result handed in so far is in the database (or failed). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async write(batch: Pending[]): Promise<void> {
    const docs = batch.map((p) => p.apply(p.token));
    let results: BulkResult[];
    let accepted = false;
    try {
      ({ results, accepted } = await withRetry(() => writeDocs(this.db, docs), this.options.retry));
      this.writes++;
    } catch {
      // The batch as a whole failed (outage past patience, or an odd answer): each result alone.
      results = batch.map(() => ({ id: '', error: 'batch_failed' }));
    }
    await Promise.all(batch.map(async (p, i) => {
      const r = results[i];
      if (r?.ok && r.rev) {
        // 202: fewer copies than the quorum took it; drop any copy of our own write that competes with it.
        if (accepted) await dropOwnConflicts(this.db, docs[i]!._id, r.rev, p.token.picas.attempt).catch(() => 0);
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
