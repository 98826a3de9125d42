import type { Database } from '../couch/database.js';
import { BadRequestError, ConflictError, CouchError, DatabaseNotFoundError, ForbiddenError, NotFoundError, UnauthorizedError } from '../couch/errors.js';
import type { Token } from '../tokens/token.js';

/**
 * Free tokens from a Mango index, for claims on CouchDB 2 and later.
 *
 * Reading `Monitor/todo` makes CouchDB bring the whole `Monitor` index up to date first: five JavaScript
 * views, each changed token sent through the JavaScript view server (a reset and five functions per
 * update, on every shard). On a busy farm that was most of the server's time per token (bench/RESULTS.md,
 * run 6). A Mango index is built by CouchDB itself in Erlang, and this one holds only free tokens (its
 * partial filter), keyed by id like `todo`, so a claim reads it the same way: from a random id, about twice
 * the batch. `_find` returns the documents as they are when read, checked against the selector, so the
 * claim needs no second read of them. `Monitor` is never touched; it is brought up to date only when
 * something reads it (status, the dashboard, the Python client).
 *
 * The selector matches `lock` and `done` equal to the number 0, as every client writes them; the view's
 * loose `==` also takes `"0"` or `false`. Claims fall back to the view when the index offers nothing, so
 * such tokens are still claimed, last.
 */
export const FREE_INDEX = { ddoc: 'picas-claim', name: 'free' } as const;

const FREE_SELECTOR = { type: 'token', lock: 0, done: 0 };

export interface FreeRead {
  /** Ids from this one on (inclusive), in the index's (ICU) order. */
  startkey?: string;
  /** Ids before this one (exclusive). */
  endkey?: string;
  limit: number;
  descending?: boolean;
  /** Only the ids (for the range's ends): smaller answers. */
  idsOnly?: boolean;
}

/** Create the index (CouchDB answers `exists` when it is there). False when this user may not (only admins write design documents). */
export async function ensureFreeIndex(db: Database): Promise<boolean> {
  try {
    await db.request('POST', '/_index', {
      body: {
        index: { fields: ['_id'], partial_filter_selector: FREE_SELECTOR },
        ddoc: FREE_INDEX.ddoc, name: FREE_INDEX.name, type: 'json',
      },
    });
    return true;
  } catch (err) {
    if (err instanceof UnauthorizedError || err instanceof ForbiddenError) return false;
    // Pilots starting together create it at once; one wins, the others find it made (CouchDB answers the
    // losers 500 error_saving_ddoc, "a conflict while saving the design document").
    if (err instanceof ConflictError || (err instanceof CouchError && err.error === 'error_saving_ddoc')) return true;
    throw err;
  }
}

/** Free tokens from the index; throws NoFreeIndexError when it does not exist. */
export async function findFree(db: Database, read: FreeRead): Promise<Token[]> {
  // Always a condition on `_id`, the index's field: `$gt: null` is every id (Mango orders null before strings).
  const id: Record<string, string | null> = {};
  if (read.startkey !== undefined) id.$gte = read.startkey;
  else id.$gt = null;
  if (read.endkey !== undefined) id.$lt = read.endkey;
  const body = {
    selector: { ...FREE_SELECTOR, _id: id },
    use_index: [FREE_INDEX.ddoc, FREE_INDEX.name],
    // Never a scan of the whole database when the index is missing: an error instead.
    allow_fallback: false,
    sort: [{ _id: read.descending ? 'desc' : 'asc' }],
    limit: read.limit,
    ...(read.idsOnly ? { fields: ['_id'] } : {}),
  };
  try {
    return (await db.request<{ docs: Token[] }>('POST', '/_find', { body })).body.docs ?? [];
  } catch (err) {
    if (err instanceof BadRequestError || (err instanceof NotFoundError && !(err instanceof DatabaseNotFoundError))) throw new NoFreeIndexError(err.message);
    throw err;
  }
}

export class NoFreeIndexError extends Error {}
