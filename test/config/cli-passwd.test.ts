import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { CouchServer } from '../../src/couch/server.js';
import { UnauthorizedError } from '../../src/couch/errors.js';
import { testServer, type TestServer } from '../helpers/couch.js';
import { runCli, tempHome } from '../helpers/cli.js';

let server: TestServer;
let admin: CouchServer;
const userName = `picas-test-passwd-${randomBytes(4).toString('hex')}`;
const userPath = `/_users/${encodeURIComponent(`org.couchdb.user:${userName}`)}`;
const homes: string[] = [];

/** `_users`'s security object as it was before these tests, or undefined where the server has none to set. */
let usersSecurity: Record<string, unknown> | undefined;

/** Set `_users`'s security object; false where the server does not let even an admin set it. */
async function setUsersSecurity(security: Record<string, unknown>): Promise<boolean> {
  try {
    await admin.request('PUT', '/_users/_security', { body: security });
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  server = await testServer();
  admin = server.client();
  await admin.request('PUT', userPath, { body: { _id: `org.couchdb.user:${userName}`, name: userName, password: 'first-pw', roles: [], type: 'user' } });
  usersSecurity = await admin.request<Record<string, unknown>>('GET', '/_users/_security').then((r) => r.body ?? {}, () => undefined);
});

after(async () => {
  if (usersSecurity) await setUsersSecurity(usersSecurity);
  try {
    const doc = (await admin.request<{ _rev: string }>('GET', userPath)).body;
    await admin.request('DELETE', userPath, { query: { rev: doc._rev } });
  } catch { /* already gone */ }
  await admin.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function home() { const h = tempHome(); homes.push(h.home); return h; }

async function sessionName(password: string): Promise<string | null> {
  const c = new CouchServer({ url: server.url, username: userName, password });
  try {
    return (await c.session()).userCtx.name;
  } finally {
    await c.close();
  }
}

function assertOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
}

test('passwd where _users is admin-only (CouchDB 3\'s default): says why and what to do, exit 5, nothing changed', async (t) => {
  // Real CouchDB 3 is admin-only already (and refuses to change it); elsewhere make it so, where possible.
  const adminOnly = (usersSecurity?.members as { roles?: string[] } | undefined)?.roles?.includes('_admin')
    || (usersSecurity !== undefined && await setUsersSecurity({ admins: { names: [], roles: ['_admin'] }, members: { names: [], roles: ['_admin'] } }));
  if (!adminOnly) {
    console.log('# skipped: the test server has no _users security object to set');
    t.skip('the test server has no _users security object to set');
    return;
  }
  const h = home();
  const r = await runCli(['passwd'], { ...h.env, PICAS_HOST_URL: server.url, PICAS_USERNAME: userName, PICAS_PASSWORD: 'first-pw', PICAS_NEW_PASSWORD: 'never-set' });
  assert.equal(r.code, 5, r.stderr);
  assertOneLine(r.stderr, /does not let "picas-test-passwd-[0-9a-f]+" read its own user document in _users \(403\): CouchDB 3 lets only server admins use _users by default\. Ask a server admin to set your new password, or to let users change their own \(server setting \[couchdb\] users_db_security_editable = true/);
  assert.equal(await sessionName('first-pw'), userName, 'the password is unchanged');
});

test('passwd changes the user\'s password on the server and in conf.yml (where an admin opened _users)', async (t) => {
  // CouchDB 3 creates _users admin-only; an admin who wants users to change their own passwords opens it
  // (which CouchDB's default configuration does not allow: users_db_security_editable = false).
  if (usersSecurity && !(await setUsersSecurity({ admins: { names: [], roles: ['_admin'] }, members: { names: [], roles: [] } }))) {
    const reason = 'the server keeps _users admin-only (CouchDB 3\'s default, users_db_security_editable = false): users cannot change their own password there';
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const h = home();
  const init = await runCli(['init', '--host-url', server.url, '--database', 'any', '--username', userName], { ...h.env, PICAS_PASSWORD: 'first-pw' });
  assert.equal(init.code, 0, init.stderr);
  assert.equal(await sessionName('first-pw'), userName);

  const r = await runCli(['passwd'], { ...h.env, PICAS_NEW_PASSWORD: 'second-pw' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`changed the password of '${userName}'`));
  assert.match(r.stderr, /updated .*conf\.yml/);
  assert.equal(await sessionName('second-pw'), userName);
  await assert.rejects(sessionName('first-pw'), UnauthorizedError);
  const dumped = await runCli(['dump-config', '--show-password'], h.env);
  assert.match(dumped.stdout, /^PICAS_PASSWORD = "second-pw"$/m);

  // Once more with the current password from the environment: conf.yml still follows, and the user is
  // told that PICAS_PASSWORD now holds the old one.
  const back = await runCli(['passwd'], { ...h.env, PICAS_PASSWORD: 'second-pw', PICAS_NEW_PASSWORD: 'third-pw' });
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stderr, /PICAS_PASSWORD still holds the old password/);
  assert.equal(await sessionName('third-pw'), userName);
});

test('passwd: wrong current password, no user document, no new password: one clear line each', async () => {
  const h = home();
  const base = { ...h.env, PICAS_HOST_URL: server.url, PICAS_USERNAME: userName };
  const wrong = await runCli(['passwd'], { ...base, PICAS_PASSWORD: 'not-the-password', PICAS_NEW_PASSWORD: 'x-pw' });
  assert.equal(wrong.code, 5, wrong.stderr);
  assertOneLine(wrong.stderr, /wrong user name or password \(401\)/);

  const noNew = await runCli(['passwd'], { ...base, PICAS_PASSWORD: 'whatever' });
  assert.equal(noNew.code, 3, noNew.stderr);
  assertOneLine(noNew.stderr, /cannot ask for the password: not a terminal\. Give it with --new-password-file/);

  const noUser = await runCli(['passwd', '--url', server.url], { ...h.env, PICAS_PASSWORD: 'x', PICAS_NEW_PASSWORD: 'y' });
  assert.equal(noUser.code, 2, noUser.stderr);
  assertOneLine(noUser.stderr, /needs your user name/);
});

test('passwd for a server admin (not in _users) says why it cannot', async () => {
  const h = home();
  const r = await runCli(['passwd'], { ...h.env, PICAS_HOST_URL: server.url, PICAS_USERNAME: server.username, PICAS_PASSWORD: server.password, PICAS_NEW_PASSWORD: 'never-set' });
  assert.equal(r.code, 3, r.stderr);
  assertOneLine(r.stderr, /has no user document for .* in _users/);
});
