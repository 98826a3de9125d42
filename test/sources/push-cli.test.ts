import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testServer, uniqueDbName, ROOT, type TestServer } from '../helpers/couch.js';
import type { CouchServer } from '../../src/couch/server.js';
import { countStates } from '../../src/tokens/status.js';
import type { Token } from '../../src/tokens/token.js';
import { progressReporter } from '../../src/sources/progress.js';
import { runCliOn, runCliOnTty, tempDir } from '../helpers/cli.js';
import { createTestUser } from '../helpers/test-user.js';

let server: TestServer;
let couch: CouchServer;
const created: string[] = [];
const dir = tempDir('push-cli');
const dbName = () => { const n = uniqueDbName('push-cli'); created.push(n); return n; };

before(async () => { server = await testServer(); couch = server.client(); });
after(async () => {
  for (const n of created) await couch.db(n).destroy().catch(() => {});
  await couch.close();
});

const tokensOf = async (db: string) =>
  (await couch.db(db).allDocs<Token>({ include_docs: true })).rows.map((r) => r.doc!).filter((d) => d.type === 'token');

test('picas push quickExample.txt creates the database and its views, and adds three todo tokens', async () => {
  const db = dbName();
  const r = await runCliOn(server, ['push', join(ROOT, 'examples/quick/quickExample.txt'), '--database', db]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /created database/);
  assert.match(r.stderr, /pushed 3 tokens to .*: 3 added, 0 already there, 0 failed/);
  assert.deepEqual(await countStates(couch.db(db)), { todo: 3, locked: 0, done: 0, error: 0 });
  assert.deepEqual((await tokensOf(db)).map((t) => t.input).sort(), ['echo "this is token A"', 'echo "this is token B"', 'echo "this is token C"']);
});

test('picas push --sweep makes the 24 fractals tokens; again with --deterministic-ids adds nothing and says so', async () => {
  const db = dbName();
  const args = ['push', '--database', db, '--deterministic-ids', '--sweep', 'q=0.100,0.184', 'd=256,2280,4304,6328', 'm=400,4400,8400', '--input', './fractals -q {q} -d {d} -m {m}'];
  const first = await runCliOn(server, args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /24 added/);
  const tokens = await tokensOf(db);
  assert.equal(tokens.length, 24);
  assert.ok(tokens.some((t) => t.q === '0.184' && t.d === '4304' && t.m === '400' && t.input === './fractals -q 0.184 -d 4304 -m 400'));
  const again = await runCliOn(server, args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /0 added, 24 already there, 0 failed/);
  assert.match(again.stderr, /token \S+ \(sweep combination 1 \(q=0\.100 d=256 m=400\)\): already there/);
  assert.match(again.stderr, /\.\.\. 14 more already there/);
  assert.equal((await tokensOf(db)).length, 24);
});

test('picas push tokens.csv and tokens.json: fields from the header / objects', async () => {
  const db = dbName();
  writeFileSync(join(dir, 'runs.csv'), 'input,cores\necho one,1\n"echo ""two""",4\n');
  writeFileSync(join(dir, 'runs.json'), '[{"input": "echo three", "properties": {"mem": "2G"}}]');
  const a = await runCliOn(server, ['push', join(dir, 'runs.csv'), '--database', db]);
  const b = await runCliOn(server, ['push', join(dir, 'runs.json'), '--database', db]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const tokens = await tokensOf(db);
  assert.deepEqual(tokens.map((t) => [t.input, t.cores, t.properties]).sort(), [
    ['echo "two"', '4', undefined], ['echo one', '1', undefined], ['echo three', undefined, { mem: '2G' }],
  ]);
});

test('a malformed line stops the push before anything is written, naming the line', async () => {
  const db = dbName();
  writeFileSync(join(dir, 'bad.jsonl'), '{"input":"a"}\n{"input":"b"}\n{"input": b}\n');
  const r = await runCliOn(server, ['push', join(dir, 'bad.jsonl'), '--database', db]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^picas: .*bad\.jsonl line 3: not valid JSON.*\(nothing was pushed\)\n$/);
  assert.equal(await couch.db(db).exists(), false);
});

test('a missing file, a bad --format and an empty command are one-line errors', async () => {
  const missing = await runCliOn(server, ['push', join(dir, 'nope.txt'), '--database', dbName()]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.txt: cannot read the file \(no such file\); check the path/);
  const format = await runCliOn(server, ['push', join(ROOT, 'examples/quick/quickExample.txt'), '--format', 'yaml']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /unknown format "yaml"; choose one of text, jsonl, json, csv/);
  const nothing = await runCliOn(server, ['push']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to push: give a file/);
});

test('a wrong password fails with the authentication exit code and a clear line', async () => {
  // A user of the test's own: a wrong password for the admin would lock it on real CouchDB.
  const user = await createTestUser(server, { label: 'push' });
  try {
    const db = dbName();
    const r = await runCliOn(server, ['push', join(ROOT, 'examples/quick/quickExample.txt'), '--database', db], { password: 'not-the-password', env: { PICAS_USERNAME: user.username } });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /wrong user name or password \(401\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(await couch.db(db).exists(), false, 'nothing was created');
  } finally {
    await user.remove();
  }
});

test('progress: a redrawn bar on a terminal, plain lines otherwise', () => {
  const written: string[] = [];
  const fakeStream = (isTTY: boolean) => ({ isTTY, write: (s: string) => { written.push(s); return true; } }) as unknown as NodeJS.WriteStream;
  const p = { sent: 5, added: 4, existing: 1, failed: 0 };
  progressReporter(10, fakeStream(true), { intervalMs: 0 }).update(p);
  assert.match(written.pop()!, /^\r\[#{15} {15}\] 5\/10 tokens: 4 added, 1 already there/);
  progressReporter(10, fakeStream(false), { intervalMs: 0 }).update(p);
  assert.equal(written.pop(), 'pushed 5/10 tokens: 4 added, 1 already there\n');
});

test('picas push - reads the tokens from standard input; a malformed line there is named "stdin line N"', async () => {
  const db = dbName();
  const tmp = tempDir('push-stdin-tmp');
  const r = await runCliOn(server, ['push', '-', '--database', db], { input: 'echo one\n\necho two\necho three\n', env: { TMPDIR: tmp } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('picas-')), [], 'the copy of stdin is removed');
  assert.match(r.stderr, /3 added/);
  assert.deepEqual((await tokensOf(db)).map((t) => t.input).sort(), ['echo one', 'echo three', 'echo two']);

  const bad = await runCliOn(server, ['push', '-', '--format', 'jsonl', '--database', db], { input: '{"input": "ok"}\n{"input": \n' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /stdin line 2/);
  assert.doesNotMatch(bad.stderr, /picas-stdin-/, 'the temporary copy is not what the user is told about');
  assert.match(bad.stderr, /nothing was pushed/);
  assert.equal((await tokensOf(db)).length, 3, 'nothing added by the refused push');

  const empty = await runCliOn(server, ['push', '-', '--database', db], { input: '' });
  assert.equal(empty.code, 0);
  assert.match(empty.stderr, /standard input holds no tokens/);
});

test('picas push - on a terminal says to pipe the tokens in, instead of waiting for typing', async () => {
  const r = await runCliOnTty(['push', '-', '--url', server.url], { ...process.env, PICAS_CONFIG_DIR: tempDir('config') }, [], 30_000);
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stdout, /standard input is a terminal; pipe the tokens in/);
});

test('in a log file, a push shorter than the progress interval prints only its summary line', () => {
  const written: string[] = [];
  const stream = { isTTY: false, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
  const reporter = progressReporter(3, stream, { intervalMs: 60_000 });
  reporter.update({ sent: 3, added: 3, existing: 0, failed: 0 } as Parameters<typeof reporter.update>[0]);
  reporter.done({ sent: 3, added: 3, existing: 0, failed: 0 } as Parameters<typeof reporter.done>[0]);
  assert.deepEqual(written, []);
});
