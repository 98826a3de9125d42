import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, spawnCli, runCli, tempDir, waitFor } from '../helpers/cli.js';
import { countStates, type Token } from '../../src/tokens/index.js';
import type { Database } from '../../src/couch/database.js';
import { readExecutions } from './records.js';
import { recordingDb, assertScenario } from './scenario.js';

/**
 * Draining: told by a stop file, SIGUSR1 or the database (`picas drain`), a pilot finishes the tokens it
 * is running, claims no more, gives back what it claimed but did not start, and exits 0.
 */
const ctx = useTestDb('drain');
const LEASE = ['--lease', '3', '--grace', '1'];

async function assertDrained(db: Database, file: string, total: number) {
  const executions = readExecutions(file);
  const counts = await countStates(db);
  assert.equal(counts.locked, 0, 'nothing stays locked');
  assert.equal(counts.error, 0);
  assert.ok(counts.done >= 1, 'the running token finished');
  assert.equal(executions.length, counts.done, 'no token started after the drain beyond those that finished');
  assert.ok(executions.every((e) => e.how === 'ok'), 'running commands were not stopped');
  assert.equal(counts.todo, total - counts.done, 'the rest is left for other pilots');
}

test('drain by stop file: running tokens finish, claimed-but-unstarted ones go back, exit 0', { timeout: 120_000 }, async () => {
  const dir = tempDir('drain-file');
  const file = join(dir, 'records');
  const stop = join(dir, 'stop');
  const { db } = await recordingDb(ctx.couch, ctx.db.name, 10, file, 2);
  try {
    const pilot = spawnCli(['run', ...LEASE, '--slots', '2', '--batch', '5', '--stop-file', stop, '--work-dir', join(dir, 'w')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.ok(await waitFor(() => readExecutions(file).length >= 1, 60_000));
    writeFileSync(stop, '');
    const r = await pilot.result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /draining \(stop file/);
    await assertDrained(db, file, 10);
  } finally {
    await db.destroy();
  }
});

test('drain by SIGUSR1: the running token finishes, no new claim, exit 0', { timeout: 120_000 }, async () => {
  const dir = tempDir('drain-usr1');
  const file = join(dir, 'records');
  const { db } = await recordingDb(ctx.couch, ctx.db.name, 4, file, 2);
  try {
    const pilot = spawnCli(['run', ...LEASE, '--batch', '1', '--work-dir', join(dir, 'w')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.ok(await waitFor(() => readExecutions(file).length >= 1, 60_000));
    pilot.kill('SIGUSR1');
    const r = await pilot.result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /draining \(asked by signal/);
    await assertDrained(db, file, 4);
    assert.equal(readExecutions(file).length, 1);
  } finally {
    await db.destroy();
  }
});

test('picas drain (control document) stops every pilot after its current token; --undo lets a new pilot finish the rest', { timeout: 150_000 }, async () => {
  const dir = tempDir('drain-db');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 8, file, 3);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilots = [0, 1].map((i) => spawnCli(['run', ...LEASE, '--batch', '1', '--work-dir', join(dir, `w${i}`)], env));
    assert.ok(await waitFor(() => readExecutions(file).length >= 2, 60_000));
    const d = await runCli(['drain'], env);
    assert.equal(d.code, 0, d.stderr);
    const results = await Promise.all(pilots.map((p) => p.result));
    for (const r of results) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /draining \(asked in the database/);
    }
    await assertDrained(db, file, 8);
    // Still drained: a new pilot claims nothing.
    const idle = await runCli(['run', ...LEASE, '--work-dir', join(dir, 'w2')], env, { timeoutMs: 60_000 });
    assert.equal(idle.code, 0, idle.stderr);
    const before = (await countStates(db)).done;
    assert.equal(readExecutions(file).length, before, 'a pilot started while drained ran nothing');
    const u = await runCli(['drain', '--undo'], env);
    assert.equal(u.code, 0, u.stderr);
    const rest = await runCli(['run', ...LEASE, '--work-dir', join(dir, 'w3')], env, { timeoutMs: 90_000 });
    assert.equal(rest.code, 0, rest.stderr);
    await assertScenario(db, ids, file);
  } finally {
    await db.destroy();
  }
});

test('picas drain --pilot drains one pilot; the other goes on and finishes everything', { timeout: 150_000 }, async () => {
  const dir = tempDir('drain-one');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 6, file, 1.5);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilots = [0, 1].map((i) => spawnCli(['run', ...LEASE, '--batch', '1', '--work-dir', join(dir, `w${i}`)], env));
    let held: Token & { picas?: { pilot?: string } } | undefined;
    assert.ok(await waitFor(async () => {
      held = (await db.view<unknown, Token>('Monitor', 'locked', { include_docs: true })).rows[0]?.doc as typeof held;
      return !!held?.picas?.pilot;
    }, 60_000));
    const target = held!.picas!.pilot!;
    const d = await runCli(['drain', '--pilot', target], env);
    assert.equal(d.code, 0, d.stderr);
    const results = await Promise.all(pilots.map((p) => p.result));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const drained = results.filter((r) => /draining \(asked in the database/.test(r.stderr));
    assert.equal(drained.length, 1, 'only the named pilot drained');
    assert.match(drained[0]!.stderr, new RegExp(target));
    await assertScenario(db, ids, file);
  } finally {
    await db.destroy();
  }
});
