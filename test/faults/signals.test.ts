import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { useTestDb, type TestServer } from '../helpers/couch.js';
import { cliEnv, spawnCli, runCli, tempDir, waitFor, alive } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { countStates, newToken, type Token } from '../../src/tokens/index.js';
import { readExecutions, recordingCommand } from './records.js';
import { recordingDb, assertScenario } from './scenario.js';

/**
 * SIGTERM and SIGINT are obeyed in every state of a pilot: retrying an unreachable server at start or
 * mid-run, waiting for dead pilots' leases, polling with --wait, claiming and saving, running commands.
 * Each time the pilot exits 0 within --grace + 5 s (checked with a few seconds of slack for a loaded
 * machine: the old pilot ran on for the whole --outage-patience of 600 s), and loses nothing: finished
 * results are written (or spooled), stopped commands' tokens go back, what cannot reach the server is left
 * to its lease.
 */
const ctx = useTestDb('signals');
const GRACE = 1;
const LIMIT_MS = (GRACE + 5 + 6) * 1000;
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

type Pilot = ReturnType<typeof spawnCli>;

function start(env: NodeJS.ProcessEnv, args: string[]): Pilot & { log: () => string } {
  const pilot = spawnCli(['run', '--lease', '3', '--grace', String(GRACE), '--outage-patience', '600', ...args], env);
  let stderr = '';
  pilot.stderr!.on('data', (d) => { stderr += d; });
  const guard = setTimeout(() => pilot.kill('SIGKILL'), 120_000);
  void pilot.result.finally(() => clearTimeout(guard));
  return Object.assign(pilot, { log: () => stderr });
}

/** Send `sig`; the pilot must exit 0 within the limit. */
async function stopWith(pilot: Pilot & { log: () => string }, sig: NodeJS.Signals) {
  pilot.kill(sig);
  const exited = await Promise.race([pilot.result, new Promise<undefined>((r) => setTimeout(() => r(undefined), LIMIT_MS))]);
  if (!exited) pilot.kill('SIGKILL');
  assert.ok(exited, `exited within --grace + 5 s of ${sig}\n${pilot.log()}`);
  assert.equal(exited.code, 0, `exit status 0 after ${sig}\n${exited.stderr}`);
  return exited;
}

function envVia(url: string, server: TestServer, database: string): NodeJS.ProcessEnv {
  return cliEnv({ url, username: server.username, password: server.password } as TestServer, { PICAS_DATABASE: database });
}

for (const sig of SIGNALS) {
  test(`${sig} while retrying an unreachable server at start: exits 0 at once; the outage is announced once, with when it gives up`, { timeout: 120_000 }, async () => {
    const proxy = await startProxy(ctx.server.url);
    const dir = tempDir('sig-start');
    const { db } = await recordingDb(ctx.couch, ctx.db.name, 2, join(dir, 'records'), 0.1);
    try {
      proxy.setMode('refuse');
      const pilot = start(envVia(proxy.url, ctx.server, db.name), ['--work-dir', join(dir, 'w')]);
      assert.ok(await waitFor(() => /waiting for the server/.test(pilot.log()), 30_000), pilot.log());
      // Several retries pass (back-off from 0.2 s): still one line.
      await new Promise((r) => setTimeout(r, 2_500));
      const r = await stopWith(pilot, sig);
      const lines = r.stderr.split('\n').filter((l) => /waiting for the server/.test(l));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /retrying for up to 600 s \(until \d\d:\d\d:\d\d UTC\), then giving up/);
      assert.deepEqual(await countStates(db), { todo: 2, locked: 0, done: 0, error: 0 });
    } finally {
      await proxy.close();
      await db.destroy();
    }
  });

  test(`${sig} while saving a result to a server that went away mid-run (--spool): exits 0, the finished result is spooled and delivered later`, { timeout: 180_000 }, async () => {
    const proxy = await startProxy(ctx.server.url);
    const dir = tempDir('sig-save');
    const file = join(dir, 'records');
    const spool = join(dir, 'spool');
    const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 3, file, 1.5);
    try {
      const env = envVia(proxy.url, ctx.server, db.name);
      const pilot = start(env, ['--batch', '1', '--spool', spool, '--work-dir', join(dir, 'w')]);
      assert.ok(await waitFor(() => readExecutions(file).length === 1, 60_000), pilot.log());
      proxy.setMode('refuse');
      // The command ends while the server cannot be reached: the pilot retries its result's write.
      assert.ok(await waitFor(() => readExecutions(file)[0]!.end !== undefined && /waiting for the server/.test(pilot.log()), 30_000), pilot.log());
      const r = await stopWith(pilot, sig);
      assert.ok(existsSync(spool) && readFileSync(spool, 'utf8').includes(readExecutions(file)[0]!.id), `the finished result went to the spool\n${r.stderr}`);
      proxy.setMode('pass');
      // The next start delivers it; the rest runs (after the lease of anything left held).
      const next = await runCli(['run', '--lease', '3', '--grace', '1', '--spool', spool, '--work-dir', join(dir, 'w2')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 90_000 });
      assert.equal(next.code, 0, next.stderr);
      await assertScenario(db, ids, file);
      assert.equal(readExecutions(file).filter((e) => e.id === readExecutions(file)[0]!.id).length, 1, 'the spooled result was not run again');
    } finally {
      await proxy.close();
      await db.destroy();
    }
  });

  test(`${sig} while waiting for a dead pilot's lease: exits 0 at once, the token stays with its lease`, { timeout: 120_000 }, async () => {
    const dir = tempDir('sig-lease');
    const { db } = await recordingDb(ctx.couch, ctx.db.name, 1, join(dir, 'records'), 0.1);
    try {
      const now = Math.floor((await db.server.syncClock()) / 1000);
      const t = await db.get<Token>('f0');
      await db.put({ ...t, lock: now, picas: { attempt: 'attempt_dead', pilot: 'pilot_dead', host: 'gone', claimed_at: now, lease_until: now + 600 } });
      const pilot = start(cliEnv(ctx.server, { PICAS_DATABASE: db.name }), ['--work-dir', join(dir, 'w')]);
      assert.ok(await waitFor(() => /waiting for the leases of 1 token\(s\): f0 \(pilot_dead, free after/.test(pilot.log()), 30_000), pilot.log());
      await stopWith(pilot, sig);
      const after = await db.get<Token & { picas: { attempt: string } }>('f0');
      assert.equal(after.picas.attempt, 'attempt_dead', 'left to its lease');
    } finally {
      await db.destroy();
    }
  });

  test(`${sig} while polling with --wait: exits 0 at once`, { timeout: 120_000 }, async () => {
    const dir = tempDir('sig-poll');
    const { db } = await recordingDb(ctx.couch, ctx.db.name, 0, join(dir, 'records'), 0.1);
    try {
      const pilot = start(cliEnv(ctx.server, { PICAS_DATABASE: db.name }), ['--wait', '--poll-interval', '30', '--work-dir', join(dir, 'w')]);
      assert.ok(await waitFor(() => /(polling|waiting) for new ones/.test(pilot.log()), 30_000), pilot.log());
      await new Promise((r) => setTimeout(r, 1_500));
      await stopWith(pilot, sig);
    } finally {
      await db.destroy();
    }
  });

  test(`${sig} at an arbitrary moment of a busy pilot (claiming, running, saving; --slots 2 --batch 5): exits 0, nothing stays locked, every result is one that finished`, { timeout: 120_000 }, async () => {
    const dir = tempDir('sig-busy');
    const file = join(dir, 'records');
    const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 60, file, 0.05);
    try {
      const pilot = start(cliEnv(ctx.server, { PICAS_DATABASE: db.name }), ['--slots', '2', '--batch', '5', '--work-dir', join(dir, 'w')]);
      assert.ok(await waitFor(() => readExecutions(file).length >= 8, 60_000), pilot.log());
      await stopWith(pilot, sig);
      const counts = await countStates(db);
      assert.equal(counts.locked, 0, `everything held was written or put back: ${JSON.stringify(counts)}`);
      assert.equal(counts.error, 0);
      const finished = readExecutions(file).filter((e) => e.how === 'ok').map((e) => e.id);
      for (const id of ids) {
        const t = await db.get<Token>(id);
        if (t.done > 0) assert.ok(finished.includes(id), `${id}: done only after its command finished`);
      }
      // Another pilot finishes the rest; the guarantees hold over both.
      const r = await runCli(['run', '--lease', '3', '--grace', '1', '--work-dir', join(dir, 'w2')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 90_000 });
      assert.equal(r.code, 0, r.stderr);
      await assertScenario(db, ids, file);
    } finally {
      await db.destroy();
    }
  });
}

test('a second signal skips the grace: a command ignoring SIGTERM is killed at once, its token goes back once its group is gone, exit 0', { timeout: 120_000 }, async () => {
  const dir = tempDir('sig-twice');
  const file = join(dir, 'records');
  const db = ctx.couch.db(`${ctx.db.name}-twice`);
  await db.create();
  try {
    const pidFile = join(dir, 'pid');
    // Ignores SIGTERM; records its pid.
    await db.bulkDocs([newToken({ _id: 'stubborn', input: `trap '' TERM; echo $$ > ${pidFile}; for i in $(seq 600); do sleep 0.1; done` })]);
    const pilot = spawnCli(['run', '--lease', '30', '--grace', '60', '--work-dir', join(dir, 'w')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    const guard = setTimeout(() => pilot.kill('SIGKILL'), 100_000);
    assert.ok(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0, 60_000));
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    pilot.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.ok(alive(pid), 'the command ignores SIGTERM and is still within its 60 s grace');
    pilot.kill('SIGINT');
    const exited = await Promise.race([pilot.result, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
    clearTimeout(guard);
    if (!exited) pilot.kill('SIGKILL');
    assert.ok(exited, 'exited soon after the second signal, not after the 60 s grace');
    assert.equal(exited.code, 0, exited.stderr);
    assert.match(exited.stderr, /second SIGINT: killing running commands now/);
    assert.equal(alive(pid), false, 'the command is gone');
    const t = await db.get<Token>('stubborn');
    assert.deepEqual([t.lock, t.done], [0, 0], `the token went back\n${exited.stderr}`);
    void file;
  } finally {
    await db.destroy();
  }
});

test('a repeated SIGTERM at once (Slurm signals every process of a job, the batch script forwards its own) is one request: the command keeps its grace', { timeout: 120_000 }, async () => {
  const dir = tempDir('sig-repeat');
  const db = ctx.couch.db(`${ctx.db.name}-repeat`);
  await db.create();
  try {
    const started = join(dir, 'started');
    const cleaned = join(dir, 'cleaned');
    // On SIGTERM it needs a second to clean up, then exits.
    await db.bulkDocs([newToken({ _id: 'careful', input: `trap 'sleep 1; echo yes > ${cleaned}; exit 143' TERM; touch ${started}; for i in $(seq 600); do sleep 0.1; done` })]);
    const pilot = spawnCli(['run', '--lease', '30', '--grace', '10', '--work-dir', join(dir, 'w')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    const guard = setTimeout(() => pilot.kill('SIGKILL'), 100_000);
    assert.ok(await waitFor(() => existsSync(started), 60_000));
    pilot.kill('SIGTERM');
    pilot.kill('SIGTERM');
    const r = await pilot.result;
    clearTimeout(guard);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /second SIGTERM/);
    assert.ok(existsSync(cleaned), `the command got its grace to clean up\n${r.stderr}`);
    const t = await db.get<Token>('careful');
    assert.deepEqual([t.lock, t.done], [0, 0], 'the token went back');
  } finally {
    await db.destroy();
  }
});

test('a command killed by a batch system\'s SIGTERM a moment before its pilot gets its own counts as interrupted (token back), not failed; alone it stays a failure', { timeout: 120_000 }, async () => {
  const dir = tempDir('sig-first');
  const db = ctx.couch.db(`${ctx.db.name}-first`);
  await db.create();
  try {
    const pids = join(dir, 'pids');
    await db.bulkDocs([
      newToken({ _id: 'a', input: `echo $$ >> ${pids}; sleep 600` }),
      newToken({ _id: 'b', input: `echo $$ >> ${pids}; sleep 600` }),
    ]);
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilot = spawnCli(['run', '--lease', '30', '--grace', '5', '--max-tasks', '2', '--work-dir', join(dir, 'w')], env);
    let stderr = '';
    pilot.stderr!.on('data', (d) => { stderr += d; });
    const guard = setTimeout(() => pilot.kill('SIGKILL'), 100_000);
    const commandPid = async (n: number) => {
      assert.ok(await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length >= n, 60_000), stderr);
      return Number(readFileSync(pids, 'utf8').trim().split('\n')[n - 1]);
    };
    // Alone: the command's group gets SIGTERM, the pilot none. A failure (exit code 143), as before.
    const first = await commandPid(1);
    process.kill(-first, 'SIGTERM');
    // Then as a batch system does: the command first, the pilot 50 ms later.
    const second = await commandPid(2);
    process.kill(-second, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    pilot.kill('SIGTERM');
    const r = await pilot.result;
    clearTimeout(guard);
    assert.equal(r.code, 0, r.stderr);
    // Tokens are claimed in random order: the first command's token is the one that ended.
    const all = await Promise.all(['a', 'b'].map(async (id) => ({ id, t: await db.get<Token>(id) })));
    const firstId = all.find((x) => x.t.lock === 99 || x.t.done > 0)?.id;
    const secondId = all.find((x) => x.id !== firstId)?.id;
    assert.ok(firstId && secondId, r.stderr);
    const failed = await db.get<Token>(firstId);
    assert.equal(failed.lock, 99, `the lone SIGTERM is the command's own failure\n${r.stderr}`);
    assert.match(failed.error.at(-1)!.message, /killed by signal SIGTERM/);
    const back = await db.get<Token>(secondId);
    assert.deepEqual([back.lock, back.done], [0, 0], `the one the pilot's signal followed went back\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${secondId}: interrupted, put back to todo`));
  } finally {
    await db.destroy();
  }
});
