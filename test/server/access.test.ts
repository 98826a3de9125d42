import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ownServerSkipReason } from '../helpers/couch.js';
import { makeUser, useOwnServer } from './fixture.js';

/** Every file under a folder, read as bytes: to prove a plain password was never written. */
function filesContain(dir: string, needle: string): boolean {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (filesContain(p, needle)) return true; continue; }
    if (readFileSync(p).includes(needle)) return true;
  }
  return false;
}

describe('embedded server access rules (CouchDB 3)', { skip: ownServerSkipReason() }, () => {
  const s = useOwnServer();

  it('anonymous requests get 401 everywhere but /, /_up and /_session', async () => {
    await s.req('PUT', '/pub');
    await s.req('PUT', '/pub/doc', { body: { a: 1 } });
    assert.equal((await s.req('GET', '/', { auth: null })).status, 200);
    assert.equal((await s.req('GET', '/_up', { auth: null })).status, 200);
    for (const [method, path] of [['GET', '/_all_dbs'], ['GET', '/pub'], ['GET', '/pub/doc'], ['PUT', '/pub/doc2'], ['GET', '/pub/_all_docs'],
      ['GET', '/pub/_changes'], ['GET', '/_users/org.couchdb.user:x'], ['DELETE', '/pub'], ['GET', '/pub/_security']] as const) {
      const r = await s.req(method, path, { auth: null, body: method === 'PUT' ? { b: 1 } : undefined });
      assert.equal(r.status, 401, `${method} ${path}`);
    }
    // As CouchDB: /_session answers an anonymous request with an empty user context.
    const session = await s.req('GET', '/_session', { auth: null });
    assert.equal(session.status, 200);
    assert.deepEqual(session.body.userCtx, { name: null, roles: [] });
    const wrong = await s.req('GET', '/pub', { auth: { username: s.admin.username, password: 'wrong' } });
    assert.equal(wrong.status, 401);
    assert.equal((await s.req('GET', '/pub/doc')).body.a, 1, 'nothing was written anonymously');
  });

  it('users are created by the admin and stored with a salted pbkdf2 hash only', async () => {
    const alice = await makeUser(s, 'alice');
    const doc = (await s.req('GET', '/_users/org.couchdb.user:alice')).body;
    assert.equal(doc.password, undefined);
    assert.equal(doc.password_scheme, 'pbkdf2');
    assert.match(doc.derived_key, /^[0-9a-f]{64}$/);
    assert.match(doc.salt, /^[0-9a-f]+$/);
    assert.equal((await s.req('GET', '/_session', { auth: alice })).body.userCtx.name, 'alice');
    assert.equal(filesContain(s.server.dataDir, alice.password), false, 'the plain password is in the data folder');
    // A user cannot create users.
    const r = await s.req('PUT', '/_users/org.couchdb.user:mallory', { auth: alice, body: { name: 'mallory', password: 'x', roles: [], type: 'user' } });
    assert.equal(r.status, 403);
  });

  it('a database without members is for admins only; members per _security; non-members 403', async () => {
    const bob = await makeUser(s, 'bob');
    const carol = await makeUser(s, 'carol', ['workers']);
    const dan = await makeUser(s, 'dan');
    await s.req('PUT', '/team');
    assert.equal((await s.req('GET', '/team', { auth: bob })).status, 403);
    assert.equal((await s.req('PUT', '/team/_security', { body: { members: { names: ['bob'], roles: ['workers'] }, admins: { names: ['dan'], roles: [] } } })).status, 200);
    assert.equal((await s.req('GET', '/team/_security', { auth: bob })).body.members.names[0], 'bob');
    assert.equal((await s.req('PUT', '/team/t1', { auth: bob, body: { type: 'token' } })).status, 201);
    assert.equal((await s.req('GET', '/team/t1', { auth: carol })).status, 200, 'member by role');
    const eve = await makeUser(s, 'eve');
    for (const [method, path] of [['GET', '/team'], ['GET', '/team/t1'], ['PUT', '/team/t2'], ['GET', '/team/_changes'], ['POST', '/team/_bulk_docs']] as const) {
      assert.equal((await s.req(method, path, { auth: eve, body: method === 'GET' ? undefined : method === 'POST' ? { docs: [{ a: 1 }] } : { a: 1 } })).status, 403, `${method} ${path}`);
    }
    // Members may not write design documents, in any way, nor _security; database admins may.
    const ddoc = { views: { v: { map: 'function(doc){ emit(doc._id, 1); }' } } };
    assert.equal((await s.req('PUT', '/team/_design/x', { auth: bob, body: ddoc })).status, 403);
    assert.equal((await s.req('PUT', '/team/_design%2Fx', { auth: bob, body: ddoc })).status, 403);
    assert.equal((await s.req('POST', '/team', { auth: bob, body: { _id: '_design/x', ...ddoc } })).status, 403);
    assert.equal((await s.req('POST', '/team/_bulk_docs', { auth: bob, body: { docs: [{ _id: 'ok1' }, { _id: '_design/x', ...ddoc }] } })).status, 403);
    assert.equal((await s.req('GET', '/team/ok1', { auth: bob })).status, 404, 'a refused bulk write wrote nothing');
    assert.equal((await s.req('PUT', '/team/_security', { auth: bob, body: { members: { names: ['bob', 'eve'] } } })).status, 403);
    assert.equal((await s.req('PUT', '/team/_design/x', { auth: dan, body: ddoc })).status, 201, 'database admin');
    assert.equal((await s.req('GET', '/team/_design/x/_view/v', { auth: bob })).status, 200, 'members query views');
    assert.equal((await s.req('DELETE', `/team/_design/x?rev=${(await s.req('GET', '/team/_design/x')).body._rev}`, { auth: bob })).status, 403);
    // Server-level operations are the server admin's (401 "You are not a server admin.", as CouchDB 3.5).
    assert.equal((await s.req('PUT', '/bobs-db', { auth: bob })).status, 401);
    assert.equal((await s.req('DELETE', '/team', { auth: dan })).status, 401);
    assert.equal((await s.req('GET', '/_all_dbs', { auth: bob })).status, 401);
    assert.equal((await s.req('GET', '/team', { auth: dan })).status, 200);
  });

  it('a database re-created under an old name starts admin-only again', async () => {
    const frank = await makeUser(s, 'frank');
    await s.req('PUT', '/reused');
    await s.req('PUT', '/reused/_security', { body: { members: { names: ['frank'] } } });
    assert.equal((await s.req('GET', '/reused', { auth: frank })).status, 200);
    assert.equal((await s.req('DELETE', '/reused')).status, 200);
    assert.equal((await s.req('PUT', '/reused')).status, 201);
    assert.equal((await s.req('GET', '/reused', { auth: frank })).status, 403);
  });

  it('a user changes their own password with If-Match: <rev>, as picas passwd does', async () => {
    const gina = await makeUser(s, 'gina');
    const other = await makeUser(s, 'hank');
    const path = `/_users/${encodeURIComponent('org.couchdb.user:gina')}`;
    // As on CouchDB 3, _users is admin-only until an admin opens it (no members in _users/_security).
    assert.equal((await s.req('GET', path, { auth: gina })).status, 403, '_users is admin-only at first');
    assert.deepEqual((await s.req('GET', '/_users/_security')).body, { members: { roles: ['_admin'] }, admins: { roles: ['_admin'] } });
    assert.equal((await s.req('PUT', '/_users/_security', { auth: gina, body: {} })).status, 401, 'only the server admin opens it');
    assert.equal((await s.req('PUT', '/_users/_security', { body: { admins: { names: [], roles: ['_admin'] }, members: { names: [], roles: [] } } })).status, 200);
    const doc = (await s.req('GET', path, { auth: gina })).body;
    assert.equal((await s.req('GET', '/_users/org.couchdb.user:gina', { auth: other })).status, 403, 'not someone else\'s');
    assert.equal((await s.req('PUT', path, { auth: gina, body: { ...doc, password: 'new-secret', _rev: undefined } })).status, 409, 'without rev');
    assert.equal((await s.req('PUT', path, { auth: gina, body: { ...doc, roles: ['boss'], password: 'x' }, headers: { 'if-match': doc._rev } })).status, 403, 'own roles');
    const r = await s.req('PUT', path, { auth: gina, body: { ...doc, password: 'new-secret' }, headers: { 'if-match': doc._rev } });
    assert.equal(r.status, 201);
    assert.equal((await s.req('GET', '/_session', { auth: gina })).status, 401, 'old password refused');
    assert.equal((await s.req('GET', '/_session', { auth: { username: 'gina', password: 'new-secret' } })).status, 200);
  });

  it('temporary views (code from the request) are refused', async () => {
    await s.req('PUT', '/tmpv');
    const r = await s.req('POST', '/tmpv/_temp_view', { body: { map: 'function(doc){ emit(null, 1); }' } });
    assert.equal(r.status, 410);
    await s.alive();
  });
});
