import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { runCliOn, tempDir } from '../helpers/cli.js';
import type { CouchServer } from '../../src/couch/server.js';
import { countStates } from '../../src/tokens/status.js';

// Ids the Python client may write: dot segments, URL delimiters, percent signs, Unicode, spaces. Each must
// address its own document; `picas show ..` once printed the server's welcome as a token.
const IDS = ['.', '..', '/', '%', '%2E', '?', '#', 'a/../b', 'ü日本', ' x ', '+'];

let server: TestServer;
let couch: CouchServer;
const created: string[] = [];
const dir = tempDir('odd-ids');

before(async () => { server = await testServer(); couch = server.client(); });
after(async () => {
  for (const n of created) await couch.db(n).destroy().catch(() => {});
  await couch.close();
});

test('tokens with ids like "..", "/", "%" and "?" go through push, run, show, export, reset on their own documents', async () => {
  const db = uniqueDbName('odd-ids');
  created.push(db);
  const file = join(dir, 'odd.jsonl');
  writeFileSync(file, IDS.map((id) => JSON.stringify({ _id: id, input: 'printf "out of %s" "$PICAS_TOKEN_ID"' })).join('\n'));
  const push = await runCliOn(server, ['push', file, '--database', db]);
  assert.equal(push.code, 0, push.stderr);
  assert.deepEqual((await couch.db(db).allDocs()).rows.map((r) => r.id!).filter((id) => !id.startsWith('_')).sort(), [...IDS].sort());

  const run = await runCliOn(server, ['run', '--database', db, '--work-dir', join(dir, 'work')]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await countStates(couch.db(db)), { todo: 0, locked: 0, done: IDS.length, error: 0 });

  for (const id of IDS) {
    const show = await runCliOn(server, ['show', id, '--database', db, '--json']);
    assert.equal(show.code, 0, `${id}: ${show.stderr}`);
    const doc = JSON.parse(show.stdout);
    assert.equal(doc._id, id, `picas show ${JSON.stringify(id)} printed another document`);
    assert.equal(doc.exit_code, 0);
    assert.equal(doc.logs[`logs_${id}.out`], `out of ${id}`);
  }
  for (const id of ['.', '..', '/', '%2E', '?']) {
    const logs = await runCliOn(server, ['logs', id, '--stdout', '--database', db]);
    assert.equal(logs.code, 0, `${id}: ${logs.stderr}`);
    assert.equal(logs.stdout.trim(), `out of ${id}`);
  }

  const exported = await runCliOn(server, ['export', 'done', '--logs', '--database', db]);
  assert.equal(exported.code, 0, exported.stderr);
  const records = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => [r._id, r.stdout]).sort(), IDS.map((id) => [id, `out of ${id}`]).sort());

  const out = join(dir, 'exported');
  const folder = await runCliOn(server, ['export', 'done', '--format', 'dir', '-o', out, '--database', db]);
  assert.equal(folder.code, 0, folder.stderr);
  const files = readdirSync(out);
  assert.equal(files.filter((f) => f.endsWith('.json')).length, IDS.length);
  const logs = files.filter((f) => f.endsWith('.out')).map((f) => readFileSync(join(out, f), 'utf8')).sort();
  assert.deepEqual(logs, IDS.map((id) => `out of ${id}`).sort());

  const reset = await runCliOn(server, ['reset', 'done', '--yes', '--database', db]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.deepEqual(await countStates(couch.db(db)), { todo: IDS.length, locked: 0, done: 0, error: 0 });
  for (const id of IDS) assert.equal((await couch.db(db).get(id)).input, 'printf "out of %s" "$PICAS_TOKEN_ID"', 'nothing lost');
});

test('picas show of a reserved id ("_all_docs", "_design/Monitor") or a missing one reads no other resource', async () => {
  const db = uniqueDbName('odd-ids');
  created.push(db);
  await couch.db(db).create();
  for (const [command, id] of [['show', '_all_docs'], ['show', '_design/Monitor'], ['show', '_changes'], ['logs', '_all_docs']]) {
    const r = await runCliOn(server, [command!, id!, '--database', db]);
    assert.equal(r.code, 2, `${id}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^picas: .*starts with "_".*not a token/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  }
  for (const id of ['.', '..']) {
    const r = await runCliOn(server, ['show', id, '--database', db]);
    assert.equal(r.code, 6, `${id}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^picas: no token "${id.replace(/\./g, '\\.')}" in database`));
  }
});
