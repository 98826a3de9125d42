import type { NextFunction, Request, Response } from 'express';
import { createRequire } from 'node:module';
import { authMethodOf, userOf } from './auth-front.js';
import { handleChanges } from './changes.js';
import { DB_NAME, openExisting } from './databases.js';
import type { DbInfo } from './db-info.js';
import { routeDb } from './db-routes.js';
import { absoluteUrl } from './documents.js';
import { BodyError, readJson } from './json-body.js';
import { sendError, sendJson } from './reply.js';
import { SecurityValidationError, isDbAdmin, isMember, type SecurityStore } from './security.js';
import { uuids } from './server-routes.js';
import type { SessionKeeper } from './session.js';
import { isServerAdmin, type UserDirectory } from './users.js';
import type { ValidatorCache } from './validate-doc-update.js';
import type { RevsLimits } from './revs-limit.js';

const require = createRequire(import.meta.url);
const cleanFilename = require('express-pouchdb/lib/clean-filename.js') as (name: string) => string;

const FORBIDDEN_DB = 'You are not allowed to access this db.';
const NOT_ADMIN = 'You are not a server admin.';
const NOT_DB_ADMIN = 'You are not a db or server admin.';
const ILLEGAL_NAME = (db: string) => `Name: '${db}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.`;
/** Server endpoints and the methods they take (CouchDB answers others with 405). */
const SERVER_METHODS: Record<string, string[]> = { _all_dbs: ['GET', 'HEAD'], _uuids: ['GET'], _active_tasks: ['GET'], _membership: ['GET'] };
const SYSTEM_DBS = new Set(['_users', '_replicator', '_global_changes']);
/** What this server does not do, said as such (501) rather than answered wrongly. */
const REPLICATION_ELSEWHERE = 'This server does not run replications: start them on CouchDB (POST /_replicate there, with this server\'s URL and credentials as source or target).';
const NOT_HERE: Record<string, string> = {
  _replicate: REPLICATION_ELSEWHERE,
  _replicator: REPLICATION_ELSEWHERE,
  _scheduler: REPLICATION_ELSEWHERE,
  _global_changes: 'This server keeps no _global_changes database.',
  _db_updates: 'This server offers no _db_updates feed.',
  _node: 'This server is a single process, not a CouchDB node: no /_node endpoints.',
  _config: 'This server has no CouchDB configuration API: it is configured by picas serve\'s options.',
};

export interface AccessDeps {
  Pouch: any;
  users: UserDirectory;
  security: SecurityStore;
  sessions: SessionKeeper;
  validators: ValidatorCache;
  info: DbInfo;
  revsLimits: RevsLimits;
}

/**
 * Who may do what, as on CouchDB 3, and the routes we answer ourselves. Anonymous requests reach `/`,
 * `/_up`, `/_session` and `/_uuids` only (401 elsewhere). Server-level routes are for the server admin;
 * creating and deleting databases too; a database is for its members and admins per its `_security`
 * (admins only by default, as CouchDB 3 creates it); design documents, `_security` and compaction are for
 * database admins, since PouchDB runs design-document code inside this process unsandboxed. The routes of
 * a database go to db-routes.ts; what it does not answer goes on to express-pouchdb.
 */
export function accessControl(deps: AccessDeps) {
  const { Pouch, users, security, sessions } = deps;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const user = userOf(req);
      const rawParts = req.path.split('/').slice(1);
      // `/db/` is `/db` (PouchDB's HTTP client creates databases with the slash).
      if (rawParts.length > 1 && rawParts[rawParts.length - 1] === '') rawParts.pop();
      const parts = rawParts.map((p) => safeDecode(p));
      if (parts.some((p) => p === undefined)) return sendError(res, 400, 'bad_request', 'Malformed percent-encoding in the path.');
      const [first = '', ...restParts] = parts as string[];
      const rest = restParts.join('/');

      if (first === '_session' && restParts.length === 0) return await sessions.handle(req, res, user, authMethodOf(req));
      if (first === '_uuids' && restParts.length === 0) {
        if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'Only GET allowed');
        return uuids(req, res);
      }
      if (!user) {
        if (first.startsWith('_') || first === '') return sendError(res, 401, 'unauthorized', 'Authentication required.');
        return sendError(res, 401, 'unauthorized', 'You are not authorized to access this db.');
      }
      const admin = isServerAdmin(user);

      if (first === '_users') {
        // As CouchDB 3: `_users` is admin-only until an admin opens it (`_users/_security` with no members),
        // then users read and change their own documents.
        const usersSec = await security.getRaw('_users');
        if (rest === '_security') {
          if (req.method === 'GET' || req.method === 'HEAD') {
            if (!admin) return sendError(res, 403, 'forbidden', FORBIDDEN_DB);
            return sendJson(res, 200, usersSec);
          }
          if (req.method !== 'PUT') return sendError(res, 405, 'method_not_allowed', 'Only GET,PUT allowed');
          if (!admin) return sendError(res, 401, 'unauthorized', NOT_ADMIN);
          try {
            await security.put('_users', await readJson(req));
          } catch (err) {
            if (err instanceof SecurityValidationError) return sendError(res, 400, 'bad_request', err.message);
            throw err;
          }
          return sendJson(res, 200, { ok: true });
        }
        if (!admin && !usersDbOpenTo(user, usersSec)) return sendError(res, 403, 'forbidden', FORBIDDEN_DB);
        if (req.method === 'PUT') await readJson(req);
        return await users.handle(req, res, user, rest);
      }
      if (first.startsWith('_') || first === '') {
        if (restParts.length === 0 && !SYSTEM_DBS.has(first) && !(first in SERVER_METHODS) && (req.method === 'PUT' || req.method === 'DELETE')) {
          if (!admin) return sendError(res, 401, 'unauthorized', NOT_ADMIN);
          return sendError(res, 400, 'illegal_database_name', ILLEGAL_NAME(first));
        }
        const missing = NOT_HERE[first];
        if (missing) return sendError(res, 501, 'not_implemented', missing);
        const allowed = restParts.length === 0 ? SERVER_METHODS[first] : undefined;
        if (allowed && !allowed.includes(req.method)) return sendError(res, 405, 'method_not_allowed', `Only ${allowed.join(',')} allowed`);
        if (!admin) return sendError(res, 401, 'unauthorized', NOT_ADMIN);
        if (first === '_all_dbs' && restParts.length === 0) {
          // Our internal databases are PouchDB databases too: list only names a user can have made.
          const names = ((await Pouch.allDbs()) as string[]).filter((n) => DB_NAME.test(n));
          return sendJson(res, 200, ['_users', ...names].sort());
        }
        return next();
      }

      const db = first;
      if (restParts.length === 0 && (req.method === 'PUT' || req.method === 'DELETE')) {
        if (!admin) return sendError(res, 401, 'unauthorized', NOT_ADMIN);
        if (req.method === 'PUT' && !DB_NAME.test(db)) return sendError(res, 400, 'illegal_database_name', ILLEGAL_NAME(db));
        const exists = await openExisting(Pouch, db);
        const forget = async () => { await security.forget(db); deps.info.forget(db); deps.validators.forget(db); await deps.revsLimits.forget(db); };
        if (req.method === 'PUT') {
          // A database created under a used name must not inherit the old one's members.
          if (!exists) {
            await forget();
            // express-pouchdb creates it; the Location names the database as the request did (with %2F).
            (res as any).location = () => res;
            res.setHeader('Location', absoluteUrl(req, `/${encodeURIComponent(db)}`));
          }
          return next();
        }
        if (req.query.rev === undefined && !exists) return sendError(res, 404, 'not_found', 'Database does not exist.');
        res.once('finish', () => { if (res.statusCode === 200) void forget(); });
        return next();
      }

      const sec = await security.get(db);
      if (!isMember(user, sec)) return sendError(res, 403, 'forbidden', FORBIDDEN_DB);
      const dbAdmin = isDbAdmin(user, sec);
      const section = restParts[0] ?? '';

      if (section === '_security' && restParts.length === 1) {
        if (!(await openExisting(Pouch, db))) return sendError(res, 404, 'not_found', 'Database does not exist.');
        if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, await security.getRaw(db));
        if (req.method !== 'PUT') return sendError(res, 405, 'method_not_allowed', 'Only GET,PUT allowed');
        if (!dbAdmin) return sendError(res, 403, 'forbidden', NOT_DB_ADMIN);
        try {
          await security.put(db, await readJson(req));
        } catch (err) {
          if (err instanceof SecurityValidationError) return sendError(res, 400, 'bad_request', err.message);
          throw err;
        }
        return sendJson(res, 200, { ok: true });
      }
      if (section === '_changes' && restParts.length === 1) {
        if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'Only GET,HEAD,POST allowed');
        if (req.method === 'POST') await readJson(req);
        const pouch = await openExisting(Pouch, db);
        if (!pouch) return sendError(res, 404, 'not_found', 'Database does not exist.');
        return await handleChanges(req, res, pouch);
      }
      if (section === '_temp_view') return sendError(res, 410, 'gone', 'Temporary views are not supported (as in CouchDB 3): put the view in a design document.');
      if ((section === '_compact' || section === '_view_cleanup' || section === '_revs_limit') && req.method !== 'GET' && !dbAdmin) {
        return sendError(res, 403, 'forbidden', NOT_DB_ADMIN);
      }
      if (!dbAdmin && (await writesDesignDoc(req, restParts))) return sendError(res, 403, 'forbidden', NOT_DB_ADMIN);
      const opened = await openExisting(Pouch, db);
      if (!opened) return sendError(res, 404, 'not_found', 'Database does not exist.');
      const pouch = await deps.revsLimits.instance(db, cleanFilename(db), opened);
      if (section === '_revs_limit' && restParts.length === 1) return await deps.revsLimits.handle(req, res, db, cleanFilename(db), pouch);
      return await routeDb({ req, res, dbName: db, db: pouch, user, sec, dbAdmin, validators: deps.validators }, restParts, rawParts.slice(1), deps.info, cleanFilename(db), next);
    } catch (err) {
      if (err instanceof BodyError && !res.headersSent) return sendError(res, err.status, err.error, err.message);
      next(err);
    }
  };
}

/** CouchDB's rule for `_users`: members listed by name or role, or none listed at all (open to every user). */
function usersDbOpenTo(user: { name: string; roles: string[] }, sec: Record<string, unknown>): boolean {
  const members = (sec.members ?? {}) as { names?: unknown; roles?: unknown };
  const names = Array.isArray(members.names) ? members.names : [];
  const roles = Array.isArray(members.roles) ? members.roles : [];
  if (names.length === 0 && roles.length === 0) return true;
  return names.includes(user.name) || user.roles.some((r) => roles.includes(r));
}

function safeDecode(p: string): string | undefined {
  try { return decodeURIComponent(p); } catch { return undefined; }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Does this request create, change or delete a design document? By path (`_design/x`, also when its
 * slash is percent-encoded), by COPY destination, or by the `_id`s in a POST body (`POST /db`,
 * `_bulk_docs`), or by creating a Mango index. Queries of a design document's views are reads.
 */
async function writesDesignDoc(req: Request, restParts: string[]): Promise<boolean> {
  const id = restParts.join('/');
  if (id.startsWith('_design/')) {
    const isViewQuery = restParts[2] === '_view' || restParts[2] === '_info';
    if (isViewQuery) return false;
    if (req.method === 'COPY' && String(req.headers.destination ?? '').replace(/^\/?/, '').startsWith('_design')) return true;
    return !READ_METHODS.has(req.method) && req.method !== 'COPY';
  }
  if (req.method === 'COPY') {
    const dest = safeDecode(String(req.headers.destination ?? '')) ?? '';
    return dest.startsWith('_design/');
  }
  if (req.method !== 'POST') return false;
  if (restParts.length === 0 || (restParts.length === 1 && restParts[0] === '_bulk_docs')) {
    let body: any;
    try { body = await readJson(req); } catch { return false; } // the route answers the bad body
    const docs: unknown[] = restParts.length === 0 ? [body] : Array.isArray(body?.docs) ? body.docs : [];
    return docs.some((d) => typeof (d as any)?._id === 'string' && (d as any)._id.startsWith('_design/'));
  }
  return false;
}
