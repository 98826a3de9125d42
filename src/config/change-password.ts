import type { CouchServer } from '../couch/server.js';
import { AccountLockedError, ForbiddenError, NotFoundError } from '../couch/errors.js';
import { ConfigError, UsersDbForbiddenError } from './errors.js';

/**
 * Change a CouchDB user's own password, as the Python `picas-cli passwd` does (CouchDB 3 has no other way
 * for a user to do it): read the user's `_users` document, and put it back with a new `password` field and
 * `If-Match: <rev>`. The server then replaces the stored hash. The rest of the document is kept as it is
 * (the original sent `roles: []`, which a non-admin may not change anyway).
 */
export async function changeCouchPassword(couch: CouchServer, username: string, newPassword: string): Promise<{ rev: string }> {
  if (newPassword === '') throw new ConfigError('the new password must not be empty.');
  const path = `/_users/${encodeURIComponent(`org.couchdb.user:${username}`)}`;
  let doc: Record<string, unknown> & { _rev?: string };
  try {
    doc = (await couch.request<Record<string, unknown> & { _rev?: string }>('GET', path)).body;
  } catch (err) {
    if (err instanceof ForbiddenError && !(err instanceof AccountLockedError)) throw usersDbForbidden(couch, username, 'read');
    if (err instanceof NotFoundError) {
      throw new ConfigError(`${couch.url} has no user document for ${JSON.stringify(username)} in _users: `
        + 'only users kept in _users can change their password this way (a server admin from the server\'s own configuration cannot).');
    }
    throw err;
  }
  if (typeof doc._rev !== 'string') throw new ConfigError(`GET ${couch.url}${path} returned a user document without _rev; the server is not CouchDB-like.`);
  const updated = { ...doc, password: newPassword };
  try {
    const res = await couch.request<{ ok: boolean; rev: string }>('PUT', path, { body: updated, headers: { 'if-match': doc._rev } });
    return { rev: res.body.rev };
  } catch (err) {
    if (err instanceof ForbiddenError && !(err instanceof AccountLockedError)) throw usersDbForbidden(couch, username, 'write');
    throw err;
  }
}

function usersDbForbidden(couch: CouchServer, username: string, verb: 'read' | 'write'): UsersDbForbiddenError {
  return new UsersDbForbiddenError(`${couch.url} does not let ${JSON.stringify(username)} ${verb} its own user document in _users (403): `
    + 'CouchDB 3 lets only server admins use _users by default. Ask a server admin to set your new password, or to let users '
    + 'change their own (server setting [couchdb] users_db_security_editable = true, then no members in _users/_security).');
}
