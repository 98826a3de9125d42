import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, spawnCli, runCli, tempDir, waitFor, alive } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, countStates, type Token } from '../../src/tokens/index.js';
import { recordingCommand, readExecutions, assertNoOverlap, assertSettled } from './records.js';
import { killNode } from './scenario.js';

const ctx = useTestDb('leases');
let n = 0;
async function freshDb(count: number, file: string, seconds: number) {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  const ids = Array.from({ length: count }, (_, i) => `f${i}`);
  await db.bulkDocs(ids.map((id) => newToken({ _id: id, input: recordingCommand(file, seconds) })));
  return { db, ids };
}

const LEASE = ['--lease', '3', '--grace', '1'];

test('a lost node (pilot and its commands SIGKILLed) loses only that execution: another pilot takes over after the lease', { timeout: 180_000 }, async () => {
  const dir = tempDir('lostnode');
  const file = join(dir, 'records');
  const { db, ids } = await freshDb(4, file, 1);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const victim = spawnCli(['run', ...LEASE, '--work-dir', join(dir, 'w1')], env);
    assert.ok(await waitFor(() => readExecutions(file).length >= 1, 30_000), 'victim started a command');
    const started = readExecutions(file);
    // The whole node: the pilot, its commands and its watchdog (which, surviving alone, would put the token back).
    killNode(victim.pid!, file);
    await victim.result;
    const rescuer = await runCli(['run', ...LEASE, '--work-dir', join(dir, 'w2')], env, { timeoutMs: 120_000 });
    assert.equal(rescuer.code, 0, rescuer.stderr);
    assert.match(rescuer.stderr, /taking it over|expired/);
    const executions = readExecutions(file);
    assertNoOverlap(executions.filter((e) => e.end !== undefined), 0n);
    await assertSettled(db, ids, executions);
    const lostOne = await db.get<Token & { picas: { lost_runs?: number } }>(started[0]!.id);
    assert.equal(lostOne.picas.lost_runs, 1, 'the lost run is counted apart');
  } finally {
    await db.destroy();
  }
});

test('a frozen pilot (SIGSTOP past its lease): its watchdog stops the command before the lease ends, another pilot reruns it, no overlap, one result', { timeout: 180_000 }, async () => {
  const dir = tempDir('frozen');
  const file = join(dir, 'records');
  const { db, ids } = await freshDb(1, file, 30);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const frozen = spawnCli(['run', ...LEASE, '--work-dir', join(dir, 'w1')], env);
    assert.ok(await waitFor(() => readExecutions(file).length >= 1, 30_000));
    frozen.kill('SIGSTOP');
    const firstPid = readExecutions(file)[0]!.pid;
    // The watchdog (its own process) ends the command before the 3 s lease runs out.
    assert.ok(await waitFor(() => !alive(firstPid), 20_000), 'command stopped while its pilot is frozen');
    // A rescuer with a short command takes the token over after expiry + margin.
    await db.get<Token>('f0').then((t) => db.put({ ...t, input: recordingCommand(file, 0.2) }));
    const rescuer = await runCli(['run', ...LEASE, '--work-dir', join(dir, 'w2')], env, { timeoutMs: 120_000 });
    assert.equal(rescuer.code, 0, rescuer.stderr);
    frozen.kill('SIGCONT');
    const back = await frozen.result;
    assert.equal(back.code, 0, back.stderr);
    const executions = readExecutions(file);
    assert.equal(executions.length, 2);
    assert.equal(executions[0]!.how, 'term', 'the frozen pilot\'s command was stopped');
    assertNoOverlap(executions, 0n);
    await assertSettled(db, ids, executions);
    const t = await db.get<Token & { picas: Record<string, unknown> }>('f0');
    assert.equal(t.exit_code, 0);
    assert.equal(t.picas.pilot !== undefined, true);
  } finally {
    await db.destroy();
  }
});

test('a token lost too often goes to error with the reason', { timeout: 120_000 }, async () => {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  try {
    const old = Math.floor(Date.now() / 1000) - 3600;
    await db.put({ ...newToken({ _id: 'cursed', input: 'true' }), lock: old, picas: { attempt: 'a1', pilot: 'pilot_dead', host: 'x', claimed_at: old, lease_until: old + 3, lost_runs: 2 } });
    const r = await runCli(['run', ...LEASE, '--work-dir', tempDir('cursed')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const t = await db.get<Token>('cursed');
    assert.equal(t.lock, 99);
    assert.match(t.error.at(-1)!.message, /lost 3 times/);
    assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 0, error: 1 });
  } finally {
    await db.destroy();
  }
});

test('the last pilot standing waits for a dead pilot\'s lease instead of exiting', { timeout: 120_000 }, async () => {
  const dir = tempDir('wait');
  const file = join(dir, 'records');
  const { db, ids } = await freshDb(1, file, 0.2);
  try {
    const now = Math.floor(Date.now() / 1000);
    const t = await db.get<Token>('f0');
    // Held by a pilot that is gone; the lease runs out in 8 s (longer than a pilot takes to start on a busy machine).
    await db.put({ ...t, lock: now, picas: { attempt: 'a-dead', pilot: 'pilot_gone', host: 'elsewhere', claimed_at: now, lease_until: now + 8 } });
    // --lease 6: the pilot waits at most 2 leases + the margin (14 s) for it, more than the 8 s + 2 s it needs.
    const r = await runCli(['run', '--lease', '6', '--lease-margin', '2', '--grace', '1', '--work-dir', join(dir, 'w')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /waiting for the leases of 1 token\(s\): f0 \(pilot_gone, free after \d\d:\d\d:\d\d UTC\)/);
    await assertSettled(db, ids, readExecutions(file));
  } finally {
    await db.destroy();
  }
});

test('a pilot frozen the instant its command starts is still covered: the watchdog learns of the command before the pilot can be stopped', { timeout: 120_000 }, async () => {
  const dir = tempDir('frozen-at-start');
  const file = join(dir, 'records');
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  try {
    // The command freezes its own pilot (its parent) before doing anything else.
    await db.put(newToken({ _id: 'self-freeze', input: `kill -STOP $PPID; ${recordingCommand(file, 30)}` }));
    const pilot = spawnCli(['run', ...LEASE, '--work-dir', join(dir, 'w')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.ok(await waitFor(() => readExecutions(file).length >= 1, 30_000), 'command started');
    const ended = await waitFor(() => readExecutions(file)[0]?.how === 'term', 20_000);
    pilot.kill('SIGCONT');
    pilot.kill('SIGTERM');
    await pilot.result;
    assert.ok(ended, 'the watchdog stopped the command of a pilot frozen from its first moment');
  } finally {
    await db.destroy();
  }
});
