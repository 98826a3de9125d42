import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { runCliOn, tempDir } from '../helpers/cli.js';
import type { CouchServer } from '../../src/couch/server.js';

// User fields must survive every update untouched (REFERENCE.md). The Python client writes ints of any
// size; a JSON.parse round trip turns 12345678901234567891 into 12345678901234567000.
const BIG = '12345678901234567891';
const NEG = '-98765432109876543210';
const JUST_ABOVE = '9007199254740993'; // 2^53 + 1: the first integer a double cannot hold

let server: TestServer;
let couch: CouchServer;
const created: string[] = [];
const dir = tempDir('bigint');

before(async () => { server = await testServer(); couch = server.client(); });
after(async () => {
  for (const n of created) await couch.db(n).destroy().catch(() => {});
  await couch.close();
});

/** The document exactly as the server stores it (raw text, not through picas's parser). */
async function rawDoc(db: string, id: string): Promise<string> {
  const res = await fetch(`${server.url}/${encodeURIComponent(db)}/${encodeURIComponent(id)}`, {
    headers: { authorization: `Basic ${Buffer.from(`${server.username}:${server.password}`).toString('base64')}` },
  });
  assert.equal(res.status, 200);
  return res.text();
}

function assertIntact(text: string, when: string): void {
  assert.match(text, new RegExp(`"n":\\s*${BIG}\\b`), `${when}: ${text}`);
  assert.match(text, new RegExp(`"neg":\\s*${NEG}\\b`), `${when}: ${text}`);
  assert.match(text, new RegExp(`"x":\\s*\\[\\s*${JUST_ABOVE}\\s*,\\s*1\\s*\\]`), `${when}: ${text}`);
}

/** Whether the server itself keeps such integers (an answer written raw and read back raw). */
async function serverKeepsBigIntegers(): Promise<boolean> {
  const db = uniqueDbName('bigint-probe');
  created.push(db);
  const auth = { authorization: `Basic ${Buffer.from(`${server.username}:${server.password}`).toString('base64')}`, 'content-type': 'application/json' };
  await fetch(`${server.url}/${db}`, { method: 'PUT', headers: auth });
  await fetch(`${server.url}/${db}/probe`, { method: 'PUT', headers: auth, body: `{"n":${BIG}}` });
  const text = await (await fetch(`${server.url}/${db}/probe`, { headers: auth })).text();
  return text.includes(BIG);
}

test('a user field beyond 2^53 survives push, claim, result, show, export and reset digit for digit', async (t) => {
  if (!(await serverKeepsBigIntegers())) {
    // The server rounds on its own: nothing the client does can keep the digits there.
    t.skip('the test server itself rounds integers beyond 2^53 (a server defect, not the client\'s)');
    console.log('# skipped: the test server itself rounds integers beyond 2^53');
    return;
  }
  const db = uniqueDbName('bigint');
  created.push(db);
  const file = join(dir, 'big.jsonl');
  writeFileSync(file, `{"_id":"big_1","input":"echo run","n":${BIG},"neg":${NEG},"nested":{"x":[${JUST_ABOVE},1]}}\n`);

  const push = await runCliOn(server, ['push', file, '--database', db]);
  assert.equal(push.code, 0, push.stderr);
  assertIntact(await rawDoc(db, 'big_1'), 'after push');

  // The pilot locks the token (a write of the whole document), then writes its result (another one).
  const run = await runCliOn(server, ['run', '--database', db, '--work-dir', join(dir, 'work')]);
  assert.equal(run.code, 0, run.stderr);
  const done = await rawDoc(db, 'big_1');
  assert.match(done, /"exit_code":\s*0/);
  assertIntact(done, 'after claim and result');

  const show = await runCliOn(server, ['show', 'big_1', '--database', db, '--json']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`"n": ${BIG}\\b`));
  const readable = await runCliOn(server, ['show', 'big_1', '--database', db]);
  assert.equal(readable.code, 0, readable.stderr);
  assert.match(readable.stdout, new RegExp(`n: ${BIG}\\b`));

  const exported = await runCliOn(server, ['export', 'done', '--database', db]);
  assert.equal(exported.code, 0, exported.stderr);
  assertIntact(exported.stdout, 'export');

  const reset = await runCliOn(server, ['reset', 'done', '--database', db]);
  assert.equal(reset.code, 0, reset.stderr);
  const back = await rawDoc(db, 'big_1');
  assert.match(back, /"done":\s*0/);
  assertIntact(back, 'after reset');
});
