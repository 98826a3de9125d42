import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { hashPassword, verifyPassword } from './password-hash.js';
import { sendError, sendJson, sendPouchError } from './reply.js';

/** Who a request is: CouchDB's user context. The server admin has the role `_admin`. */
export interface UserCtx {
  name: string;
  roles: string[];
}

export const USER_PREFIX = 'org.couchdb.user:';

export function isServerAdmin(user: UserCtx): boolean {
  return user.roles.includes('_admin');
}

/**
 * The accounts: the server admin (given at start) and users kept as `_users` documents
 * (`org.couchdb.user:<name>`, CouchDB 3's format). Serves the `/_users` routes picas relies on: an admin
 * creates and edits users; a user reads their own document and changes their own password with the
 * document's `_rev` (If-Match), as `picas passwd` does on CouchDB 3.
 */
export class UserDirectory {
  private readonly adminKey: Buffer;
  /** Passwords already checked, by hash of name and password, valid while the user document's rev is the same. */
  private readonly verified = new Map<string, string>();

  private readonly adminName: string;

  constructor(private readonly db: any, admin: { username: string; password: string }) {
    this.adminKey = digest(admin.username, admin.password);
    this.adminName = admin.username;
  }

  /** What signs a user's session cookie besides the server's secret: the password salt ('' for the admin); undefined: no such user. */
  async saltOf(name: string): Promise<string | undefined> {
    if (name === this.adminName) return '';
    const doc = await this.find(name);
    return doc ? String(doc.salt ?? '') : undefined;
  }

  /** The user context of a known user (for a valid session cookie). */
  async contextOf(name: string): Promise<UserCtx | undefined> {
    if (name === this.adminName) return { name, roles: ['_admin'] };
    const doc = await this.find(name);
    if (!doc) return undefined;
    return { name, roles: Array.isArray(doc.roles) ? doc.roles.filter((r: unknown) => typeof r === 'string') : [] };
  }

  async authenticate(name: string, password: string): Promise<UserCtx | undefined> {
    const key = digest(name, password);
    if (timingSafeEqual(key, this.adminKey)) return { name, roles: ['_admin'] };
    const doc = await this.find(name);
    if (!doc) return undefined;
    const cacheKey = key.toString('hex');
    if (this.verified.get(cacheKey) !== doc._rev) {
      if (!(await verifyPassword(password, doc))) return undefined;
      if (this.verified.size > 10_000) this.verified.clear();
      this.verified.set(cacheKey, doc._rev);
    }
    return { name, roles: Array.isArray(doc.roles) ? doc.roles.filter((r: unknown) => typeof r === 'string') : [] };
  }

  private async find(name: string): Promise<any | undefined> {
    try {
      return await this.db.get(USER_PREFIX + name);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    }
  }

  /** Everything under `/_users`. `rest` is the decoded path after `/_users/`. */
  async handle(req: Request, res: Response, user: UserCtx, rest: string): Promise<void> {
    const admin = isServerAdmin(user);
    if (rest === '') {
      if (!admin) return sendError(res, 403, 'forbidden', 'Only server admins may read the _users database.');
      if (req.method === 'PUT') return sendError(res, 412, 'file_exists', 'The database could not be created, the file already exists.');
      if (req.method === 'GET' || req.method === 'HEAD') {
        const info = await this.db.info();
        return sendJson(res, 200, { db_name: '_users', doc_count: info.doc_count, update_seq: info.update_seq });
      }
      return sendError(res, 405, 'method_not_allowed', 'Only GET and PUT are allowed on /_users.');
    }
    if (rest === '_all_docs' && req.method === 'GET') {
      if (!admin) return sendError(res, 403, 'forbidden', 'Only server admins may list users.');
      const all = await this.db.allDocs({});
      return sendJson(res, 200, all);
    }
    if (!rest.startsWith(USER_PREFIX)) {
      return sendError(res, 403, 'forbidden', 'The _users database holds only org.couchdb.user:<name> documents.');
    }
    const name = rest.slice(USER_PREFIX.length);
    const self = user.name === name && !admin;
    if (!admin && !self) return sendError(res, 403, 'forbidden', 'You may only read or change your own user document.');
    const existing = await this.find(name);
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        if (!existing) return sendError(res, 404, 'not_found', 'missing');
        res.setHeader('ETag', `"${existing._rev}"`);
        return sendJson(res, 200, existing);
      case 'PUT':
        return this.put(req, res, name, existing, admin);
      case 'DELETE': {
        if (!admin) return sendError(res, 403, 'forbidden', 'Only server admins may delete users.');
        if (!existing) return sendError(res, 404, 'not_found', 'missing');
        const rev = givenRev(req);
        if (rev !== existing._rev) return sendError(res, 409, 'conflict', 'Document update conflict.');
        const r = await this.db.remove(existing);
        return sendJson(res, 200, { ok: true, id: r.id, rev: r.rev });
      }
      default:
        return sendError(res, 405, 'method_not_allowed', 'Only GET, PUT and DELETE are allowed on user documents.');
    }
  }

  private async put(req: Request, res: Response, name: string, existing: any, admin: boolean): Promise<void> {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return sendError(res, 400, 'bad_request', 'Request body must be a JSON object.');
    if (body.name !== name) return sendError(res, 400, 'doc_validation', 'Document id must be org.couchdb.user:<name> with the same name as the "name" field.');
    if (body.type !== 'user') return sendError(res, 403, 'forbidden', 'doc.type must be user');
    const roles = body.roles ?? [];
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) return sendError(res, 400, 'doc_validation', 'doc.roles must be an array of strings.');
    if (roles.some((r) => (r as string).startsWith('_'))) return sendError(res, 403, 'forbidden', 'Roles starting with "_" are reserved.');
    if (body.password !== undefined && (typeof body.password !== 'string' || body.password === '')) {
      return sendError(res, 400, 'doc_validation', 'password must be a non-empty string.');
    }
    const rev = givenRev(req);
    if (existing) {
      if (rev !== existing._rev) return sendError(res, 409, 'conflict', 'Document update conflict.');
      if (!admin && JSON.stringify([...roles].sort()) !== JSON.stringify([...(existing.roles ?? [])].sort())) {
        return sendError(res, 403, 'forbidden', 'Only server admins may change roles.');
      }
    } else {
      if (!admin) return sendError(res, 403, 'forbidden', 'Only server admins may create users.');
      if (rev) return sendError(res, 409, 'conflict', 'Document update conflict.');
      if (typeof body.password !== 'string') return sendError(res, 400, 'doc_validation', 'A new user needs a password.');
    }
    const { password, _rev: _ignored, ...fields } = body;
    const doc: Record<string, unknown> = { ...fields, _id: USER_PREFIX + name, name, roles, type: 'user' };
    if (existing) doc._rev = existing._rev;
    for (const k of ['password_scheme', 'pbkdf2_prf', 'iterations', 'salt', 'derived_key', 'password_sha']) delete doc[k];
    Object.assign(doc, typeof password === 'string' ? await hashPassword(password) : pick(existing, ['password_scheme', 'pbkdf2_prf', 'iterations', 'salt', 'derived_key']));
    try {
      const r = await this.db.put(doc);
      res.setHeader('Location', `${req.protocol}://${req.headers.host ?? 'localhost'}/_users/${encodeURIComponent(r.id).replace(/%3A/gi, ':')}`);
      res.setHeader('ETag', `"${r.rev}"`);
      return sendJson(res, 201, { ok: true, id: r.id, rev: r.rev });
    } catch (err) {
      return sendPouchError(res, err);
    }
  }
}

function digest(name: string, password: string): Buffer {
  return createHash('sha256').update(name).update('\0').update(password).digest();
}

/** The revision a write names: `If-Match`, `?rev=` or the body's `_rev` (CouchDB accepts all three). */
function givenRev(req: Request): string | undefined {
  const ifMatch = req.headers['if-match'];
  if (typeof ifMatch === 'string' && ifMatch) return ifMatch.replace(/^"|"$/g, '');
  if (typeof req.query.rev === 'string') return req.query.rev;
  const body = req.body as { _rev?: unknown } | undefined;
  return typeof body?._rev === 'string' ? body._rev : undefined;
}

function pick(from: any, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (from && from[k] !== undefined) out[k] = from[k];
  return out;
}
