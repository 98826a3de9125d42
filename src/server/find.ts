import { noDb, type DbContext } from './db-context.js';
import { readJson } from './json-body.js';
import { sendError, sendJson } from './reply.js';
import { DocRefusal } from './validate-doc-update.js';

/**
 * Mango queries (`_find`, `_explain`) and their indexes (`_index`) on pouchdb-find, answered in CouchDB
 * 3.5's shapes: the default `limit` of 25, a `bookmark`, `total_rows` in the index list, CouchDB's error
 * names for bad selectors and index definitions, 415 for a body that is not declared JSON.
 */
const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$exists', '$type', '$in', '$nin', '$size', '$mod', '$regex', '$or', '$and', '$nor', '$not', '$all', '$elemMatch', '$allMatch', '$keyMapMatch', '$beginsWith']);

function checkSelector(sel: unknown): void {
  if (!sel || typeof sel !== 'object' || Array.isArray(sel)) {
    throw new DocRefusal(400, 'invalid_selector_json', `Selector must be a JSON object, not: ${JSON.stringify(sel)}`);
  }
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('$') && !OPERATORS.has(k)) throw new DocRefusal(400, 'invalid_operator', `Invalid operator: ${k}`);
      walk(x);
    }
  };
  walk(sel);
}

async function queryBody(ctx: DbContext): Promise<Record<string, unknown>> {
  const body = await readJson(ctx.req, { requireJsonType: true });
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new DocRefusal(400, 'bad_request', 'Request body must be a JSON object');
  const q = body as Record<string, unknown>;
  checkSelector(q.selector);
  return q;
}

function findRequest(q: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { selector: q.selector, limit: typeof q.limit === 'number' ? q.limit : 25 };
  for (const k of ['fields', 'sort', 'skip', 'use_index', 'conflicts']) if (q[k] !== undefined) out[k] = q[k];
  return out;
}

export async function find(ctx: DbContext): Promise<void> {
  const { req, res, db } = ctx;
  if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only POST allowed');
  if (!db) return noDb(res);
  const q = await queryBody(ctx);
  const r = await findOrFallBack(db, q);
  const out: Record<string, unknown> = { docs: r.docs, bookmark: 'nil' };
  if (r.warning) out.warning = r.warning;
  sendJson(res, 200, out);
}

/**
 * pouchdb-find refuses a query its named index cannot serve with a bare error (a 500 here). CouchDB 3.5
 * answers 400 `invalid_index` when the query forbids falling back (`allow_fallback: false`), and otherwise
 * runs the query without that index, with a warning.
 */
async function findOrFallBack(db: NonNullable<DbContext['db']>, q: Record<string, unknown>) {
  const request = findRequest(q);
  try {
    return await db.find(request);
  } catch (err) {
    if (q.use_index === undefined || !/no index available|could not find that index/i.test(String((err as Error)?.message))) throw err;
    const named = Array.isArray(q.use_index) ? q.use_index.join(', ') : String(q.use_index);
    const design = named.startsWith('_design/') ? named : `_design/${named}`;
    if (q.allow_fallback === false) throw new DocRefusal(400, 'invalid_index', `${design} specified by \`use_index\` could not be found or it is not suitable.`);
    const { use_index: _unused, ...without } = request;
    void _unused;
    const r = await db.find(without);
    return { ...r, warning: `${design} was not used because it is not a valid index for this query.` };
  }
}

export async function explain(ctx: DbContext): Promise<void> {
  const { req, res, db } = ctx;
  if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only POST allowed');
  if (!db) return noDb(res);
  const q = await queryBody(ctx);
  const request = findRequest(q);
  const r = await db.explain(request);
  sendJson(res, 200, {
    dbname: ctx.dbName,
    index: r.index,
    partitioned: false,
    selector: r.selector,
    opts: { ...r.opts, use_index: q.use_index ?? [], bookmark: 'nil', limit: request.limit, skip: q.skip ?? 0, sort: q.sort ?? {}, fields: q.fields ?? [] },
    limit: request.limit,
    skip: q.skip ?? 0,
    fields: q.fields ?? [],
    index_candidates: [],
    selector_hints: [],
    mrargs: r.range ?? {},
    covering: false,
  });
}

export async function indexes(ctx: DbContext, rest: string[]): Promise<void> {
  const { req, res, db } = ctx;
  if (!db) return noDb(res);
  if (rest.length === 0 && req.method === 'GET') {
    const r = await db.getIndexes();
    const list = (r.indexes as Record<string, unknown>[]).map((i) => (i.type === 'json' ? { ...i, partitioned: false } : i));
    return sendJson(res, 200, { total_rows: list.length, indexes: list });
  }
  if (rest.length === 0 && req.method === 'POST') {
    if (!ctx.dbAdmin) return sendError(res, 403, 'forbidden', 'You are not a db or server admin.');
    const body = await readJson(req, { requireJsonType: true }) as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new DocRefusal(400, 'bad_request', 'Request body must be a JSON object');
    const index = body.index as Record<string, unknown> | undefined;
    if (!index || typeof index !== 'object') throw new DocRefusal(400, 'missing_required_key', 'Missing required key: index');
    if (!Array.isArray(index.fields)) throw new DocRefusal(400, 'missing_required_key', 'Missing required key: fields');
    if (body.type !== undefined && body.type !== 'json') throw new DocRefusal(501, 'not_implemented', `Index type ${JSON.stringify(body.type)} is not available on this server: only "json" indexes.`);
    const r = await db.createIndex({ index: { fields: index.fields, ...(index.partial_filter_selector ? { partial_filter_selector: index.partial_filter_selector } : {}) }, ...(body.name ? { name: body.name } : {}), ...(body.ddoc ? { ddoc: body.ddoc } : {}) });
    ctx.validators.forget(ctx.dbName);
    return sendJson(res, 200, r);
  }
  if (rest.length >= 2 && req.method === 'DELETE') {
    if (!ctx.dbAdmin) return sendError(res, 403, 'forbidden', 'You are not a db or server admin.');
    // /_index/<ddoc>/json/<name> or /_index/_design/<ddoc>/json/<name>
    const parts = rest[0] === '_design' ? rest.slice(1) : rest;
    const ddoc = parts[0]!;
    const name = parts.length >= 3 ? parts[2]! : parts[1]!;
    await db.deleteIndex({ ddoc: ddoc.startsWith('_design/') ? ddoc : `_design/${ddoc}`, name });
    return sendJson(res, 200, { ok: true });
  }
  sendError(res, 405, 'method_not_allowed', 'Only GET,POST,DELETE allowed');
}
