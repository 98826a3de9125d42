import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import type { CouchServer } from '../../src/couch/server.js';
import { countStates } from '../../src/tokens/status.js';
import { newToken } from '../../src/tokens/token.js';
import { loadPythonDb } from '../compat/fixture.js';
import { runCliOn } from '../helpers/cli.js';
import { createTestUser } from '../helpers/test-user.js';

let server: TestServer;
let couch: CouchServer;
const created: string[] = [];

before(async () => { server = await testServer(); couch = server.client(); });
after(async () => {
  for (const n of created) await couch.db(n).destroy().catch(() => {});
  await couch.close();
});

/** A fresh database holding the Python fixture plus `extraErrors` more error tokens. */
async function freshDb(extraErrors = 0): Promise<string> {
  const name = uniqueDbName('maint-cli');
  created.push(name);
  const db = couch.db(name);
  await db.create();
  await loadPythonDb(db);
  await db.bulkDocs(Array.from({ length: extraErrors }, (_, i) => newToken({ _id: `err_${i}`, lock: 1, done: 2, exit_code: 3 })));
  return name;
}

test('picas reset error: back to todo, summary on stderr', async () => {
  const db = await freshDb();
  const r = await runCliOn(server, ['reset', 'error', '--database', db]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /reset 2 tokens to todo \(view Monitor\/error\)/);
  assert.deepEqual(await countStates(couch.db(db)), { todo: 6, locked: 1, done: 3, error: 0 });
});

test('picas reset --dry-run lists the tokens and changes nothing; --locked-older-than filters by age', async () => {
  const db = await freshDb();
  const dry = await runCliOn(server, ['reset', 'locked', '--locked-older-than', '1h', '--dry-run', '--database', db]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout, 'token_3\tlocked\n'); // locked in 2025: long ago
  assert.match(dry.stderr, /dry run: would reset 1 tokens \(view Monitor\/locked locked longer than 1h ago\)/);
  assert.equal((await countStates(couch.db(db))).locked, 1);
  const far = await runCliOn(server, ['reset', 'locked', '--locked-older-than', '36500d', '--database', db]);
  assert.match(far.stderr, /no tokens to reset/);
  const bad = await runCliOn(server, ['reset', 'locked', '--locked-older-than', '12', '--database', db]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--locked-older-than must be a number with a unit/);
});

test('more than 10 tokens without --yes and without a terminal: refused, nothing changed; --yes does it', async () => {
  const db = await freshDb(12);
  const refused = await runCliOn(server, ['reset', 'error', '--database', db]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /Reset 14 tokens \(view Monitor\/error\) in \S+: not confirmed \(no terminal to ask on\)\. Add --yes/);
  assert.equal((await countStates(couch.db(db))).error, 14);
  const del = await runCliOn(server, ['delete', 'error', '--database', db]);
  assert.equal(del.code, 2);
  assert.match(del.stderr, /Delete 14 tokens/);
  const yes = await runCliOn(server, ['delete', 'error', '--yes', '--database', db]);
  assert.equal(yes.code, 0, yes.stderr);
  assert.match(yes.stderr, /deleted 14 tokens/);
  assert.equal((await countStates(couch.db(db))).error, 0);
});

test('picas delete --dry-run, and an unknown view names the views there are', async () => {
  const db = await freshDb();
  const dry = await runCliOn(server, ['delete', 'done', '--dry-run', '--database', db]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.stdout.trim().split('\n').sort(), ['token_4\tdone', 'token_5\tdone', 'token_8\tdone']);
  for (const cmd of ['reset', 'delete', 'export']) {
    const r = await runCliOn(server, [cmd, 'finished', '--database', db]);
    assert.equal(r.code, 6, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /no view "finished" in design document "Monitor" \(its views: todo, locked, done, error, overview_total\)/);
  }
  const none = await runCliOn(server, ['delete', '--database', db]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /say which tokens/);
});

test('picas export: JSON lines to stdout, CSV to a file, a folder of logs', async () => {
  const db = await freshDb();
  const jsonl = await runCliOn(server, ['export', 'done', '--logs', '--database', db]);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const records = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => [r._id, r.state, r.exit_code]).sort(), [['token_4', 'done', 0], ['token_5', 'done', '0'], ['token_8', 'done', 0]]);
  assert.equal(records.find((r) => r._id === 'token_4').stdout, 'done\n');
  const dir = mkdtempSync(join(tmpdir(), 'picas-export-cli-'));
  const csv = await runCliOn(server, ['export', '--fields', '_id,state,exit_code', '-o', join(dir, 'all.csv'), '--database', db]);
  assert.equal(csv.code, 0, csv.stderr);
  const lines = readFileSync(join(dir, 'all.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], '_id,state,exit_code');
  assert.equal(lines.length, 11);
  assert.ok(lines.includes('token_6,error,1'));
  const logs = await runCliOn(server, ['export', 'error', '--format', 'dir', '-o', join(dir, 'logs'), '--database', db]);
  assert.equal(logs.code, 0, logs.stderr);
  assert.deepEqual(readdirSync(join(dir, 'logs')).sort(), ['token_6.err', 'token_6.json', 'token_6.out', 'token_7.json']);
  const noDir = await runCliOn(server, ['export', '--format', 'dir', '--database', db]);
  assert.equal(noDir.code, 2);
  assert.match(noDir.stderr, /--format dir needs --output/);
  const missing = await runCliOn(server, ['export', '--database', 'picas-test-missing-db-export']);
  assert.equal(missing.code, 6);
  assert.match(missing.stderr, /database "picas-test-missing-db-export" does not exist/);
});

test('picas users: set members and admins, show them', async () => {
  const db = await freshDb();
  // CouchDB 3 creates databases admin-only (`_admin` in both roles lists); what picas is not told to change
  // (here the admins' roles) stays as it was.
  const keptAdminRoles = (await couch.db(db).getSecurity()).admins?.roles ?? [];
  const set = await runCliOn(server, ['users', '--members', 'alice, bob', '--member-roles', 'picas', '--admins', 'carol', '--json', '--database', db]);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(JSON.parse(set.stdout), { admins: { names: ['carol'], roles: keptAdminRoles }, members: { names: ['alice', 'bob'], roles: ['picas'] } });
  assert.deepEqual((await couch.db(db).getSecurity()).members, { names: ['alice', 'bob'], roles: ['picas'] });
  const show = await runCliOn(server, ['users', '--database', db]);
  assert.match(show.stdout, new RegExp(`members: names alice, bob; roles picas\nadmins:  names carol; roles ${keptAdminRoles.length ? keptAdminRoles.join(', ') : '-'}`));
  await couch.db(db).setSecurity({});
});

test('a wrong password: reset, delete, export and users fail with exit 5 and one line', async () => {
  const db = await freshDb();
  // A user of the test's own, made a member: a wrong password for the admin would lock it on real CouchDB.
  const user = await createTestUser(server, { label: 'maint', members: [db] });
  try {
    for (const args of [['reset', 'error'], ['delete', 'done'], ['export'], ['users']]) {
      const r = await runCliOn(server, [...args, '--database', db], { password: 'wrong-password', env: { PICAS_USERNAME: user.username } });
      assert.equal(r.code, 5, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^picas: .*wrong user name or password \(401\)/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    assert.deepEqual(await countStates(couch.db(db)), { todo: 4, locked: 1, done: 3, error: 2 }, 'nothing changed');
  } finally {
    await user.remove();
  }
});
