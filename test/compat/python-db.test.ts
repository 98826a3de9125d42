import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb, testServer } from '../helpers/couch.js';
import { loadPythonDb, pythonDbFixture } from './fixture.js';
import { runCliOn } from '../helpers/cli.js';
import { countStates } from '../../src/tokens/status.js';
import { tokenState, TOKEN_STATES } from '../../src/tokens/state.js';
import type { Token } from '../../src/tokens/token.js';
import type { Doc } from '../../src/couch/database.js';

const ctx = useTestDb('compat');
const fixture = pythonDbFixture();

/** Field name → JSON type, the shape two clients must agree on. */
const shape = (doc: Record<string, unknown>, keys = Object.keys(doc)) =>
  Object.fromEntries(keys.filter((k) => k !== '_rev').sort().map((k) => [k, Array.isArray(doc[k]) ? 'array' : doc[k] === null ? 'null' : typeof doc[k]]));

test('picas reads every state of a Python-written database as its Monitor views do', async () => {
  await loadPythonDb(ctx.db);
  assert.deepEqual(await countStates(ctx.db), fixture.expectedCounts);
  for (const doc of fixture.docs) {
    assert.equal(tokenState(doc as Token) ?? null, fixture.expectedStates[doc._id], `state of ${doc._id}`);
  }
  for (const state of TOKEN_STATES) {
    const rows = (await ctx.db.view('Monitor', state)).rows.map((r) => r.id).sort();
    const expected = Object.entries(fixture.expectedStates).filter(([, s]) => s === state).map(([id]) => id).sort();
    assert.deepEqual(rows, expected, `view ${state}`);
  }
});

test('picas export agrees with the views on every token, and leaves out what is not a token', async () => {
  const server = await testServer();
  const r = await runCliOn(server, ['export', '--database', ctx.db.name]);
  assert.equal(r.code, 0, r.stderr);
  const exported = Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((x) => [x._id, x.state]));
  const tokens = Object.fromEntries(Object.entries(fixture.expectedStates).filter(([, s]) => s !== null));
  assert.deepEqual(exported, tokens);
});

test('picas run works through the Python todo tokens and leaves a Python pilot\'s lock alone', async () => {
  const server = await testServer();
  const r = await runCliOn(server, ['run', '--database', ctx.db.name, '--work-dir', `${process.env.TMPDIR ?? '/tmp'}/picas-compat-work`], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await countStates(ctx.db), { todo: 0, locked: 1, done: 7, error: 2 });
  const locked = await ctx.db.get<Token>('token_3');
  assert.equal(locked.hostname, 'wn-17.cluster');
  const ran = await ctx.db.get<Token>('token_0', { attachments: true });
  const python = fixture.docs.find((d) => d._id === 'token_4')!;
  // Every field the Python client writes on a finished token is there, with the same JSON type.
  const pythonFields = Object.keys(python).filter((k) => !['_attachments', 'slurm_job_id'].includes(k));
  assert.deepEqual(shape(ran, pythonFields), shape(python, pythonFields));
  assert.deepEqual(Object.keys(ran._attachments ?? {}).sort(), ['logs_token_0.err', 'logs_token_0.out']);
  assert.equal(Buffer.from(ran._attachments!['logs_token_0.out']!.data!, 'base64').toString(), 'this is token A\n');
  assert.equal(ran.scrub_count, 0);
  assert.equal((await ctx.db.get<Token>('token_1')).scrub_count, 2); // the Python scrub count survives a run
  assert.deepEqual((await ctx.db.get<Token>('token_2')).properties, { threads: 4, resources: { mem_mb: 2000 } });
});

test('picas reset puts Python error tokens back to todo the way the reset script does', async () => {
  const server = await testServer();
  const r = await runCliOn(server, ['reset', 'error', '--database', ctx.db.name]);
  assert.equal(r.code, 0, r.stderr);
  const t7 = await ctx.db.get<Token>('token_7');
  assert.deepEqual([t7.lock, t7.done, t7.hostname, t7.exit_code, t7.scrub_count, t7.pbs_job_id], [0, 0, '', '', 1, undefined]);
  assert.equal(t7.error.length, 1); // the error history stays, as the reset script leaves it
  assert.equal(tokenState(t7), 'todo');
});

test('a token picas pushes has the shape of the Python Task class\'s token', async () => {
  const server = await testServer();
  const r = await runCliOn(server, ['push', '--sweep', 'x=1', '--database', ctx.db.name]);
  assert.equal(r.code, 0, r.stderr);
  const all = (await ctx.db.allDocs<Doc>({ include_docs: true })).rows.map((row) => row.doc!);
  const pushed = all.find((d) => d.x === '1')!;
  const python = fixture.docs.find((d) => d._id.startsWith('task_5b0d'))!;
  const { x, ...rest } = pushed;
  void x;
  assert.deepEqual(shape(rest), shape(python));
  assert.match(pushed._id, /^token_[0-9a-f]{32}$/);
});
