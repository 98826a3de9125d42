import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { claimTokens } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';
import { tokenState } from '../../src/tokens/state.js';
import type { AttemptHistoryEntry } from '../../src/status/attempt-history.js';

// Attempts that do not end with a result are kept in `picas.history` too, as `picas show --json` shows.
const ctx = useTestDb('attempt-outcomes');

async function shownHistory(env: NodeJS.ProcessEnv, id: string): Promise<AttemptHistoryEntry[]> {
  const r = await runCli(['show', id, '--json', '--no-logs'], env);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { picas?: { history?: AttemptHistoryEntry[] } }).picas?.history ?? [];
}

test('a run taken over after its lease ended is recorded as lost, with its pilot, before the run that finished it', async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'orphan', input: 'true' }));
  const dead = pilotIdentity();
  // Claimed by a pilot that never renews (no heartbeat) with a one-second lease: it is free to take over soon.
  const [claim] = await claimTokens(ctx.db, { pilot: dead, leaseSeconds: 1 });
  assert.equal(claim?._id, 'orphan');
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  assert.ok(await waitFor(async () => {
    const r = await runCli(['run', '--lease', '3', '--work-dir', tempDir('takeover')], env);
    assert.equal(r.code, 0, r.stderr);
    return tokenState(await ctx.db.get<Token>('orphan')) === 'done';
  }, 60_000, 1_000), 'a later pilot took the token over and ran it');
  const history = await shownHistory(env, 'orphan');
  assert.deepEqual(history.map((h) => h.outcome), ['lost', 'done'], JSON.stringify(history));
  assert.equal(history[0]!.pilot, dead.pilotId);
  assert.equal(history[0]!.attempt, claim!.picas.attempt);
  assert.notEqual(history[1]!.pilot, dead.pilotId);
});

test('a run put back by the watchdog after its pilot died is recorded as lost', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-wd`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.put(newToken({ _id: 'killer', input: 'kill -KILL $PPID; sleep 30' }));
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    // Spawned, not runCli: runCli takes a SIGKILL for its own time-out.
    const pilot = spawnCli(['run', '--work-dir', tempDir('wd-lost')], env);
    const guard = setTimeout(() => pilot.kill('SIGKILL'), 60_000);
    const r = await pilot.result.finally(() => clearTimeout(guard));
    assert.equal(r.signal, 'SIGKILL', `the command killed its pilot\n${r.stderr}`);
    assert.ok(await waitFor(async () => tokenState(await db.get<Token>('killer')) === 'todo', 30_000, 200), 'the watchdog put it back');
    const history = await shownHistory(env, 'killer');
    assert.deepEqual(history.map((h) => h.outcome), ['lost'], JSON.stringify(history));
    assert.ok(history[0]!.pilot && history[0]!.attempt && history[0]!.start && history[0]!.end >= history[0]!.start!, JSON.stringify(history));
  } finally {
    await db.destroy();
  }
});

test('a run stopped by SIGTERM to its pilot is recorded as interrupted, and the token goes back to todo', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-term`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.put(newToken({ _id: 'long', input: 'sleep 30' }));
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilot = spawnCli(['run', '--work-dir', tempDir('term')], env);
    try {
      assert.ok(await waitFor(async () => tokenState(await db.get<Token>('long')) === 'locked', 60_000, 100), 'the pilot runs the token');
      await new Promise((r) => setTimeout(r, 500));
      pilot.kill('SIGTERM');
      await pilot.result;
    } finally {
      if (pilot.exitCode === null) pilot.kill('SIGKILL');
    }
    assert.equal(tokenState(await db.get<Token>('long')), 'todo');
    const history = await shownHistory(env, 'long');
    assert.deepEqual(history.map((h) => h.outcome), ['interrupted'], JSON.stringify(history));
    assert.ok(history[0]!.pilot && history[0]!.host && history[0]!.start, JSON.stringify(history));
  } finally {
    await db.destroy();
  }
});
