import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, spawnCli, runCli, tempDir, waitFor } from '../helpers/cli.js';
import { countStates, newToken, type Token } from '../../src/tokens/index.js';
import { readExecutions, recordingCommand } from './records.js';
import { recordingDb, assertScenario } from './scenario.js';

/**
 * No idle tail, no hoarding. A pilot with nothing to claim ends at once when every held token's pilot is
 * alive (it waited for their leases, about 5 s at the end of every run); and a pilot does not sit on
 * claimed tokens it cannot start soon while another pilot has a free slot.
 */
const ctx = useTestDb('idletail');
const LEASE = ['--lease', '3', '--grace', '1'];

test('a pilot with nothing to claim ends at once while a live pilot still runs the last token', { timeout: 120_000 }, async () => {
  const dir = tempDir('idletail');
  const file = join(dir, 'records');
  // The token runs long enough (15 s) for the idle pilot to start and end meanwhile on a loaded machine
  // (a CLI start can take several seconds there; with 4 s the command sometimes ended first).
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 1, file, 15);
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const busy = spawnCli(['run', ...LEASE, '--batch', '1', '--work-dir', join(dir, 'w1')], env);
    assert.ok(await waitFor(() => readExecutions(file).length === 1, 60_000), 'the first pilot started the token');
    const idle = await runCli(['run', ...LEASE, '--batch', '1', '--work-dir', join(dir, 'w2')], env, { timeoutMs: 60_000 });
    const whenIdleEnded = readExecutions(file);
    assert.equal(idle.code, 0, idle.stderr);
    assert.equal(whenIdleEnded[0]!.end, undefined, `the idle pilot ended while the live pilot's command still ran\n${idle.stderr}`);
    assert.match(idle.stderr, /belong to live pilots/);
    assert.doesNotMatch(idle.stderr, /waiting/);
    const r = await busy.result;
    assert.equal(r.code, 0, r.stderr);
    await assertScenario(db, ids, file);
  } finally {
    await db.destroy();
  }
});

test('no hoarding: two pilots, short tokens then 5 s tokens: the long ones are shared, none waits in one pilot while the other is free', { timeout: 180_000 }, async () => {
  const dir = tempDir('hoard');
  const file = join(dir, 'records');
  const stop = join(dir, 'stop');
  const { db } = await recordingDb(ctx.couch, ctx.db.name, 20, file, 0.1, 's');
  try {
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const args = ['run', ...LEASE, '--batch', '10', '--wait', '--poll-interval', '1', '--stop-file', stop];
    const pilots = [0, 1].map((i) => spawnCli([...args, '--work-dir', join(dir, `w${i}`)], env));
    const guard = setTimeout(() => { for (const p of pilots) p.kill('SIGKILL'); }, 150_000);
    try {
      assert.ok(await waitFor(async () => (await countStates(db)).done === 20, 90_000), 'the short tokens ran');
      // Both pilots know short tokens now; then come long ones.
      const long = ['l0', 'l1', 'l2', 'l3'];
      await db.bulkDocs(long.map((id) => newToken({ _id: id, input: recordingCommand(file, 5) })));
      assert.ok(await waitFor(async () => (await countStates(db)).done === 24, 120_000), 'the long tokens ran');
      writeFileSync(stop, '');
      const results = await Promise.all(pilots.map((p) => p.result));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const byPilot = new Map<string, string[]>();
      for (const id of long) {
        const t = await db.get<Token & { picas: { pilot: string } }>(id);
        byPilot.set(t.picas.pilot, [...(byPilot.get(t.picas.pilot) ?? []), id]);
      }
      const split = [...byPilot.values()].map((l) => l.length).sort();
      assert.deepEqual(split, [2, 2], `each pilot ran two of the four long tokens: ${JSON.stringify([...byPilot])}\n${results.map((r) => r.stderr).join('\n----\n')}`);
      assert.equal(readExecutions(file).filter((e) => long.includes(e.id)).length, 4, 'each long token ran once');
      // No long token sat claimed and unstarted for more than a claim round (the poll interval, 1 s, plus the
      // 1 s resolution of both times): held ones went back for the other pilot instead.
      for (const id of long) {
        const t = await db.get<Token & { picas: { claimed_at: number }; start_time: number }>(id);
        assert.ok(t.start_time - t.picas.claimed_at <= 3, `${id}: claimed at ${t.picas.claimed_at}, started at ${t.start_time}`);
      }
    } finally {
      clearTimeout(guard);
    }
  } finally {
    await db.destroy();
  }
});
