import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, spawnCli, runCli, tempDir } from '../helpers/cli.js';
import { countStates, type Token } from '../../src/tokens/index.js';
import { readExecutions } from './records.js';
import { recordingDb, assertScenario } from './scenario.js';

/**
 * Kills at fixed points of the pilot's work (src/claim/fault-points.ts): the pilot SIGKILLs itself just
 * after a claim, after its command ended but before the result is saved, or while a batch claim is on
 * its way. A second pilot then finishes everything, taking over what the dead one held.
 */
const ctx = useTestDb('fixedpoints');
const LEASE = ['--lease', '3', '--grace', '1', '--batch', '1'];
type Lease = Token & { picas?: { lost_runs?: number; pilot?: string } };

async function victimRun(args: string[], env: NodeJS.ProcessEnv) {
  const victim = spawnCli(args, env);
  const timer = setTimeout(() => victim.kill('SIGKILL'), 60_000);
  const r = await victim.result;
  clearTimeout(timer);
  return r;
}

test('killed just after a claim: the claimed token is taken over after its lease (counted as lost) or put back unstarted by the watchdog, and runs once', { timeout: 120_000 }, async () => {
  const dir = tempDir('fp-claim');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 4, file, 0.3);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    // The second claim kills it: one token done, one held by a dead pilot (left to its lease, or put back by
    // the pilot's watchdog, which saw it die).
    const v = await victimRun(['run', ...LEASE, '--work-dir', join(dir, 'w1')], { ...env, PICAS_FAULT_POINT: 'after-claim', PICAS_FAULT_AT: '2' });
    assert.equal(v.signal, 'SIGKILL', `the pilot died at the fault point\n${v.stderr}`);
    const counts = await countStates(db);
    assert.equal(counts.done, 1);
    assert.equal(counts.error, 0);
    // Left locked to its lease, or (unstarted) put back as it was by the watchdog that saw the pilot die.
    assert.ok(counts.locked === 1 || counts.todo === 3, JSON.stringify(counts));
    const held = counts.locked === 1 ? (await db.view<unknown, Token>('Monitor', 'locked', { include_docs: true })).rows[0]!.doc! : undefined;
    if (held) assert.equal(readExecutions(file).filter((e) => e.id === held._id).length, 0, 'its command never started');
    const r = await runCli(['run', ...LEASE, '--work-dir', join(dir, 'w2')], env, { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    await assertScenario(db, ids, file);
    if (held) {
      assert.match(r.stderr, new RegExp(`${held._id}: lease of \\S+ expired; taking it over`));
      assert.equal((await db.get<Lease>(held._id)).picas?.lost_runs, 1, 'the lost run is counted');
    }
    assert.equal(readExecutions(file).length, 4, 'every token ran exactly once');
  } finally {
    await db.destroy();
  }
});

test('killed after the command ended but before the result was saved: the token runs again, one result, no overlap', { timeout: 120_000 }, async () => {
  const dir = tempDir('fp-save');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 4, file, 0.3);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const v = await victimRun(['run', ...LEASE, '--work-dir', join(dir, 'w1')], { ...env, PICAS_FAULT_POINT: 'before-save', PICAS_FAULT_AT: '2' });
    assert.equal(v.signal, 'SIGKILL', `the pilot died at the fault point\n${v.stderr}`);
    const first = readExecutions(file);
    assert.equal(first.length, 2);
    assert.ok(first.every((e) => e.how === 'ok'), 'both commands ran to their end');
    const unsaved = first[1]!.id;
    assert.equal((await db.get<Token>(unsaved)).done, 0, 'the second result never reached the database');
    const r = await runCli(['run', ...LEASE, '--work-dir', join(dir, 'w2')], env, { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    await assertScenario(db, ids, file);
    const runs = readExecutions(file).filter((e) => e.id === unsaved);
    assert.equal(runs.length, 2, 'the unsaved token ran again (at least once, so a command may run twice)');
    const out = (await db.getAttachment(unsaved, `logs_${unsaved}.out`)).toString();
    assert.match(out, new RegExp(`result ${unsaved} ${runs[1]!.pid}\\b`), 'the recorded result is the rerun\'s');
    assert.equal((await db.get<Lease>(unsaved)).picas?.lost_runs, 1);
  } finally {
    await db.destroy();
  }
});

test('killed while a batch claim (--batch 5) is on its way: whatever landed is taken over, nothing stays locked', { timeout: 120_000 }, async () => {
  const dir = tempDir('fp-batch');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 12, file, 0.2);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const v = await victimRun(['run', ...LEASE, '--batch', '5', '--work-dir', join(dir, 'w1')], { ...env, PICAS_FAULT_POINT: 'during-batch-write', PICAS_FAULT_AT: '2' });
    assert.equal(v.signal, 'SIGKILL', `the pilot died at the fault point\n${v.stderr}`);
    const counts = await countStates(db);
    // The first batch of five ran (or was held); the second batch either landed whole or not at all.
    assert.equal(counts.error, 0);
    assert.ok(counts.locked <= 5, `held by the dead pilot: ${counts.locked}`);
    assert.equal(counts.done + counts.todo + counts.locked, 12);
    const r = await runCli(['run', ...LEASE, '--batch', '5', '--work-dir', join(dir, 'w2')], env, { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    if (counts.locked > 0) assert.match(r.stderr, /taking it over/);
    await assertScenario(db, ids, file);
    assert.equal(readExecutions(file).length, 12, 'no token ran twice: none was started by the dead pilot in the second batch');
  } finally {
    await db.destroy();
  }
});

test('batched pilot killed right after a finished result was handed to an idle writer: the result is saved, the token never runs again', { timeout: 120_000 }, async () => {
  const dir = tempDir('fp-handed');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 6, file, 0.3);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    // One slot, batches of up to 5. The second result is handed in while the pilot holds claimed tokens (so
    // no claim, which would write pending results first, follows it): it finds the writer idle and group
    // commit writes it at once. (A writer that held results for a delay lost it here.)
    const v = await victimRun(['run', '--lease', '3', '--grace', '1', '--batch', '5', '--work-dir', join(dir, 'w1')], { ...env, PICAS_FAULT_POINT: 'result-handed', PICAS_FAULT_AT: '2' });
    assert.equal(v.signal, 'SIGKILL', `the pilot died at the fault point\n${v.stderr}`);
    const first = readExecutions(file);
    assert.equal(first.length, 2, 'two commands ran before the kill');
    assert.ok(first.every((e) => e.how === 'ok'));
    const handed = first[1]!.id;
    assert.ok((await db.get<Token>(handed)).done > 0, `the handed result reached the database although the pilot died at once\n${v.stderr}`);
    const r = await runCli(['run', '--lease', '3', '--grace', '1', '--batch', '5', '--work-dir', join(dir, 'w2')], env, { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    await assertScenario(db, ids, file);
    assert.equal(readExecutions(file).filter((e) => e.id === handed).length, 1, 'the saved token did not run again');
  } finally {
    await db.destroy();
  }
});

test('batched pilot killed after its command ended but before the result was handed in: that execution is lost and runs again', { timeout: 120_000 }, async () => {
  const dir = tempDir('fp-save-batch');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 6, file, 0.3);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const v = await victimRun(['run', '--lease', '3', '--grace', '1', '--batch', '5', '--work-dir', join(dir, 'w1')], { ...env, PICAS_FAULT_POINT: 'before-save', PICAS_FAULT_AT: '2' });
    assert.equal(v.signal, 'SIGKILL', `the pilot died at the fault point\n${v.stderr}`);
    const first = readExecutions(file);
    assert.equal(first.length, 2);
    const [saved, unsaved] = [first[0]!.id, first[1]!.id];
    assert.ok((await db.get<Token>(saved)).done > 0, 'the result handed in before the kill was written');
    assert.equal((await db.get<Token>(unsaved)).done, 0, 'the result not yet handed in is lost');
    const r = await runCli(['run', '--lease', '3', '--grace', '1', '--batch', '5', '--work-dir', join(dir, 'w2')], env, { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    await assertScenario(db, ids, file);
    assert.equal(readExecutions(file).filter((e) => e.id === unsaved).length, 2, 'the lost execution ran again');
    assert.equal(readExecutions(file).filter((e) => e.id === saved).length, 1);
  } finally {
    await db.destroy();
  }
});
