import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, runCliOnTty } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, lockToken, markDone, markError, attachLogs, type Token } from '../../src/tokens/index.js';
import { heartbeatId } from '../../src/lease/heartbeat.js';
import { cleanupPilots, readPilots } from '../../src/status/pilots.js';

const ctx = useTestDb('status-cli');

const now = () => Math.floor(Date.now() / 1000);

/** A token as a pilot leaves it: claimed by `pilot`, finished with `exit` and logs, `ago` seconds ago. */
function finished(id: string, exit: number, ago: number, stderr = ''): Token {
  const t = lockToken(newToken({ _id: id, input: `run ${id}` }), { now: now() - ago - 5, hostname: 'node7' });
  const withLogs = attachLogs({ ...t, exit_code: exit } as Token, `out of ${id}\n`, stderr);
  return exit === 0 ? markDone(withLogs, now() - ago) : { ...markDone(withLogs, now() - ago), exit_code: exit };
}

test('picas status: progress, rate and ETA, active pilots, expired leases and recent errors; --json has the same facts', async () => {
  await ensureDesignDocs(ctx.db);
  const t = now();
  const tokens: Token[] = [
    ...Array.from({ length: 6 }, (_, i) => newToken({ _id: `todo${i}` })),
    ...Array.from({ length: 8 }, (_, i) => finished(`ok${i}`, 0, 30 + i)),
    finished('bad1', 3, 20, 'line one\nSegmentation fault in <script>alert(1)</script>\n'),
    finished('bad2', 1, 10, 'ValueError: q out of range\n'),
    // Held by a live pilot, and one whose pilot stopped renewing (its lease ended a minute ago).
    { ...lockToken(newToken({ _id: 'run1' }), { now: t - 40 }), picas: { attempt: 'a1', pilot: 'p-live', host: 'node7', claimed_at: t - 40, lease_until: t - 40 + 300 } } as Token,
    { ...lockToken(newToken({ _id: 'dead1' }), { now: t - 400 }), picas: { attempt: 'a2', pilot: 'p-dead', host: 'node9', claimed_at: t - 400, lease_until: t - 100 } } as Token,
  ];
  await ctx.db.bulkDocs(tokens);
  await ctx.db.bulkDocs([
    { _id: heartbeatId('p-live'), type: 'picas-pilot', pilot: 'p-live', host: 'node7', job: '4242_3', started_at: t - 60, alive_until: t + 300, holding: ['run1'] },
    { _id: heartbeatId('p-dead'), type: 'picas-pilot', pilot: 'p-dead', host: 'node9', started_at: t - 500, alive_until: t - 100, holding: ['dead1'] },
    { _id: heartbeatId('p-stopped'), type: 'picas-pilot', pilot: 'p-stopped', host: 'node8', started_at: t - 900, alive_until: 0, holding: [], stopped: true },
  ]);
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  const json = await runCli(['status', '--json'], env);
  assert.equal(json.code, 0, json.stderr);
  const s = JSON.parse(json.stdout);
  assert.deepEqual([s.todo, s.locked, s.done, s.error], [6, 2, 8, 2]);
  assert.deepEqual(s.pilots.map((p: { id: string }) => p.id), ['p-live'], 'only live pilots are active');
  assert.equal(s.pilots[0].host, 'node7');
  assert.equal(s.pilots[0].job, '4242_3');
  assert.deepEqual(s.pilots[0].current, [{ id: 'run1' }]);
  assert.equal(s.pilotsEnded, 2);
  assert.deepEqual(s.expired.ids, ['dead1']);
  assert.deepEqual(s.errors.map((e: { id: string }) => e.id), ['bad2', 'bad1'], 'most recent error first');
  assert.equal(s.errors[1].exitCode, 3);
  assert.match(s.errors[1].tail, /Segmentation fault/);
  assert.equal(s.rate.finished, 10);
  assert.ok(s.rate.perMinute > 0 && s.etaSeconds > 0, JSON.stringify(s.rate));
  assert.equal(s.index.consistent, true);
  assert.equal(s.index.catchingUp, false);

  const text = await runCli(['status'], env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /\[#+\.+\]\s+55\.6%/, 'a progress bar: 10 of 18 finished');
  assert.match(text.stdout, /done 8\s+error 2\s+locked 2\s+todo 6/);
  assert.match(text.stdout, /rate [\d.]+ tokens\/min over the last .*ETA /);
  assert.match(text.stdout, /pilots: 1 active, 2 ended/);
  assert.match(text.stdout, /p-live\s+node7\s+4242_3\s+-\s+run1/);
  assert.match(text.stdout, /expired leases: 1 .*picas reset --expired/);
  assert.match(text.stdout, /bad1\s+exit 3/);
  assert.match(text.stdout, /Segmentation fault in <script>/);
});

test('picas status --tokens <state> pages through one state with --limit and --after; a wrong state is a usage error', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-pages`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.bulkDocs([...Array.from({ length: 7 }, (_, i) => finished(`e${i}`, 2, 5)), newToken({ _id: 'x-todo' })]);
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await runCli(['status', '--tokens', 'error', '--limit', '3', '--json', ...(after ? ['--after', after] : [])], env);
      assert.equal(r.code, 0, r.stderr);
      const p = JSON.parse(r.stdout) as { tokens: { id: string; state: string; exit_code: number }[]; next?: string };
      assert.ok(p.tokens.length <= 3);
      for (const t of p.tokens) { assert.equal(t.state, 'error'); assert.equal(t.exit_code, 2); }
      seen.push(...p.tokens.map((t) => t.id));
      if (!p.next) break;
      after = p.next;
    }
    assert.deepEqual(seen, ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    const text = await runCli(['status', '--tokens', 'error', '--limit', '3'], env);
    assert.match(text.stdout, /^e0\s+error\s+exit_code=2/m);
    assert.match(text.stderr, /more: picas status --tokens error --limit 3 --after "e2"/);
    const all = await runCli(['status', '--tokens', '--prefix', 'x-', '--json'], env);
    assert.deepEqual(JSON.parse(all.stdout).tokens.map((t: { id: string }) => t.id), ['x-todo']);
    const bad = await runCli(['status', '--tokens', 'finished'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--tokens takes a state \(todo, locked, done or error\) or nothing, not "finished"/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.equal((await db.info()).doc_count, 8 + 2, "nothing lost (8 tokens, 2 design documents)");
  } finally {
    await db.destroy();
  }
});

test('while an index catches up, status answers from the index as it is and says so', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-lag`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    assert.equal((await runCli(['status', '--json'], env)).code, 0, 'views built while empty');
    // More changes than status waits for (1,000), not yet indexed.
    for (let i = 0; i < 3; i++) await db.bulkDocs(Array.from({ length: 1000 }, (_, j) => newToken({ _id: `lag${i}-${j}` })));
    const text = await runCli(['status'], env);
    assert.equal(text.code, 0, text.stderr);
    if (/index catching up/.test(text.stdout)) {
      assert.match(text.stdout, /index catching up: about [\d,]+ changes not indexed yet; counts are from the index as it is/);
      assert.doesNotMatch(text.stdout, /todo 3,000/, 'counts from the index as it is');
    } else {
      // A server that indexes in the background (CouchDB) may already have caught up.
      assert.match(text.stdout, /todo 3,000/);
    }
    let caught = false;
    for (let i = 0; i < 120 && !caught; i++) {
      const again = JSON.parse((await runCli(['status', '--json'], env)).stdout);
      if (again.index.catchingUp) assert.ok(again.index.indexLag > 0 && again.index.consistent === false, JSON.stringify(again.index));
      caught = !again.index.catchingUp && again.todo === 3000;
      if (!caught) await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(caught, 'the index catches up by itself (status asked the server to go on indexing)');
  } finally {
    await db.destroy();
  }
});

test('heartbeat documents of pilots stopped longer than the retention are deleted; live and recent ones stay', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-hb`);
  await db.create();
  try {
    const t = now();
    await db.bulkDocs([
      { _id: heartbeatId('alive'), type: 'picas-pilot', pilot: 'alive', host: 'h', started_at: t - 90_000, alive_until: t + 100, holding: [] },
      { _id: heartbeatId('old-stopped'), type: 'picas-pilot', pilot: 'old-stopped', host: 'h', started_at: t - 90_000, alive_until: 0, stopped: true, holding: [] },
      { _id: heartbeatId('old-vanished'), type: 'picas-pilot', pilot: 'old-vanished', host: 'h', started_at: t - 95_000, alive_until: t - 90_000, holding: [] },
      { _id: heartbeatId('recent-stopped'), type: 'picas-pilot', pilot: 'recent-stopped', host: 'h', started_at: t - 90_000, alive_until: 0, stopped: true, renewed_at: t - 60, holding: [] },
      { _id: 'some-user-doc', type: 'other' },
    ]);
    assert.equal(await cleanupPilots(db, t, 24 * 3600), 2);
    assert.deepEqual((await readPilots(db, t)).map((p) => `${p.id}:${p.state}`), ['alive:running', 'recent-stopped:stopped']);
    assert.ok(await db.find('some-user-doc'));
  } finally {
    await db.destroy();
  }
});

test('picas status --watch on a terminal redraws in place, one bounded read per refresh, until stopped', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-watch`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.bulkDocs([newToken({ _id: 'w1' }), newToken({ _id: 'w2' })]);
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    // On a pseudo-terminal; ended by the helper's time limit (a person presses Ctrl-C).
    const r = await runCliOnTty(['status', '--watch', '1'], env, [], 9_000);
    const screens = r.stdout.split('\x1b[H\x1b[2J').slice(1);
    assert.ok(screens.length >= 2, `redrawn at least twice: ${JSON.stringify(r.stdout.slice(0, 400))}`);
    for (const screen of screens.filter((x) => x.includes('(refreshing'))) {
      assert.match(screen, /todo 2/);
      assert.match(screen, /\(refreshing every 1 s; Ctrl-C to stop\)/);
    }
  } finally {
    await db.destroy();
  }
});
