import type { Database } from '../couch/database.js';
import { BadRequestError, ConflictError, CouchError, DatabaseNotFoundError, ForbiddenError, NotFoundError, UnauthorizedError } from '../couch/errors.js';

/**
 * Free tokens from a Mango index, for claims on CouchDB 2 and later.
 *
 * Reading `Monitor/todo` makes CouchDB bring the whole `Monitor` index up to date first: five JavaScript
 * views, each changed token sent through the JavaScript view server (a reset and five functions per
 * update, on every shard). On a busy farm that was most of the server's time per token (bench/RESULTS.md,
 * run 6). A Mango index is built by CouchDB itself in Erlang. This one is keyed by
 * `[type, lock, done, _id]`, so the free tokens are one range of it, in id order like `todo`, read from a
 * random id as the view is; and since the query asks only for `_id`, every field it names is in the index
 * (a covering index, CouchDB 3.3+): CouchDB answers from the index alone, reading no document. A partial
 * index of the free tokens alone would be smaller, but its queries must read every document they return.
 * `Monitor` is never touched; it is brought up to date only when something reads it (status, the
 * dashboard, the Python client).
 *
 * The selector matches `lock` and `done` equal to the number 0, as every client writes them; the view's
 * loose `==` also takes `"0"` or `false`. Claims fall back to the view when the index offers nothing, so
 * such tokens are still claimed, last.
 */
export const FREE_INDEX = { ddoc: 'picas-claim', name: 'free' } as const;

const FIELDS = ['type', 'lock', 'done', '_id'] as const;
const FREE_SELECTOR = { type: 'token', lock: 0, done: 0 };

export interface FreeRead {
  /** Ids from this one on (inclusive), in the index's (ICU) order. */
  startkey?: string;
  /** Ids before this one (exclusive). */
  endkey?: string;
  limit: number;
  descending?: boolean;
}

/** Create the index (CouchDB answers `exists` when it is there). False when this user may not (only admins write design documents). */
export async function ensureFreeIndex(db: Database): Promise<boolean> {
  try {
    await db.request('POST', '/_index', {
      body: { index: { fields: FIELDS }, ddoc: FREE_INDEX.ddoc, name: FREE_INDEX.name, type: 'json' },
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

/** Ids of free tokens from the index; throws NoFreeIndexError when it does not exist. */
export async function findFree(db: Database, read: FreeRead): Promise<string[]> {
  const id: Record<string, string> = {};
  if (read.startkey !== undefined) id.$gte = read.startkey;
  if (read.endkey !== undefined) id.$lt = read.endkey;
  const direction = read.descending ? 'desc' : 'asc';
  const body = {
    selector: { ...FREE_SELECTOR, ...(Object.keys(id).length ? { _id: id } : {}) },
    use_index: [FREE_INDEX.ddoc, FREE_INDEX.name],
    // Never a scan of the whole database when the index is missing: an error instead.
    allow_fallback: false,
    sort: FIELDS.map((f) => ({ [f]: direction })),
    fields: ['_id'],
    limit: read.limit,
  };
  try {
    const docs = (await db.request<{ docs: { _id: string }[] }>('POST', '/_find', { body })).body.docs ?? [];
    return docs.map((d) => d._id);
  } catch (err) {
    if (err instanceof BadRequestError || (err instanceof NotFoundError && !(err instanceof DatabaseNotFoundError))) throw new NoFreeIndexError(err.message);
    throw err;
  }
}

export class NoFreeIndexError extends Error {}
