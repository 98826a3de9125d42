import { randomBytes } from 'node:crypto';
import type { TestServer } from './couch.js';

export interface TestUser { username: string; password: string; remove(): Promise<void> }

/**
 * A CouchDB user of the test's own (in `_users`), for tests of wrong credentials: real CouchDB 3.4+ locks an
 * account for minutes after a few failed logins, so no test ever sends a wrong password for the admin.
 * `members` adds the user to those databases' `_security` (kept as it was otherwise).
 */
export async function createTestUser(server: TestServer, options: { label?: string; members?: string[] } = {}): Promise<TestUser> {
  const username = `picas-test-${options.label ?? 'user'}-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const admin = server.client();
  const path = `/_users/${encodeURIComponent(`org.couchdb.user:${username}`)}`;
  try {
    await admin.request('PUT', path, { body: { _id: `org.couchdb.user:${username}`, name: username, password, roles: [], type: 'user' } });
    for (const db of options.members ?? []) {
      const security = await admin.db(db).getSecurity();
      const members = security.members ?? {};
      await admin.db(db).setSecurity({ ...security, members: { ...members, names: [...(members.names ?? []), username] } });
    }
  } finally {
    await admin.close();
  }
  return {
    username,
    password,
    async remove() {
      const c = server.client();
      try {
        const doc = (await c.request<{ _rev: string }>('GET', path)).body;
        await c.request('DELETE', path, { query: { rev: doc._rev } });
      } catch { /* already gone */ } finally {
        await c.close();
      }
    },
  };
}
