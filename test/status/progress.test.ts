import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, runCliOnTty } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, lockToken, markDone, type Token } from '../../src/tokens/index.js';
import { countStates } from '../../src/tokens/status.js';

const ctx = useTestDb('progress');
// Indexing 1,200 tokens on a server shared by a whole test run can take longer than the 30 s default.
const SLOW_SERVER = ['--timeout', '120'];

test('long operations show a progress bar on a terminal and no terminal control otherwise (reset, delete, export)', async () => {
  await ensureDesignDocs(ctx.db);
  const failed = (i: number) => ({ ...markDone(lockToken(newToken({ _id: `f${String(i).padStart(4, '0')}` }), { now: 100 }), 200), exit_code: 1 }) as Token;
  await ctx.db.bulkDocs(Array.from({ length: 1200 }, (_, i) => failed(i)));
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  const tty = await runCliOnTty(['reset', 'error', '--yes', ...SLOW_SERVER], env, [], 120_000);
  assert.equal(tty.code, 0, tty.stdout);
  assert.match(tty.stdout, /\r\[#{30}\] reset 1200\/1200 tokens/, 'the bar at its end');
  assert.match(tty.stdout, /reset 1200 tokens to todo/);
  assert.deepEqual(await countStates(ctx.db), { todo: 1200, locked: 0, done: 0, error: 0 });
  const exp = await runCli(['export', 'todo', ...SLOW_SERVER], env);
  assert.equal(exp.code, 0, exp.stderr);
  assert.equal(exp.stdout.trim().split('\n').length, 1200);
  assert.doesNotMatch(exp.stderr, /\r|\x1b/, 'no terminal control in a log file');
  const del = await runCli(['delete', 'todo', '--yes', ...SLOW_SERVER], env);
  assert.equal(del.code, 0, del.stderr);
  assert.doesNotMatch(del.stderr, /\r|\x1b/);
  assert.match(del.stderr, /deleted 1200 tokens/);
});
