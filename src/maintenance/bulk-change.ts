import type { Database, Doc } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { Token } from '../tokens/token.js';
import { selectTokens, type Selection } from './select.js';

export interface ChangeFailure {
  id: string;
  reason: string;
}

export interface ChangeResult {
  /** Tokens that matched when the change was written. */
  matched: number;
  changed: number;
  failed: number;
}

export interface ChangeOptions {
  onFailed?: (f: ChangeFailure) => void;
  /** After each page written (a progress bar on a terminal). */
  onProgress?: (sofar: ChangeResult) => void;
  retry?: RetryOptions;
}

/** Count the matching tokens (and show each to `onMatch`) without changing anything: the dry run and the question. */
export async function scanSelection(
  db: Database, selection: Selection, filter: (t: Token) => boolean, onMatch?: (t: Token) => void,
): Promise<number> {
  let count = 0;
  for await (const page of selectTokens(db, selection)) {
    for (const token of page) {
      if (!filter(token)) continue;
      count++;
      onMatch?.(token);
    }
  }
  return count;
}

/**
 * Write `change(token)` for every matching token, one `_bulk_docs` per page, each conditional on the
 * revision just read. A token changed by someone else meanwhile (a pilot finishing it) is not
 * overwritten: it is reported as a failure so the user can look and run the command again.
 */
export async function applyChange(
  db: Database, selection: Selection, filter: (t: Token) => boolean, change: (t: Token) => Doc,
  options: ChangeOptions = {},
): Promise<ChangeResult> {
  const result: ChangeResult = { matched: 0, changed: 0, failed: 0 };
  for await (const page of selectTokens(db, selection)) {
    const docs = page.filter(filter).map(change);
    if (docs.length === 0) continue;
    result.matched += docs.length;
    const answers = await withRetry(() => db.bulkDocs(docs), options.retry);
    answers.forEach((a, i) => {
      if (a.ok || (a.rev && !a.error)) { result.changed++; return; }
      result.failed++;
      const reason = a.error === 'conflict'
        ? 'changed by someone else meanwhile (409 conflict); left as it is, run the command again to include it'
        : `${a.error}${a.reason ? `: ${a.reason}` : ''}`;
      options.onFailed?.({ id: a.id ?? docs[i]!._id, reason });
    });
    options.onProgress?.(result);
  }
  return result;
}
