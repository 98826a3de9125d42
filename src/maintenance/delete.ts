import type { Database } from '../couch/database.js';
import type { RetryOptions } from '../couch/retry.js';
import { applyChange, scanSelection, type ChangeOptions, type ChangeResult } from './bulk-change.js';
import type { Selection } from './select.js';
import type { Token } from '../tokens/token.js';

const every = () => true;

export async function planDelete(db: Database, selection: Selection, onMatch?: (t: Token) => void): Promise<number> {
  return scanSelection(db, selection, every, onMatch);
}

/** Delete the selected tokens (CouchDB tombstones: they leave every view at once). */
export async function deleteTokens(
  db: Database, selection: Selection, options: ChangeOptions = {},
): Promise<ChangeResult> {
  return applyChange(db, selection, every, (t) => ({ _id: t._id, _rev: t._rev, _deleted: true }), options);
}
