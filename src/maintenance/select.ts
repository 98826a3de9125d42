import type { Database, ViewRow } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import type { Token } from '../tokens/token.js';

/** Which tokens a maintenance command works on: the rows of one view, or every token in the database. */
export type Selection = { kind: 'view'; design: string; view: string } | { kind: 'all' };

export const describeSelection = (s: Selection): string => (s.kind === 'all' ? 'all tokens' : `view ${s.design}/${s.view}`);

/** `error`, or `Monitor/error` (design document named explicitly). */
export function viewSelection(name: string, designDoc = 'Monitor'): Selection {
  const slash = name.indexOf('/');
  if (slash < 0) return { kind: 'view', design: designDoc, view: name };
  return { kind: 'view', design: name.slice(0, slash), view: name.slice(slash + 1) };
}

/** A view or database that does not exist, said plainly with what does exist. */
export class SelectionNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectionNotFoundError';
  }
}

async function notFound(db: Database, selection: Selection, err: NotFoundError): Promise<Error> {
  if (!(await db.exists())) return new SelectionNotFoundError(`database "${db.name}" does not exist on ${db.server.url}`);
  if (selection.kind === 'all') return err;
  const design = await db.find<{ _id: string; views?: Record<string, unknown> }>(`_design/${selection.design}`);
  if (!design) return new SelectionNotFoundError(`no design document "${selection.design}" in database "${db.name}" (create the views with \`picas push\` or \`picas views\`)`);
  const views = Object.keys(design.views ?? {});
  return new SelectionNotFoundError(`no view "${selection.view}" in design document "${selection.design}" (its views: ${views.join(', ') || 'none'})`);
}

/**
 * The selected tokens, page by page, with their documents. Pages follow the view's key order using the
 * row after each page as the next start key (never `skip`), so tokens that leave the view while the
 * caller changes them (a reset takes them out of `error`) do not shift the pages.
 */
export async function* selectTokens(db: Database, selection: Selection, pageSize = 500): AsyncGenerator<Token[]> {
  let start: { key: unknown; id: string } | undefined;
  for (let page = 0; page < 10_000_000; page++) {
    let rows: ViewRow<unknown, Token>[];
    try {
      if (selection.kind === 'all') {
        rows = (await db.allDocs<Token>({ include_docs: true, limit: pageSize + 1, ...(start ? { startkey: start.id } : {}) })).rows;
      } else {
        rows = (await db.view<unknown, Token>(selection.design, selection.view, {
          include_docs: true, limit: pageSize + 1,
          ...(start ? { startkey: start.key, startkey_docid: start.id } : {}),
        })).rows;
      }
    } catch (err) {
      if (err instanceof NotFoundError) throw await notFound(db, selection, err);
      throw err;
    }
    const next = rows.length > pageSize ? rows[pageSize]! : undefined;
    const tokens = rows.slice(0, pageSize)
      .map((r) => r.doc)
      .filter((d): d is Token => !!d && !d._id.startsWith('_design/') && (selection.kind === 'view' || d.type === 'token'));
    if (tokens.length > 0) yield tokens;
    if (!next) return;
    start = { key: next.key, id: next.id! };
  }
}
