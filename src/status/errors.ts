import type { Database } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import { logAttachmentNames } from '../tokens/operations.js';
import type { Token } from '../tokens/token.js';
import { queryStatusView } from './design.js';

/** A failed token as the error list shows it. */
export interface ErrorSummary {
  id: string;
  exitCode: unknown;
  /** When it failed (epoch seconds, from the token's `done`). */
  at: number;
  host?: string;
  /** The last lines of its stderr log (or of the error message picas recorded when there is no log). */
  tail: string;
}

/** Lines and characters of stderr shown per error. */
export const TAIL_LINES = 4;
export const TAIL_CHARS = 400;

/** The last `lines` lines of a text, at most `chars` characters (cut at the front). */
export function tailOf(text: string, lines = TAIL_LINES, chars = TAIL_CHARS): string {
  const kept = text.replace(/\s+$/, '').split('\n').slice(-lines).join('\n');
  return kept.length > chars ? `…${kept.slice(-chars)}` : kept;
}

/** Tails of finished tokens never change: kept by id and revision, so a refresh reads each log once. */
const tails = new Map<string, string>();
const MAX_CACHED = 2_000;

async function stderrTail(db: Database, token: Token): Promise<string> {
  const key = `${token._id}@${token._rev}`;
  const cached = tails.get(key);
  if (cached !== undefined) return cached;
  const name = logAttachmentNames(token._id).err;
  let tail = '';
  if (token._attachments?.[name]) {
    try {
      tail = tailOf((await db.getAttachment(token._id, name)).toString('utf8'));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  if (!tail && Array.isArray(token.error) && token.error.length > 0) tail = tailOf(String(token.error[token.error.length - 1]?.message ?? ''));
  if (tails.size >= MAX_CACHED) tails.delete(tails.keys().next().value!);
  tails.set(key, tail);
  return tail;
}

/**
 * The most recent failed tokens (by the time they failed), each with its exit code and the tail of its
 * stderr: one bounded view query and one small read per error shown. Undefined when the status views
 * are missing and cannot be created by this user. `update: 'lazy'` answers from the index as it is (while a
 * large push is being indexed) and lets the server catch up afterwards.
 */
export async function recentErrors(db: Database, limit = 5, update: 'true' | 'lazy' = 'true'): Promise<ErrorSummary[] | undefined> {
  const result = await queryStatusView(db, () => db.view<null, Token>('picas-status', 'errors', { descending: true, limit, include_docs: true, update }));
  if (!result) return undefined;
  const docs = result.rows.map((r) => r.doc).filter((d): d is Token => !!d);
  return Promise.all(docs.map(async (doc) => ({
    id: doc._id,
    exitCode: doc.exit_code,
    at: Number(doc.done) || 0,
    host: typeof doc.hostname === 'string' && doc.hostname ? doc.hostname : undefined,
    tail: await stderrTail(db, doc),
  })));
}
