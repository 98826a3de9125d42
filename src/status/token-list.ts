import type { Database, ViewParams, ViewResult } from '../couch/database.js';
import { tokenState, TOKEN_STATES, type TokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';

export interface TokenListOptions {
  /** One state (read from that state view), or all tokens by id. */
  state?: TokenState;
  /** Only ids starting with this. */
  prefix?: string;
  /** Page size (default 50, at most 1,000). */
  limit?: number;
  /** Continue after this id (the `next` of the previous page). */
  after?: string;
  design?: string;
  /** Read the attached logs too (for `--logs`). */
  attachments?: boolean;
}

export interface TokenPage {
  tokens: (Token & { state: TokenState | 'unknown' })[];
  /** Pass as `after` for the next page; undefined on the last page. */
  next?: string;
}

export const MAX_PAGE = 1_000;

/**
 * One page of tokens by id, paged through a view's keys (a state view's keys are the token ids) or
 * `_all_docs`: each page is one bounded range read, however many tokens there are.
 */
export async function listTokens(db: Database, options: TokenListOptions = {}): Promise<TokenPage> {
  const limit = Math.max(1, Math.min(MAX_PAGE, options.limit ?? 50));
  const prefix = options.prefix ?? '';
  const params: ViewParams = {
    include_docs: true, limit: limit + 2,
    ...(options.attachments ? { attachments: true } : {}),
    startkey: options.after !== undefined && options.after >= prefix ? options.after : prefix,
    ...(prefix ? { endkey: `${prefix}\ufff0` } : {}),
  };
  let result: ViewResult<unknown, Token>;
  if (options.state) {
    result = await db.view<unknown, Token>(options.design ?? 'Monitor', options.state, params);
  } else {
    // Design documents sort before every id a token can have ("_" is refused in token ids).
    if (!params.startkey) params.startkey = '`';
    result = await db.allDocs<Token>(params);
  }
  let rows = result.rows;
  // One row more than a page tells whether there is a next page; one more again covers `after` itself.
  if (options.after !== undefined && rows[0]?.id === options.after) rows = rows.slice(1);
  const page = rows.slice(0, limit);
  const next = rows.length > limit ? page[page.length - 1]?.id : undefined;
  const tokens = page.map((r) => r.doc).filter((d): d is Token => !!d && (options.state !== undefined || tokenState(d) !== undefined))
    .map((d) => ({ ...d, state: options.state ?? tokenState(d) ?? 'unknown' as const }));
  return { tokens, ...(next !== undefined ? { next: String(next) } : {}) };
}

export const isTokenState = (s: unknown): s is TokenState => typeof s === 'string' && (TOKEN_STATES as readonly string[]).includes(s);
