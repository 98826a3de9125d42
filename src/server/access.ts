import express, { type NextFunction, type Request, type Response } from 'express';
import { userOf } from './auth-front.js';
import { handleChanges } from './changes.js';
import { DB_NAME, openExisting } from './databases.js';
import { sendError, sendJson } from './reply.js';
import { SecurityValidationError, isDbAdmin, isMember, type SecurityStore } from './security.js';
import { isServerAdmin, type UserDirectory } from './users.js';

/** JSON bodies we must read before express-pouchdb does (it skips a body already parsed). */
const readJson = express.json({ limit: '256mb', type: () => true, strict: false });

function parseBody(req: Request, res: Response): Promise<boolean> {
  return new Promise((resolve) => {
    readJson(req, res, (err?: unknown) => {
      if (err) {
        const e = err as { status?: number; message?: string };
        sendError(res, e.status === 413 ? 413 : 400, e.status === 413 ? 'too_large' : 'bad_request', e.message ?? 'invalid JSON');
        resolve(false);
      } else resolve(true);
    });
  });
}

const FORBIDDEN_DB = 'You are not allowed to access this db.';

/**
 * Who may do what, as on CouchDB 3, before express-pouchdb sees a request (it checks nothing in the mode
 * we run it in): server-level routes are for the server admin (`/_session` for anyone signed in);
 * creating and deleting databases is for the server admin; a database is for its members and admins per
 * its `_security` (admins only while `members` lists nobody); design documents, `_security`, compaction
 * are for database admins, since PouchDB runs design-document code inside this process unsandboxed.
 * Also serves the routes we answer ourselves: `/_session`, `/_users`, `/<db>/_security`, `/<db>/_changes`.
 */
export function accessControl(deps: { Pouch: any; users: UserDirectory; security: SecurityStore }) {
  const { Pouch, users, security } = deps;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const user = userOf(req);
      if (!user) return next(); // GET /: public
      const parts = req.path.split('/').slice(1).map((p) => safeDecode(p));
      if (parts.some((p) => p === undefined)) return sendError(res, 400, 'bad_request', 'Malformed percent-encoding in the path.');
      const [first = '', ...restParts] = parts as string[];
      const rest = restParts.join('/');
      const admin = isServerAdmin(user);

      if (first === '_session') {
        if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'Only GET is supported on /_session (use HTTP Basic auth).');
        return sendJson(res, 200, { ok: true, userCtx: user, info: { authentication_handlers: ['default'], authenticated: 'default' } });
      }
      if (first === '_users') {
        if (req.method === 'PUT' && !(await parseBody(req, res))) return;
        return await users.handle(req, res, user, rest);
      }
      if (first.startsWith('_') || first === '') {
        if (!admin) return sendError(res, 403, 'forbidden', 'You are not a server admin.');
        if (first === '_all_dbs' && restParts.length === 0 && req.method === 'GET') {
          // Our internal databases are PouchDB databases too: list only names a user can have made.
          const names = ((await Pouch.allDbs()) as string[]).filter((n) => DB_NAME.test(n));
          return sendJson(res, 200, ['_users', ...names].sort());
        }
        return next();
      }

      const db = first;
      if (restParts.length === 0 && (req.method === 'PUT' || req.method === 'DELETE')) {
        if (!admin) return sendError(res, 403, 'forbidden', 'Only server admins may create or delete databases.');
        if (req.method === 'PUT' && !DB_NAME.test(db)) {
          return sendError(res, 400, 'illegal_database_name', `Name: '${db}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.`);
        }
        // A database created under a used name must not inherit the old one's members.
        if (req.method === 'PUT' && !(await openExisting(Pouch, db))) await security.forget(db);
        if (req.method === 'DELETE') res.once('finish', () => { if (res.statusCode === 200) void security.forget(db); });
        return next();
      }

      const sec = await security.get(db);
      if (!isMember(user, sec)) return sendError(res, 403, 'forbidden', FORBIDDEN_DB);
      const dbAdmin = isDbAdmin(user, sec);
      const section = restParts[0] ?? '';

      if (section === '_security' && restParts.length === 1) {
        if (!(await openExisting(Pouch, db))) return sendError(res, 404, 'not_found', 'Database does not exist.');
        if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, sec);
        if (req.method !== 'PUT') return sendError(res, 405, 'method_not_allowed', 'Only GET and PUT are allowed on _security.');
        if (!dbAdmin) return sendError(res, 403, 'forbidden', 'Only database admins may change _security.');
        if (!(await parseBody(req, res))) return;
        try {
          await security.put(db, req.body);
        } catch (err) {
          if (err instanceof SecurityValidationError) return sendError(res, 400, 'bad_request', err.message);
          throw err;
        }
        return sendJson(res, 200, { ok: true });
      }
      if (section === '_changes' && restParts.length === 1) {
        if (req.method !== 'GET' && req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Only GET and POST are allowed on _changes.');
        if (req.method === 'POST' && !(await parseBody(req, res))) return;
        const pouch = await openExisting(Pouch, db);
        if (!pouch) return sendError(res, 404, 'not_found', 'Database does not exist.');
        return await handleChanges(req, res, pouch);
      }
      if (section === '_temp_view') return sendError(res, 410, 'gone', 'Temporary views are not supported (as in CouchDB 3): put the view in a design document.');
      if ((section === '_compact' || section === '_view_cleanup') && !dbAdmin) {
        return sendError(res, 403, 'forbidden', 'Only database admins may compact or clean up views.');
      }
      if (!dbAdmin && (await writesDesignDoc(req, res, restParts))) {
        if (!res.headersSent) sendError(res, 403, 'forbidden', 'Only database admins may write design documents.');
        return;
      }
      if (res.headersSent) return;
      next();
    } catch (err) {
      next(err);
    }
  };
}

function safeDecode(p: string): string | undefined {
  try { return decodeURIComponent(p); } catch { return undefined; }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Does this request create, change or delete a design document? By path (`_design/x`, also when its
 * slash is percent-encoded), by COPY destination, or by the `_id`s in a POST body (`POST /db`,
 * `_bulk_docs`). Queries of a design document's views are reads, whatever their method.
 */
async function writesDesignDoc(req: Request, res: Response, restParts: string[]): Promise<boolean> {
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
    if (!(await parseBody(req, res))) return true;
    const body = req.body as any;
    const docs: unknown[] = restParts.length === 0 ? [body] : Array.isArray(body?.docs) ? body.docs : [];
    return docs.some((d) => typeof (d as any)?._id === 'string' && (d as any)._id.startsWith('_design/'));
  }
  return false;
}
