import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { checkDocBody, checkDocId, checkDocMembers } from './doc-checks.js';
import { noDb, sendRouteError, type DbContext } from './db-context.js';
import { readJson } from './json-body.js';
import { sendError, sendJson } from './reply.js';
import { DocRefusal } from './validate-doc-update.js';

/**
 * Documents as CouchDB 3.5 serves them: `GET|HEAD|PUT|DELETE /db/doc` (also `_design/x`, `_local/x`) and
 * `POST /db`. A PUT reads its body as JSON whatever its Content-Type (what `curl -d` sends is stored, not
 * dropped), a POST insists on application/json (415 otherwise); ids, special members and revisions are
 * checked, design documents compiled, `validate_doc_update` run; ETag and Cache-Control as CouchDB sends them.
 */

/** The URL path of a document: `_design/` and `_local/` keep their slash, the rest is encoded. */
export function docPath(dbName: string, id: string): string {
  const m = /^(_design|_local)\/(.*)$/s.exec(id);
  const idPart = m ? `${m[1]}/${encodeURIComponent(m[2]!)}` : encodeURIComponent(id);
  return `/${encodeURIComponent(dbName)}/${idPart}`;
}

export function absoluteUrl(req: Request, path: string): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}${path}`;
}

export function newDocId(): string {
  return randomBytes(16).toString('hex');
}

function flag(v: unknown): boolean {
  return v === 'true';
}

function jsonQuery(req: Request, name: string): unknown {
  const v = req.query[name];
  if (typeof v !== 'string') return undefined;
  try { return JSON.parse(v); } catch { throw new DocRefusal(400, 'bad_request', `Invalid JSON in the ${name} parameter.`); }
}

/** The revision a write names: If-Match, `?rev=`, or the body's `_rev`. */
function givenRev(req: Request, body?: Record<string, unknown>): string | undefined {
  const ifMatch = req.headers['if-match'];
  const fromHeader = typeof ifMatch === 'string' && ifMatch ? ifMatch.replace(/^"|"$/g, '') : undefined;
  const fromQuery = typeof req.query.rev === 'string' ? req.query.rev : undefined;
  const fromBody = typeof body?._rev === 'string' ? body._rev : undefined;
  const given = [fromBody, fromQuery, fromHeader].filter((x): x is string => x !== undefined);
  if (new Set(given).size > 1) throw new DocRefusal(400, 'bad_request', 'Document rev from request body and query string have different values');
  return given[0];
}

/** The leaves asked for; with `latest`, a revision this database lacks is `{missing}`, as on CouchDB. */
async function openRevisions(db: any, id: string, revs: unknown, opts: Record<string, unknown>): Promise<{ ok?: unknown; missing?: string }[]> {
  if (!opts.latest || !Array.isArray(revs)) return db.get(id, { ...opts, open_revs: revs });
  // PouchDB throws (outside its promise) when `latest` meets a revision it lacks: check each one first.
  const out: { ok?: unknown; missing?: string }[] = [];
  for (const rev of revs) {
    let known = true;
    try { await db.get(id, { rev: String(rev) }); } catch (err) {
      if ((err as { status?: number }).status !== 404) throw err;
      known = false;
    }
    if (known) out.push(...(await db.get(id, { ...opts, open_revs: [rev] })));
    else out.push({ missing: String(rev) });
  }
  return out;
}

/**
 * `open_revs` as `multipart/mixed`: one JSON part per revision (attachments inline, base64), a missing
 * revision as a part with `error="true"`, as CouchDB answers a replicator.
 */
function sendMultipartRevs(res: Response, rows: { ok?: unknown; missing?: string }[]): void {
  const boundary = randomBytes(16).toString('hex');
  const parts = rows.map((r) => (r.ok !== undefined
    ? `--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(r.ok)}\r\n`
    : `--${boundary}\r\nContent-Type: application/json; error="true"\r\n\r\n${JSON.stringify({ missing: r.missing })}\r\n`));
  res.status(200).setHeader('Content-Type', `multipart/mixed; boundary="${boundary}"`);
  res.end(`${parts.join('')}--${boundary}--`);
}

export async function getDoc(ctx: DbContext, id: string): Promise<void> {
  const { req, res, db } = ctx;
  if (!db) return noDb(res);
  const q = req.query;
  const openRevs = q.open_revs !== undefined ? (q.open_revs === 'all' ? 'all' : jsonQuery(req, 'open_revs')) : undefined;
  const opts: Record<string, unknown> = {};
  if (typeof q.rev === 'string') opts.rev = q.rev;
  if (flag(q.revs)) opts.revs = true;
  if (flag(q.revs_info)) opts.revs_info = true;
  if (flag(q.conflicts)) opts.conflicts = true;
  if (flag(q.latest)) opts.latest = true;
  if (flag(q.attachments)) opts.attachments = true;
  if (flag(q.att_encoding_info)) opts.att_encoding_info = true;
  res.setHeader('Cache-Control', 'must-revalidate');
  if (openRevs !== undefined) {
    if (openRevs !== 'all' && !Array.isArray(openRevs)) throw new DocRefusal(400, 'bad_request', 'open_revs must be "all" or a list of revisions.');
    const accept = String(req.headers.accept ?? '');
    if (/multipart\/mixed/i.test(accept) && !/application\/json/i.test(accept)) {
      // CouchDB's replicator asks for documents with attachments this way, and reads nothing else here.
      return sendMultipartRevs(res, await openRevisions(db, id, openRevs, { ...opts, attachments: true }));
    }
    return sendJson(res, 200, await openRevisions(db, id, openRevs, opts));
  }
  const doc = await db.get(id, opts);
  const meta = flag(q.revs_info) || flag(q.conflicts) || flag(q.deleted_conflicts) || flag(q.local_seq) || flag(q.meta);
  if (flag(q.deleted_conflicts)) {
    const leaves = (await db.get(id, { open_revs: 'all' })) as { ok?: { _rev: string; _deleted?: boolean } }[];
    const deleted = leaves.filter((l) => l.ok?._deleted && l.ok._rev !== doc._rev).map((l) => l.ok!._rev);
    if (deleted.length) doc._deleted_conflicts = deleted;
  }
  if (!meta) {
    const etag = `"${doc._rev}"`;
    res.setHeader('ETag', etag);
    if (req.headers['if-none-match'] === etag) { res.status(304).end(); return; }
  }
  sendJson(res, 200, doc);
}

/** Store one document (after every check): returns PouchDB's answer. Forgets cached validators on design writes. */
export async function storeDoc(ctx: DbContext, doc: Record<string, unknown>, opts: { newEdits?: boolean } = {}): Promise<{ id: string; rev: string }> {
  const { db } = ctx;
  checkDocId(doc._id);
  checkDocMembers(doc);
  await ctx.validators.check(ctx.dbName, db, doc, ctx.user, ctx.sec);
  const id = doc._id as string;
  if (id.startsWith('_design/')) ctx.validators.forget(ctx.dbName);
  try {
    if (opts.newEdits === false) {
      const r = await db.bulkDocs([doc], { new_edits: false });
      const bad = (r as { error?: string }[]).find((x) => x && x.error);
      if (bad) throw bad;
      return { id, rev: doc._rev as string };
    }
    return await db.put(doc);
  } finally {
    if (id.startsWith('_design/')) ctx.validators.forget(ctx.dbName);
  }
}

export async function putDoc(ctx: DbContext, id: string): Promise<void> {
  const { req, res, db } = ctx;
  if (!db) return noDb(res);
  const body = await readJson(req);
  checkDocBody(body);
  // The URL names the document; an `_id` in the body is ignored, as on CouchDB.
  const doc: Record<string, unknown> = { ...body, _id: id };
  const rev = givenRev(req, body);
  if (rev !== undefined) doc._rev = rev;
  const r = await storeDoc(ctx, doc, { newEdits: req.query.new_edits === 'false' ? false : undefined });
  res.setHeader('Location', absoluteUrl(req, docPath(ctx.dbName, id)));
  res.setHeader('ETag', `"${r.rev}"`);
  sendJson(res, 201, { ok: true, id: r.id, rev: r.rev });
}

export async function deleteDoc(ctx: DbContext, id: string): Promise<void> {
  const { req, res, db } = ctx;
  if (!db) return noDb(res);
  const rev = givenRev(req);
  if (!rev) throw new DocRefusal(409, 'conflict', 'Document update conflict.');
  const r = await storeDoc(ctx, { _id: id, _rev: rev, _deleted: true });
  res.setHeader('ETag', `"${r.rev}"`);
  sendJson(res, 200, { ok: true, id: r.id, rev: r.rev });
}

export async function postDoc(ctx: DbContext): Promise<void> {
  const { req, res, db } = ctx;
  if (!db) return noDb(res);
  const body = await readJson(req, { requireJsonType: true });
  checkDocBody(body);
  const doc: Record<string, unknown> = { ...body };
  if (doc._id === undefined) doc._id = newDocId();
  const r = await storeDoc(ctx, doc);
  res.setHeader('Location', absoluteUrl(req, docPath(ctx.dbName, r.id)));
  res.setHeader('ETag', `"${r.rev}"`);
  sendJson(res, 201, { ok: true, id: r.id, rev: r.rev });
}

/** `GET /db/_design%2Fx`: CouchDB redirects to the canonical path. */
export function redirectEncodedDesign(res: Response, req: Request, dbName: string, id: string): void {
  res.setHeader('Location', absoluteUrl(req, docPath(dbName, id)));
  res.status(301).end();
}

export async function handleDocument(ctx: DbContext, id: string): Promise<boolean> {
  const { req, res } = ctx;
  const ct = String(req.headers['content-type'] ?? '').toLowerCase();
  if (ct.startsWith('multipart/')) return false; // documents with attachments in MIME parts: express-pouchdb
  try {
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        await getDoc(ctx, id);
        return true;
      case 'PUT':
        await putDoc(ctx, id);
        return true;
      case 'DELETE':
        await deleteDoc(ctx, id);
        return true;
      case 'COPY':
        return false;
      default:
        sendError(res, 405, 'method_not_allowed', 'Only DELETE,GET,HEAD,POST,PUT,COPY allowed');
        return true;
    }
  } catch (err) {
    if (res.headersSent) throw err;
    res.removeHeader('ETag');
    res.removeHeader('Location');
    sendRouteError(res, err);
    return true;
  }
}
