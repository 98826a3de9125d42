import { isServerAdmin, type UserCtx } from './users.js';

/** A database's `_security` object, as CouchDB 3 has it. */
export interface SecurityObject {
  admins: { names: string[]; roles: string[] };
  members: { names: string[]; roles: string[] };
}

/** What CouchDB 3 gives a new database: admins only. */
export const DEFAULT_SECURITY = { members: { roles: ['_admin'] }, admins: { roles: ['_admin'] } };

/**
 * Each database's `_security`, kept in the internal store (one document per database name) and cached:
 * the object as it was given (what `GET _security` answers) and its normalised form (what access checks
 * read). A new database has CouchDB 3's admin-only object; a database whose `members` lists nobody is for
 * admins only.
 */
export class SecurityStore {
  private readonly cache = new Map<string, { sec: SecurityObject; raw: Record<string, unknown> }>();

  constructor(private readonly db: any) {}

  private async load(dbName: string): Promise<{ sec: SecurityObject; raw: Record<string, unknown> }> {
    const cached = this.cache.get(dbName);
    if (cached) return cached;
    let raw: Record<string, unknown>;
    try {
      const { _id: _i, _rev: _r, ...stored } = await this.db.get(storeId(dbName));
      raw = stored;
    } catch (err) {
      if ((err as { status?: number }).status !== 404) throw err;
      raw = DEFAULT_SECURITY;
    }
    const entry = { sec: normalize(raw), raw };
    this.cache.set(dbName, entry);
    return entry;
  }

  async get(dbName: string): Promise<SecurityObject> {
    return (await this.load(dbName)).sec;
  }

  /** The object as stored, for `GET /db/_security`. */
  async getRaw(dbName: string): Promise<Record<string, unknown>> {
    return (await this.load(dbName)).raw;
  }

  async put(dbName: string, value: unknown): Promise<SecurityObject> {
    const sec = validate(value);
    const raw = { ...(value as Record<string, unknown>) };
    delete raw._id; delete raw._rev;
    const id = storeId(dbName);
    let rev: string | undefined;
    try { rev = (await this.db.get(id))._rev; } catch { /* first time */ }
    await this.db.put({ ...raw, _id: id, ...(rev ? { _rev: rev } : {}) });
    this.cache.set(dbName, { sec, raw });
    return sec;
  }

  /** Forget a deleted database's object, so a database created later under its name starts admin-only. */
  async forget(dbName: string): Promise<void> {
    this.cache.delete(dbName);
    try { await this.db.remove(await this.db.get(storeId(dbName))); } catch { /* none stored */ }
  }
}

/** Names like `_design/x` would be read as special by PouchDB: keep ids plain. */
function storeId(dbName: string): string {
  return `db:${dbName}`;
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function normalize(doc: any): SecurityObject {
  return {
    admins: { names: list(doc?.admins?.names), roles: list(doc?.admins?.roles) },
    members: { names: list(doc?.members?.names), roles: list(doc?.members?.roles) },
  };
}

export class SecurityValidationError extends Error {}

function validate(value: unknown): SecurityObject {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SecurityValidationError('The security object must be a JSON object.');
  for (const part of ['admins', 'members'] as const) {
    const p = (value as any)[part];
    if (p === undefined) continue;
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw new SecurityValidationError(`${part} must be an object with "names" and "roles".`);
    for (const k of ['names', 'roles']) {
      const arr = p[k];
      if (arr !== undefined && (!Array.isArray(arr) || arr.some((x: unknown) => typeof x !== 'string'))) {
        throw new SecurityValidationError(`${part}.${k} must be an array of strings.`);
      }
    }
  }
  return normalize(value);
}

export function isDbAdmin(user: UserCtx, sec: SecurityObject): boolean {
  return isServerAdmin(user) || sec.admins.names.includes(user.name) || user.roles.some((r) => sec.admins.roles.includes(r));
}

export function isMember(user: UserCtx, sec: SecurityObject): boolean {
  if (isDbAdmin(user, sec)) return true;
  return sec.members.names.includes(user.name) || user.roles.some((r) => sec.members.roles.includes(r));
}
