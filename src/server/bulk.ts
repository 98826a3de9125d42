import { checkDocBody, checkDocId, checkDocMembers } from './doc-checks.js';
import { newDocId } from './documents.js';
import { noDb, type DbContext } from './db-context.js';
import { readJson } from './json-body.js';
import { sendError, sendJson } from './reply.js';
import { DocRefusal } from './validate-doc-update.js';

/**
 * `_bulk_docs`, `_bulk_get` and `_revs_diff` as CouchDB 3.5 answers them. `_bulk_docs` is on picas's hot
 * path (pushes, claims, results): a database without `validate_doc_update` functions costs one cached
 * lookup and a loop over the documents' top-level members before PouchDB's own bulkDocs.
 */

function pouchResult(r: any, fallbackId: string): Record<string, unknown> {
  if (r && r.error) {
    const name = typeof r.name === 'string' ? r.name : typeof r.error === 'string' ? r.error : 'unknown_error';
    const reason = String(r.reason ?? r.message ?? name);
    return { id: r.id ?? fallbackId, error: name, reason: name === 'conflict' ? 'Document update conflict.' : reason };
  }
  return { ok: true, id: r.id, rev: r.rev };
}

export async function bulkDocs(ctx: DbContext): Promise<void> {
  const { req, res, db } = ctx;
  if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only POST allowed');
  if (!db) return noDb(res);
  const body = await readJson(req, { requireJsonType: true }) as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new DocRefusal(400, 'bad_request', 'Request body must be a JSON object');
  if (!('docs' in body)) throw new DocRefusal(400, 'bad_request', 'POST body must include `docs` parameter.');
  const docs = body.docs;
  if (!Array.isArray(docs)) throw new DocRefusal(400, 'bad_request', '`docs` parameter must be an array.');
  const newEdits = body.new_edits !== false;
  for (const d of docs) checkDocBody(d);
  if (body.all_or_nothing === true) {
    // CouchDB 3 has no all-or-nothing commits either: it refuses the whole request, storing nothing.
    return sendJson(res, 417, (docs as Record<string, unknown>[]).map((d) => ({ id: d._id ?? null, rev: '0-', error: 'not_implemented', reason: 'all_or_nothing is not supported' })));
  }
  for (const d of docs as Record<string, unknown>[]) {
    if (!newEdits && d._rev === undefined && d._revisions === undefined) {
      throw new DocRefusal(400, 'bad_request', 'When `new_edits: false`, the document needs `_rev` or `_revisions` specified');
    }
    if (d._id === undefined && newEdits) d._id = newDocId();
    checkDocId(d._id);
    checkDocMembers(d);
    if ((d._id as string).startsWith('_design/')) ctx.validators.forget(ctx.dbName);
  }
  const validators = await ctx.validators.validators(ctx.dbName, db);
  const results: (Record<string, unknown> | undefined)[] = new Array(docs.length);
  let toWrite = docs as Record<string, unknown>[];
  let positions = toWrite.map((_d, i) => i);
  if (validators.length) {
    toWrite = []; positions = [];
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i] as Record<string, unknown>;
      try {
        await ctx.validators.check(ctx.dbName, db, d, ctx.user, ctx.sec);
        toWrite.push(d); positions.push(i);
      } catch (err) {
        if (!(err instanceof DocRefusal)) throw err;
        results[i] = { id: d._id, error: err.error, reason: err.message };
      }
    }
  }
  const written = toWrite.length ? await db.bulkDocs(toWrite, { new_edits: newEdits }) : [];
  if (toWrite.some((d) => String(d._id).startsWith('_design/'))) ctx.validators.forget(ctx.dbName);
  if (!newEdits) {
    // CouchDB lists only the documents it could not store.
    const errors = (written as any[]).filter((r) => r && r.error).map((r) => pouchResult(r, ''));
    return sendJson(res, 201, [...results.filter((r): r is Record<string, unknown> => !!r), ...errors]);
  }
  (written as any[]).forEach((r, k) => { results[positions[k]!] = pouchResult(r, String(toWrite[k]!._id)); });
  sendJson(res, 201, results);
}

export async function bulkGet(ctx: DbContext): Promise<void> {
  const { req, res, db } = ctx;
  if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only POST allowed');
  if (!db) return noDb(res);
  const body = await readJson(req) as { docs?: unknown } | undefined;
  if (!body || !Array.isArray(body.docs)) throw new DocRefusal(400, 'bad_request', 'Missing JSON list of \'docs\'.');
  const revs = req.query.revs === 'true';
  const attachments = req.query.attachments === 'true';
  const latest = req.query.latest === 'true';
  const results = [];
  for (const spec of body.docs as { id?: unknown; rev?: unknown; atts_since?: unknown }[]) {
    const id = typeof spec?.id === 'string' ? spec.id : '';
    const rev = typeof spec?.rev === 'string' ? spec.rev : undefined;
    try {
      const opts = { ...(revs ? { revs: true } : {}), ...(attachments ? { attachments: true } : {}) };
      let doc = await db.get(id, { ...(rev ? { rev } : {}), ...opts });
      // `latest` only after the revision is known to exist: PouchDB throws outside its promise otherwise.
      if (latest && rev) doc = ((await db.get(id, { ...opts, open_revs: [rev], latest: true })) as { ok?: unknown }[])[0]?.ok ?? doc;
      results.push({ id, docs: [{ ok: doc }] });
    } catch (err) {
      const e = err as { status?: number; name?: string; reason?: string; message?: string };
      if (e.status !== 404) throw err;
      results.push({ id, docs: [{ error: { id, rev: rev ?? 'undefined', error: 'not_found', reason: e.reason === 'deleted' ? 'deleted' : 'missing' } }] });
    }
  }
  sendJson(res, 200, { results });
}

export async function revsDiff(ctx: DbContext): Promise<void> {
  const { req, res, db } = ctx;
  if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only POST allowed');
  if (!db) return noDb(res);
  const body = await readJson(req) as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new DocRefusal(400, 'bad_request', 'Request body must be a JSON object');
  const diff = await db.revsDiff(body) as Record<string, { missing: string[]; possible_ancestors?: string[] }>;
  // CouchDB also names the revisions it has that could be ancestors of a missing one.
  for (const [id, entry] of Object.entries(diff)) {
    let leaves: string[];
    try {
      leaves = ((await db.get(id, { open_revs: 'all' })) as { ok?: { _rev: string } }[]).filter((l) => l.ok).map((l) => l.ok!._rev);
    } catch { continue; }
    const maxGen = Math.max(...entry.missing.map((r) => parseInt(r, 10)));
    const ancestors = leaves.filter((r) => parseInt(r, 10) < maxGen);
    if (ancestors.length) entry.possible_ancestors = ancestors;
  }
  sendJson(res, 200, diff);
}
