import type { Request } from 'express';
import { noDb, type DbContext } from './db-context.js';
import { readJson } from './json-body.js';
import { sendError, sendJson } from './reply.js';
import { DocRefusal } from './validate-doc-update.js';
import { decodeKey, encodeKey } from './icu-collation.js';
import { queryView } from './stale-view-reads.js';

/**
 * `_all_docs` and `_design/x/_view/v` as CouchDB 3.5 answers them, on PouchDB's allDocs and query.
 *
 * `offset` of a query that starts at a key (`startkey`, `key`, `keys`) is `null`: CouchDB reads it from its
 * b-trees' counts for free, PouchDB's LevelDB indexes would have to count every row before the key, which
 * would make each of picas's claims (view queries with `startkey`) slower as the database grows. `null`
 * says "not known" rather than a wrong number (CouchDB itself answers `null` for `_all_docs?keys=`).
 */
const JSON_PARAMS = ['key', 'keys', 'startkey', 'endkey', 'start_key', 'end_key'];
const BOOL_PARAMS = ['descending', 'include_docs', 'inclusive_end', 'reduce', 'group', 'conflicts', 'update_seq', 'attachments', 'att_encoding_info', 'sorted', 'stable'];
const INT_PARAMS = ['limit', 'skip', 'group_level'];
const STRING_PARAMS = ['startkey_docid', 'endkey_docid', 'start_key_doc_id', 'end_key_doc_id', 'stale', 'update'];

function queryOptions(req: Request, body: Record<string, unknown> | undefined): Record<string, unknown> {
  const opts: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(req.query)) {
    if (typeof raw !== 'string') continue;
    if (JSON_PARAMS.includes(name)) {
      try { opts[name] = JSON.parse(raw); } catch { throw new DocRefusal(400, 'bad_request', `Invalid JSON in the ${name} parameter.`); }
    } else if (BOOL_PARAMS.includes(name)) {
      if (raw !== 'true' && raw !== 'false') throw new DocRefusal(400, 'query_parse_error', `Invalid boolean parameter: "${raw}"`);
      opts[name] = raw === 'true';
    } else if (INT_PARAMS.includes(name)) {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new DocRefusal(400, 'query_parse_error', `Invalid value for integer: "${raw}"`);
      opts[name] = n;
    } else if (STRING_PARAMS.includes(name)) opts[name] = raw;
  }
  for (const [k, v] of Object.entries(body ?? {})) opts[k] = v;
  // CouchDB 3's names for PouchDB's older ones.
  if (opts.start_key !== undefined) { opts.startkey = opts.start_key; delete opts.start_key; }
  if (opts.end_key !== undefined) { opts.endkey = opts.end_key; delete opts.end_key; }
  if (opts.start_key_doc_id !== undefined) { opts.startkey_docid = opts.start_key_doc_id; delete opts.start_key_doc_id; }
  if (opts.end_key_doc_id !== undefined) { opts.endkey_docid = opts.end_key_doc_id; delete opts.end_key_doc_id; }
  if (opts.update !== undefined) {
    if (opts.update === 'false') opts.stale = 'ok';
    else if (opts.update === 'lazy') opts.stale = 'update_after';
    delete opts.update;
  }
  if (opts.keys !== undefined && !Array.isArray(opts.keys)) throw new DocRefusal(400, 'bad_request', '`keys` member must be an array.');
  return opts;
}

function startsAtKey(opts: Record<string, unknown>): boolean {
  return opts.startkey !== undefined || opts.key !== undefined || opts.keys !== undefined || opts.startkey_docid !== undefined;
}

async function readQueryBody(ctx: DbContext): Promise<Record<string, unknown> | undefined> {
  if (ctx.req.method !== 'POST') return undefined;
  const body = await readJson(ctx.req);
  if (body === undefined) return undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new DocRefusal(400, 'bad_request', 'Request body must be a JSON object');
  return body as Record<string, unknown>;
}

export async function allDocs(ctx: DbContext): Promise<void> {
  const { req, res, db } = ctx;
  if (!['GET', 'HEAD', 'POST'].includes(req.method)) return sendError(res, 405, 'method_not_allowed', 'Only GET,HEAD,POST allowed');
  if (!db) return noDb(res);
  const opts = queryOptions(req, await readQueryBody(ctx));
  const result = await db.allDocs(opts);
  const out: Record<string, unknown> = { total_rows: result.total_rows, offset: opts.keys !== undefined ? null : startsAtKey(opts) ? null : (opts.skip ?? 0) };
  if (opts.update_seq) out.update_seq = result.update_seq;
  out.rows = opts.include_docs ? result.rows : (result.rows as Record<string, unknown>[]).map((r) => {
    if ('doc' in r) { const { doc: _doc, ...rest } = r; return rest; }
    return r;
  });
  sendJson(res, 200, out);
}

export async function viewQuery(ctx: DbContext, ddoc: string, view: string): Promise<void> {
  const { req, res, db } = ctx;
  if (!['GET', 'HEAD', 'POST'].includes(req.method)) return sendError(res, 405, 'method_not_allowed', 'Only GET,POST,HEAD allowed');
  if (!db) return noDb(res);
  const opts = queryOptions(req, await readQueryBody(ctx));
  // The index holds string keys in ICU order (icu-collation.ts): ask in the same form, answer decoded.
  for (const k of ['key', 'startkey', 'endkey']) if (opts[k] !== undefined) opts[k] = encodeKey(opts[k]);
  if (Array.isArray(opts.keys)) opts.keys = opts.keys.map(encodeKey);
  const result = await queryView(db, `${ddoc}/${view}`, opts);
  const rows = (result.rows as { key?: unknown }[]).map((r) => ({ ...r, key: decodeKey(r.key) }));
  if (!('total_rows' in result)) return sendJson(res, 200, { rows }); // reduced
  const out: Record<string, unknown> = { total_rows: result.total_rows, offset: startsAtKey(opts) ? null : (opts.skip ?? 0) };
  if (opts.update_seq) out.update_seq = result.update_seq;
  out.rows = rows;
  sendJson(res, 200, out);
}
