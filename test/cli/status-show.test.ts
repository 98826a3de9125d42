import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, tempDir } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, markDone, lockToken, markError } from '../../src/tokens/index.js';
import { inlineAttachment } from '../../src/couch/database.js';

const ctx = useTestDb('cli-status');

test('picas --version and --help', async () => {
  const env = { ...process.env };
  const v = await runCli(['--version'], env);
  assert.equal(v.code, 0);
  assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const h = await runCli(['--help'], env);
  assert.equal(h.code, 0);
  for (const c of ['serve', 'push', 'run', 'status', 'show', 'export', 'reset', 'delete', 'init']) assert.match(h.stdout, new RegExp(`\\b${c}\\b`));
  const runHelp = await runCli(['run', '--help'], env);
  assert.match(runHelp.stdout, /Examples:/);
  const bad = await runCli(['run', '--no-such-option'], env);
  assert.equal(bad.code, 2);
});

test('picas status --json prints one object with the four counts; show prints a token with its logs', async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.bulkDocs([
    newToken({ _id: 'todo1' }),
    lockToken(newToken({ _id: 'locked1' }), { now: 100 }),
    { ...markDone(lockToken(newToken({ _id: 'done1' }), { now: 100 }), 200), exit_code: 0, _attachments: { 'logs_done1.out': inlineAttachment('hello from done1\n') } },
    markError(lockToken(newToken({ _id: 'err1' }), { now: 100 }), 'bad'),
  ]);
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  const s = await runCli(['status', '--json'], env);
  assert.equal(s.code, 0, s.stderr);
  const { todo, locked, done, error } = JSON.parse(s.stdout);
  assert.deepEqual({ todo, locked, done, error }, { todo: 1, locked: 1, done: 1, error: 1 });
  const plain = await runCli(['status'], env);
  assert.match(plain.stdout, /done\s+1/);
  const show = await runCli(['show', 'done1'], env);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /state: done/);
  assert.match(show.stdout, /hello from done1/);
  const missing = await runCli(['show', 'nope'], env);
  assert.equal(missing.code, 6);
  assert.match(missing.stderr, /no token "nope"/);
});

test('picas run accepts the original --design_doc spelling', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-dd`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.put(newToken({ _id: 'x', input: 'true' }));
    const r = await runCli(['run', '--design_doc', 'Monitor', '--work-dir', tempDir('dd')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 done/);
    const wrong = await runCli(['run', '--design_doc', 'Nope', '--work-dir', tempDir('dd')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.equal(wrong.code, 6);
  } finally {
    await db.destroy();
  }
});

test('a server that never answers and one that is not CouchDB: one line each, exit 4, no stack trace', async () => {
  const { silentServer, htmlServer } = await import('../helpers/misbehaving.js');
  const silent = await silentServer();
  const html = await htmlServer();
  try {
    const slow = await runCli(['status', '--timeout', '1'], cliEnv(ctx.server, { PICAS_HOST_URL: silent.url }));
    assert.equal(slow.code, 4, slow.stderr);
    assert.match(slow.stderr, /no answer within 1000 ms/);
    assert.equal(slow.stderr.trim().split('\n').length, 1);
    const notCouch = await runCli(['ping'], cliEnv(ctx.server, { PICAS_HOST_URL: html.url }));
    assert.equal(notCouch.code, 4, notCouch.stderr);
    assert.match(notCouch.stderr, /did not answer as CouchDB/);
    assert.equal(notCouch.stderr.trim().split('\n').length, 1);
    assert.doesNotMatch(slow.stderr + notCouch.stderr, /\n\s+at /);
  } finally {
    await silent.close();
    await html.close();
  }
});
