import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, runCliOnTty, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';
import { tokenState } from '../../src/tokens/state.js';
import { attemptHistory } from '../../src/status/attempt-history.js';

const ctx = useTestDb('pilot-side');

test('tokens keep a history of their attempts: a scrubbed failure and the final run, each with host, pilot and outcome', async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'flaky', input: 'exit 4' }));
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  const r = await runCli(['run', '--max-scrub', '1', '--work-dir', tempDir('hist')], env);
  assert.equal(r.code, 0, r.stderr);
  const token = await ctx.db.get<Token>('flaky');
  const history = attemptHistory(token);
  assert.deepEqual(history.map((h) => h.outcome), ['scrubbed', 'error']);
  for (const h of history) {
    assert.equal(h.exit_code, 4);
    assert.ok(h.pilot && h.host && h.attempt && h.start && h.end >= h.start, JSON.stringify(h));
  }
  assert.notEqual(history[0]!.attempt, history[1]!.attempt);
  const show = await runCli(['show', 'flaky'], env);
  assert.match(show.stdout, /attempts: 2, scrubbed 1 time\(s\)/);
  assert.match(show.stdout, /1\. scrubbed .*exit 4/);
  assert.match(show.stdout, /2\. error .*exit 4/);
});

test('picas run on a terminal shows one live summary line; per-token lines only with -v', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-tty`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.bulkDocs(Array.from({ length: 4 }, (_, i) => newToken({ _id: `tty${i}`, input: i === 3 ? 'exit 2' : 'true' })));
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const r = await runCliOnTty(['run', '--work-dir', tempDir('tty')], env, [], 120_000);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /3 done, 1 failed, 0 running, [\d.]+ tokens\/min/);
    assert.doesNotMatch(r.stdout, /tty0: done/, 'no per-token lines without -v');
    await db.bulkDocs([newToken({ _id: 'tty-v', input: 'true' })]);
    const v = await runCliOnTty(['run', '-v', '--work-dir', tempDir('tty')], env, [], 120_000);
    assert.match(v.stdout, /tty-v: done/);
  } finally {
    await db.destroy();
  }
});

test('picas logs --follow prints a running token\'s output as it is produced, and ends when the token ends', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-follow`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.put(newToken({ _id: 'ticker', input: 'for i in 1 2 3 4 5 6 7 8; do echo "tick $i"; sleep 1; done; echo done-ticking >&2' }));
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    // A short lease: renewals (where the pilot notices a follow request) every second.
    const pilot = spawnCli(['run', '--lease', '3', '--work-dir', tempDir('follow')], env);
    try {
      assert.ok(await waitFor(async () => tokenState(await db.get<Token>('ticker')) === 'locked', 60_000, 100), 'the pilot runs the token');
      const follower = spawnCli(['logs', 'ticker', '--follow', '--interval', '0.3'], env);
      let out = '';
      follower.stdout!.on('data', (d) => { out += d; });
      assert.ok(await waitFor(() => /tick \d\n/.test(out), 30_000, 50), 'output arrived while it ran');
      const stateWhenSeen = tokenState(await db.get<Token>('ticker'));
      assert.equal(stateWhenSeen, 'locked', 'the token was still running when its output showed');
      const r = await follower.result;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, Array.from({ length: 8 }, (_, i) => `tick ${i + 1}\n`).join(''), 'every line once, in order');
      assert.match(r.stderr, /done-ticking/);
      assert.match(r.stderr, /token ticker is done \(exit code 0\)/);
      assert.equal((await pilot.result).code, 0);
      assert.equal(await db.find('picas-log:ticker'), undefined, 'no live document left behind');
    } finally {
      if (pilot.exitCode === null) pilot.kill('SIGKILL');
    }
  } finally {
    await db.destroy();
  }
});

test('picas logs --follow with the default lease (300 s): the pilot notices the request within seconds, not at its next renewal (100 s)', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-follow-default`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    // ~30 s of output, a line every 0.5 s: the first renewal after the claim comes 100 s later.
    await db.put(newToken({ _id: 'slow-ticker', input: 'i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo "line $i"; sleep 0.5; done' }));
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilot = spawnCli(['run', '--work-dir', tempDir('follow-default')], env);
    try {
      assert.ok(await waitFor(async () => tokenState(await db.get<Token>('slow-ticker')) === 'locked', 60_000, 100), 'the pilot runs the token');
      const follower = spawnCli(['logs', 'slow-ticker', '--follow', '--interval', '0.5'], env);
      let out = '';
      follower.stdout!.on('data', (d) => { out += d; });
      assert.ok(await waitFor(() => /line \d+\n/.test(out), 60_000, 100), 'output arrived');
      assert.equal(tokenState(await db.get<Token>('slow-ticker')), 'locked', 'the output showed while the token still ran');
      assert.doesNotMatch(out, /line 60\n/, 'not only from the attached logs at the end');
      const r = await follower.result;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n`).join(''), 'every line once, in order');
      assert.equal((await pilot.result).code, 0);
    } finally {
      if (pilot.exitCode === null) pilot.kill('SIGKILL');
    }
  } finally {
    await db.destroy();
  }
});
