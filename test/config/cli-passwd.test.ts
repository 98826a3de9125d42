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

before(async () => {
  server = await testServer();
  admin = server.client();
  await admin.request('PUT', userPath, { body: { _id: `org.couchdb.user:${userName}`, name: userName, password: 'first-pw', roles: [], type: 'user' } });
});

after(async () => {
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

test('passwd changes the user\'s password on the server and in conf.yml', async () => {
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
