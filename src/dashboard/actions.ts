import type { Database } from '../couch/database.js';
import { setDrain } from '../lease/control.js';
import { resetToken } from '../tokens/operations.js';
import { tokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';
import { resetTokens } from '../maintenance/reset.js';
import { viewSelection } from '../maintenance/select.js';
import { defaultMarginSeconds } from '../lease/expiry.js';

export interface ActionResult {
  changed: number;
  failed: number;
  /** What happened, in one sentence for the page. */
  message: string;
}

/** Most tokens one selection action takes (the page selects from one page of at most 200). */
export const MAX_SELECTED = 1_000;

async function changeIds(db: Database, ids: string[], change: (t: Token) => Token | { _id: string; _rev?: string; _deleted: true }): Promise<{ changed: number; failed: number }> {
  if (!Array.isArray(ids) || ids.length === 0) return { changed: 0, failed: 0 };
  if (ids.length > MAX_SELECTED) throw new RangeError(`at most ${MAX_SELECTED} tokens at once`);
  const docs = (await db.allDocs<Token>({ keys: ids.map(String), include_docs: true })).rows
    .map((r) => r.doc).filter((d): d is Token => !!d && tokenState(d) !== undefined);
  if (docs.length === 0) return { changed: 0, failed: ids.length };
  // Each write is conditional on the revision just read: a token a pilot changed meanwhile is left alone.
  const answers = await db.bulkDocs(docs.map(change));
  const changed = answers.filter((a) => a.ok).length;
  return { changed, failed: ids.length - changed };
}

export async function resetSelected(db: Database, ids: string[]): Promise<ActionResult> {
  const r = await changeIds(db, ids, (t) => resetToken(t));
  return { ...r, message: `${r.changed} token(s) put back to todo${r.failed ? `; ${r.failed} not (changed meanwhile or not tokens)` : ''}` };
}

export async function deleteSelected(db: Database, ids: string[]): Promise<ActionResult> {
  const r = await changeIds(db, ids, (t) => ({ _id: t._id, _rev: t._rev, _deleted: true }));
  return { ...r, message: `${r.changed} token(s) deleted${r.failed ? `; ${r.failed} not (changed meanwhile or not tokens)` : ''}` };
}

/** Put back every locked token whose lease ended (its pilot is gone), as `picas reset --expired`. */
export async function resetExpired(db: Database, leaseSeconds = 300): Promise<ActionResult> {
  const r = await resetTokens(db, viewSelection('locked'), { expired: true, marginSeconds: defaultMarginSeconds(leaseSeconds) });
  return { changed: r.changed, failed: r.failed, message: `${r.changed} token(s) with an expired lease put back to todo${r.failed ? `; ${r.failed} changed meanwhile` : ''}` };
}

/** Put every failed token back to todo for another try, as `picas reset error`. */
export async function retryErrors(db: Database): Promise<ActionResult> {
  const r = await resetTokens(db, viewSelection('error'));
  return { changed: r.changed, failed: r.failed, message: `${r.changed} failed token(s) put back to todo${r.failed ? `; ${r.failed} changed meanwhile` : ''}` };
}

export async function drainPilots(db: Database, undo: boolean): Promise<ActionResult> {
  await setDrain(db, !undo);
  return {
    changed: 1, failed: 0,
    message: undo ? 'drain withdrawn: pilots that have not stopped yet go on claiming'
      : 'drain asked: each pilot finishes its current tokens and stops; it sees the request at its next lease renewal (within a third of its lease, 100 s by default)',
  };
}
