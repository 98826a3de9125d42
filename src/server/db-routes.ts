import type { NextFunction } from 'express';
import { allDocs, viewQuery } from './queries.js';
import { bulkDocs, bulkGet, revsDiff } from './bulk.js';
import { handleDocument, postDoc, redirectEncodedDesign } from './documents.js';
import { explain, find, indexes } from './find.js';
import { noDb, sendRouteError, type DbContext } from './db-context.js';
import type { DbInfo } from './db-info.js';
import { sendError, sendJson } from './reply.js';

/**
 * The routes of one database that this server answers itself (CouchDB's behaviour, on PouchDB's API);
 * anything else (attachments, multipart documents, COPY, `_purge`, `_missing_revs`, ...) goes on to
 * express-pouchdb. `parts` is the decoded path after the database name; `rawParts` the same, not decoded.
 */
export async function routeDb(ctx: DbContext, parts: string[], rawParts: string[], info: DbInfo, fileName: string, next: NextFunction): Promise<void> {
  const { req, res } = ctx;
  try {
    if (parts.length === 0) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (!ctx.db) return noDb(res);
        return sendJson(res, 200, await info.info(ctx.dbName, fileName, ctx.db));
      }
      if (req.method === 'POST') return await postDoc(ctx);
      return sendError(res, 405, 'method_not_allowed', 'Only DELETE,GET,HEAD,POST,PUT allowed');
    }
    const [first, ...rest] = parts as [string, ...string[]];
    switch (first) {
      case '_all_docs': return await allDocs(ctx);
      case '_bulk_docs': return await bulkDocs(ctx);
      case '_bulk_get': return await bulkGet(ctx);
      case '_revs_diff': return await revsDiff(ctx);
      case '_find': return await find(ctx);
      case '_explain': return await explain(ctx);
      case '_index': return await indexes(ctx, rest);
      case '_compact':
      case '_view_cleanup': {
        if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only POST allowed');
        if (!ctx.db) return noDb(res);
        const db = ctx.db;
        // As CouchDB: accepted now, done in the background.
        const work = first === '_compact' ? (rest.length ? db.viewCleanup() : db.compact()) : db.viewCleanup();
        Promise.resolve(work).catch(() => undefined);
        return sendJson(res, 202, { ok: true });
      }
      case '_purge':
      case '_purged_infos_limit':
        return sendError(res, 501, 'not_implemented', `This server does not implement ${first}: PouchDB's LevelDB store cannot purge.`);
      case '_ensure_full_commit':
        if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only POST allowed');
        if (!ctx.db) return noDb(res);
        return sendJson(res, 201, { ok: true, instance_start_time: '0' });
      case '_design':
      case '_local': {
        if (rest.length === 0) return sendError(res, 404, 'not_found', 'missing');
        const id = `${first}/${rest[0]}`;
        if (first === '_design' && rest[1] === '_view' && rest.length === 3) return await viewQuery(ctx, rest[0]!, rest[2]!);
        if (first === '_design' && ['_show', '_list', '_update', '_rewrite'].includes(rest[1] ?? '')) {
          return sendError(res, 501, 'not_implemented', `This server does not run ${rest[1]} functions (CouchDB 3 deprecates them).`);
        }
        if (rest.length === 1) { if (await handleDocument(ctx, id)) return; }
        return next();
      }
      default:
        break;
    }
    if (first.startsWith('_design/') || first.startsWith('_local/')) {
      // An encoded slash (`_design%2Fx`): CouchDB writes such a document and redirects reads to the plain path.
      if (rest.length === 0 && first.startsWith('_design/') && (req.method === 'GET' || req.method === 'HEAD') && rawParts[0] !== first) {
        return redirectEncodedDesign(res, req, ctx.dbName, first);
      }
      if (rest.length === 0 && (await handleDocument(ctx, first))) return;
      return next();
    }
    if (first.startsWith('_')) {
      if (rest.length === 0 && req.method === 'PUT') return sendError(res, 400, 'illegal_docid', 'Only reserved document ids may start with underscore.');
      return next();
    }
    if (rest.length === 0 && (await handleDocument(ctx, first))) return;
    return next();
  } catch (err) {
    if (res.headersSent) throw err;
    res.removeHeader('ETag');
    sendRouteError(res, err);
  }
}
