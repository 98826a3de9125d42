import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Token } from '../../src/tokens/token.js';
import { countStates } from '../../src/tokens/status.js';
import { tempDir } from '../helpers/cli.js';
import { exampleEnv } from './shim.js';
import { run } from './run.js';

let server: TestServer;
let couch: CouchServer;
const created: string[] = [];
const dbName = (label: string) => { const n = uniqueDbName(label); created.push(n); return n; };

before(async () => { server = await testServer(); couch = server.client(); });
after(async () => {
  for (const n of created) await couch.db(n).destroy().catch(() => {});
  await couch.close();
});

const EXAMPLES = join(ROOT, 'examples');

test('quick example: push the three echo tokens, run them, export their output', async () => {
  const db = dbName('ex-quick');
  const env = exampleEnv(server, db);
  const cwd = tempDir('quick');
  const push = await run('picas', ['push', join(EXAMPLES, 'quick/quickExample.txt')], { cwd, env });
  assert.equal(push.code, 0, push.stderr);
  const pilot = await run('picas', ['run'], { cwd, env });
  assert.equal(pilot.code, 0, pilot.stderr);
  const out = await run('picas', ['export', 'done', '--logs'], { cwd, env });
  const stdouts = out.stdout.trim().split('\n').map((l) => JSON.parse(l).stdout).sort();
  assert.deepEqual(stdouts, ['this is token A\n', 'this is token B\n', 'this is token C\n']);
});

test('fractals example: built with cc, the 24-token sweep runs end to end (sizes reduced by FRACTALS_D/FRACTALS_M)', async () => {
  const db = dbName('ex-fractals');
  const build = tempDir('fractals');
  // Build into a temp copy so the checkout stays clean.
  const cc = await run('cc', ['-O2', '-Wall', '-o', join(build, 'fractals'), join(EXAMPLES, 'fractals/fractals.c')], { cwd: build, env: process.env });
  assert.equal(cc.code, 0, cc.stderr);
  const bad = await run(join(build, 'fractals'), ['-q', '0.1', '-d', 'big', '-o', 'x.ppm'], { cwd: build, env: process.env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /-d needs a size/);

  const images = join(build, 'images');
  // push-sweep.sh calls the binary next to itself: run a copy of the script from the build folder.
  const script = join(build, 'push-sweep.sh');
  copyFileSync(join(EXAMPLES, 'fractals/push-sweep.sh'), script);
  const env = exampleEnv(server, db, {
    FRACTALS_D: process.env.FRACTALS_D ?? '24,32,40,48',
    FRACTALS_M: process.env.FRACTALS_M ?? '20,40,60',
    FRACTALS_OUT: images,
  });
  const push = await run('bash', [script], { cwd: build, env });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stderr, /24 added/);
  const again = await run('bash', [script], { cwd: build, env });
  assert.match(again.stderr, /0 added, 24 already there/);

  const pilot = await run('picas', ['run', '--slots', '2', '--work-dir', join(build, 'work')], { cwd: build, env, timeoutMs: 300_000 });
  assert.equal(pilot.code, 0, pilot.stderr);
  assert.deepEqual(await countStates(couch.db(db)), { todo: 0, locked: 0, done: 24, error: 0 });
  const files = readdirSync(images).sort();
  assert.equal(files.length, 24);
  assert.ok(files.includes('fractal_q0.184_d48_m60.ppm'), files.join(' '));
  const ppm = readFileSync(join(images, 'fractal_q0.100_d24_m20.ppm'));
  assert.equal(ppm.subarray(0, 13).toString('latin1'), 'P6\n24 24\n255\n');
  assert.equal(ppm.length, 13 + 24 * 24 * 3);

  const csv = await run('picas', ['export', '--format', 'csv', '--fields', 'q,d,m,exit_code'], { cwd: build, env });
  const rows = csv.stdout.trim().split('\n');
  assert.equal(rows[0], 'q,d,m,exit_code');
  assert.equal(rows.length, 25);
  assert.ok(rows.includes('0.184,40,20,0'));
});

test('word-count example: one token per file, counts come back in the logs', async () => {
  const db = dbName('ex-wordcount');
  const env = exampleEnv(server, db);
  const cwd = tempDir('wordcount');
  const push = await run('bash', [join(EXAMPLES, 'wordcount/push-wordcount.sh')], { cwd, env });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stderr, /3 added/);
  const pilot = await run('picas', ['run'], { cwd, env });
  assert.equal(pilot.code, 0, pilot.stderr);
  const out = await run('picas', ['export', 'done', '--logs'], { cwd, env });
  const counts = Object.fromEntries(out.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((t: Token & { stdout: string; file: string }) => [t.file.split('/').pop(), t.stdout.trim()]));
  assert.deepEqual(counts, { 'fox.txt': '9', 'hamlet.txt': '18', 'picas.txt': '18' });
  assert.ok(existsSync(join(EXAMPLES, 'wordcount/texts/fox.txt')));
});
