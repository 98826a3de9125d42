import type { CouchServer } from '../couch/server.js';
import { NotFoundError } from '../couch/errors.js';
import { ConfigError } from './errors.js';

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
    if (err instanceof NotFoundError) {
      throw new ConfigError(`${couch.url} has no user document for ${JSON.stringify(username)} in _users: `
        + 'only users kept in _users can change their password this way (a server admin from the server\'s own configuration cannot).');
    }
    throw err;
  }
  if (typeof doc._rev !== 'string') throw new ConfigError(`GET ${couch.url}${path} returned a user document without _rev; the server is not CouchDB-like.`);
  const updated = { ...doc, password: newPassword };
  const res = await couch.request<{ ok: boolean; rev: string }>('PUT', path, { body: updated, headers: { 'if-match': doc._rev } });
  return { rev: res.body.rev };
}
