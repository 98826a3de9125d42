import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { alive, cliEnv, runCli, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, countStates, type Token } from '../../src/tokens/index.js';
import { recordingCommand, readExecutions } from '../faults/records.js';
import { killNode } from '../faults/scenario.js';

/**
 * The watchdog of a pilot that dies on a node that survives: it stops the commands (found by the marker in
 * their environment, even those the pilot never reported) and then puts the pilot's tokens back at once,
 * counting a lost run. A lost node (pilot and watchdog gone together) still waits for the lease.
 */
const ctx = useTestDb('watchdog');
let n = 0;
type Lost = Token & { picas?: { lost_runs?: number; pilot?: string } };

async function freshDb(inputs: Record<string, string>) {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(Object.entries(inputs).map(([_id, input]) => newToken({ _id, input })));
  return db;
}

/** The pilot's watchdog: its child process that runs with the watchdog marker. */
function watchdogOf(pilotPid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pilotPid) continue;
      if (readFileSync(`/proc/${name}/environ`).includes(Buffer.from('PICAS_RUN_AS_WATCHDOG=1\0'))) return Number(name);
    } catch { /* gone */ }
  }
  return undefined;
}

/** Run a pilot expected to be killed (runCli takes a SIGKILL for its own time-out). */
async function runUntilKilled(args: string[], env: NodeJS.ProcessEnv) {
  const pilot = spawnCli(args, env);
  const guard = setTimeout(() => pilot.kill('SIGTERM'), 60_000);
  try { return await pilot.result; } finally { clearTimeout(guard); }
}

// A long lease: anything that happens well within it was not the lease's doing.
const LONG_LEASE = ['--lease', '120', '--grace', '1'];

test('a pilot SIGKILLed on a surviving node: its watchdog stops the command and puts the token back at once, as a lost run', { timeout: 120_000 }, async () => {
  const dir = tempDir('wd-kill');
  const file = join(dir, 'records');
  const db = await freshDb({ t0: recordingCommand(file, 60) });
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilot = spawnCli(['run', ...LONG_LEASE, '--work-dir', join(dir, 'w1')], env);
    assert.ok(await waitFor(() => readExecutions(file).length >= 1, 30_000), 'the command started');
    const wd = watchdogOf(pilot.pid!);
    assert.ok(wd, 'the pilot has a watchdog process');
    // The connection reached it privately: not in its arguments, not in its environment.
    const cmdline = readFileSync(`/proc/${wd}/cmdline`);
    const environ = readFileSync(`/proc/${wd}/environ`);
    assert.ok(!cmdline.includes(Buffer.from(ctx.server.password)), 'no password in the watchdog\'s argv');
    assert.ok(!environ.includes(Buffer.from(ctx.server.password)), 'no password in the watchdog\'s environment');
    pilot.kill('SIGKILL');
    await pilot.result;
    assert.ok(await waitFor(() => readExecutions(file)[0]?.how === 'term', 20_000), 'the watchdog stopped the command');
    // Put back long before the 120 s lease could have ended.
    assert.ok(await waitFor(async () => (await countStates(db)).todo === 1, 20_000), 'the token is free again at once');
    const t = await db.get<Lost>('t0');
    assert.equal(t.picas?.lost_runs, 1, 'counted as a lost run');
    assert.equal(t.picas?.pilot, undefined, 'no lease left on it');
    assert.ok(await waitFor(() => !alive(wd!), 10_000), 'the watchdog exits when its work is done');
    const beat = (await db.allDocs({})).rows.map((r) => r.id).find((id) => id?.startsWith('picas-pilot:'));
    const hb = await db.get<Token & { state?: string; stopped?: boolean }>(beat!);
    assert.equal(hb.state, 'stopped');
    // Another pilot runs it at once: no lease to wait for, nothing to take over.
    await db.get<Token>('t0').then((x) => db.put({ ...x, input: recordingCommand(file, 0.1) }));
    const next = await runCli(['run', ...LONG_LEASE, '--work-dir', join(dir, 'w2')], env, { timeoutMs: 60_000 });
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /taking it over|waiting .* for their leases/);
    assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 1, error: 0 });
  } finally {
    await db.destroy();
  }
});

test('a pilot SIGKILLed right after starting a command: the command and what it started in a session of its own are stopped', { timeout: 120_000 }, async () => {
  const dir = tempDir('wd-selfkill');
  const file = join(dir, 'records');
  // The command first starts a recorder in a new session (a process group the pilot never hears of), then
  // kills its own pilot before doing anything else.
  const escaped = `setsid bash -c ${JSON.stringify(recordingCommand(file, 60).replace(/\$PICAS_TOKEN_ID/g, 'escaped'))} & sleep 0.3; kill -KILL $PPID; ${recordingCommand(file, 60)}`;
  const db = await freshDb({ s0: escaped });
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilot = spawnCli(['run', ...LONG_LEASE, '--max-lost', '5', '--work-dir', join(dir, 'w')], env);
    const r = await pilot.result;
    assert.equal(r.signal, 'SIGKILL', 'the command killed its pilot');
    assert.ok(await waitFor(() => readExecutions(file).length === 2 && readExecutions(file).every((e) => e.how === 'term'), 20_000),
      `both the command and its escaped child were stopped: ${readFileSync(file, 'utf8')}`);
    assert.ok(await waitFor(async () => (await countStates(db)).todo === 1, 20_000), 'its token is free at once');
    assert.equal((await db.get<Lost>('s0')).picas?.lost_runs, 1);
  } finally {
    await db.destroy();
  }
});

test('--max-lost ends a token whose command kills its own pilot (the watchdog counts each lost run)', { timeout: 180_000 }, async () => {
  const dir = tempDir('wd-maxlost');
  const db = await freshDb({ killer: 'kill -KILL $PPID; sleep 30' });
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    for (let run = 1; run <= 2; run++) {
      const r = await runUntilKilled(['run', ...LONG_LEASE, '--max-lost', '2', '--work-dir', join(dir, `w${run}`)], env);
      assert.equal(r.signal, 'SIGKILL', `run ${run}: the command killed its pilot`);
      const want = run < 2 ? 'todo' : 'error';
      assert.ok(await waitFor(async () => (await countStates(db))[want] === 1, 20_000), `after run ${run} the token is ${want}: ${JSON.stringify(await db.get('killer'))}\n${r.stderr}`);
    }
    const t = await db.get<Lost>('killer');
    assert.equal(t.lock, 99);
    assert.equal(t.picas?.lost_runs, 2);
    assert.match(t.error.at(-1)!.message, /lost 2 times/);
  } finally {
    await db.destroy();
  }
});

test('a claimed token the dead pilot never started goes back without a lost run', { timeout: 120_000 }, async () => {
  const dir = tempDir('wd-unstarted');
  const file = join(dir, 'records');
  const count = join(dir, 'count');
  // Short tokens make the pilot claim in batches; the third command to run kills the pilot while the rest
  // of its batch waits in the pilot's queue.
  const command = `n=$(( $(cat '${count}' 2>/dev/null || echo 0) + 1 )); echo $n > '${count}'; ` +
    `if [ $n -eq 3 ]; then kill -KILL $PPID; sleep 30; fi; ${recordingCommand(file, 0.2)}`;
  const inputs: Record<string, string> = {};
  for (let i = 0; i < 8; i++) inputs[`a${i}`] = command;
  const db = await freshDb(inputs);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const r = await runUntilKilled(['run', ...LONG_LEASE, '--batch', '4', '--work-dir', join(dir, 'w')], env);
    assert.equal(r.signal, 'SIGKILL', `the third command killed the pilot\n${r.stderr}`);
    assert.ok(await waitFor(async () => (await countStates(db)).locked === 0, 20_000), 'nothing stays locked');
    const tokens = (await db.allDocs<Lost>({ include_docs: true })).rows.map((x) => x.doc!).filter((d) => d.type === 'token');
    const lost = tokens.filter((t) => t.picas?.lost_runs === 1);
    assert.equal(lost.length, 1, 'exactly the token it was running counts a lost run');
    const ran = new Set(readExecutions(file).map((e) => e.id));
    const unstarted = tokens.filter((t) => !ran.has(t._id) && t._id !== lost[0]!._id && t.done === 0);
    assert.ok(unstarted.length >= 1, `the pilot held tokens it had not started (${tokens.map((t) => `${t._id}:${t.lock}`).join(' ')})`);
    for (const t of unstarted) assert.equal(t.picas?.lost_runs, undefined, `${t._id} never ran: not a lost run`);
  } finally {
    await db.destroy();
  }
});

test('a lost node (pilot and watchdog gone together) leaves its token to the lease: another pilot takes it over after it ends', { timeout: 120_000 }, async () => {
  const dir = tempDir('wd-lostnode');
  const file = join(dir, 'records');
  const db = await freshDb({ l0: recordingCommand(file, 60) });
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilot = spawnCli(['run', '--lease', '3', '--grace', '1', '--work-dir', join(dir, 'w1')], env);
    assert.ok(await waitFor(() => readExecutions(file).length >= 1 && watchdogOf(pilot.pid!) !== undefined, 30_000));
    killNode(pilot.pid!, file);
    await pilot.result;
    // Nobody is left to put it back: it stays held (and its pilot stops looking alive) until the lease ends.
    await new Promise((r) => setTimeout(r, 4_000));
    const held = await db.get<Lost>('l0');
    assert.equal(held.lock > 0 && held.done === 0, true, 'still held by the dead pilot');
    assert.equal(held.picas?.lost_runs, undefined);
    await db.put({ ...held, input: recordingCommand(file, 0.1) });
    const rescuer = await runCli(['run', '--lease', '3', '--grace', '1', '--work-dir', join(dir, 'w2')], env, { timeoutMs: 60_000 });
    assert.equal(rescuer.code, 0, rescuer.stderr);
    assert.match(rescuer.stderr, /l0: lease of \S+ expired; taking it over/);
    assert.equal((await db.get<Lost>('l0')).picas?.lost_runs, 1);
  } finally {
    await db.destroy();
  }
});

/** Read system calls a process has made so far (/proc/<pid>/io). */
function readCalls(pid: number): number {
  return Number(/syscr:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
}

test('a waiting watchdog does not scan /proc: it reads (nearly) nothing while its pilot renews and commands sleep', { timeout: 90_000 }, async () => {
  const dir = tempDir('wd-idle');
  const file = join(dir, 'records');
  const db = await freshDb({ i0: recordingCommand(file, 60), i1: recordingCommand(file, 60) });
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    // A short lease: the pilot renews (and tells its watchdog the new deadline) every second.
    const pilot = spawnCli(['run', '--slots', '2', '--lease', '3', '--grace', '1', '--work-dir', join(dir, 'w')], env);
    assert.ok(await waitFor(() => readExecutions(file).length >= 2 && watchdogOf(pilot.pid!) !== undefined, 30_000));
    const wd = watchdogOf(pilot.pid!)!;
    await new Promise((r) => setTimeout(r, 1_000));
    const before = readCalls(wd);
    await new Promise((r) => setTimeout(r, 3_000));
    const reads = readCalls(wd) - before;
    const processes = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
    // One scan reads two files per process; the earlier watchdog scanned five times a second.
    assert.ok(reads < processes, `${reads} read calls in 3 s of waiting (one scan would be about ${2 * processes})`);
    pilot.kill('SIGTERM');
    assert.equal((await pilot.result).code, 0);
  } finally {
    await db.destroy();
  }
});
