import type { Database, SecurityObject } from '../couch/database.js';

/** Names and roles of one side of a database's `_security` object. */
export interface Principals {
  names?: string[];
  roles?: string[];
}

export interface UsersChange {
  members?: Principals;
  admins?: Principals;
}

/**
 * Set who may use the database, as the original's set_users does through `_security`: members read
 * and write tokens, admins also change design documents and security. Lists given replace the current
 * ones; lists not given are kept. Returns the new security object.
 */
export async function setUsers(db: Database, change: UsersChange): Promise<SecurityObject> {
  const current = await db.getSecurity();
  const next: SecurityObject = {
    ...current,
    admins: { names: [], roles: [], ...current.admins, ...defined(change.admins) },
    members: { names: [], roles: [], ...current.members, ...defined(change.members) },
  };
  await db.setSecurity(next);
  return next;
}

export async function getUsers(db: Database): Promise<Required<Pick<SecurityObject, 'admins' | 'members'>>> {
  const s = await db.getSecurity();
  return {
    admins: { names: s.admins?.names ?? [], roles: s.admins?.roles ?? [] },
    members: { names: s.members?.names ?? [], roles: s.members?.roles ?? [] },
  };
}

function defined(p: Principals | undefined): Principals {
  const out: Principals = {};
  if (p?.names !== undefined) out.names = p.names;
  if (p?.roles !== undefined) out.roles = p.roles;
  return out;
}

/** `alice, bob` → ['alice', 'bob']; '' → [] (clears the list). Names must not be blank. */
export function parseNameList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
