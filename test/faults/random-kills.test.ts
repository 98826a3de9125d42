import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { appendFileSync } from 'node:fs';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, spawnCli, tempDir, type CliResult } from '../helpers/cli.js';
import { readExecutions } from './records.js';
import { recordingDb, assertScenario, killNode, seededRandom } from './scenario.js';

/**
 * Seeded random kills: pilots die at random moments, some as a lost node (pilot, commands and watchdog
 * together), some alone (their watchdog then stops their commands). Replacements start after each kill.
 * The seed is printed; FAULT_SEED=<n> replays the same choices.
 */
const ctx = useTestDb('randomkills');
const LEASE = ['--lease', '3', '--grace', '1'];

test('seeded random SIGKILLs of pilots (with or without their commands): every token done with one result, no overlap, nothing locked', { timeout: 240_000 }, async (t) => {
  const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const dir = tempDir('randkill');
  const note = ` (FAULT_SEED=${seed} reproduces this run; pilot logs in ${dir})`;
  t.diagnostic(`FAULT_SEED=${seed}`);
  console.log(`# random kills: FAULT_SEED=${seed}`);
  const rnd = seededRandom(seed);
  const file = join(dir, 'records');
  const durations = Array.from({ length: 16 }, () => 0.3 + Math.round(rnd() * 12) / 10);
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, durations.length, file, (i) => durations[i]!);
  const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
  type Pilot = ReturnType<typeof spawnCli> & { done?: CliResult; killed?: boolean };
  const pilots: Pilot[] = [];
  const start = () => {
    const p = spawnCli(['run', ...LEASE, '--work-dir', join(dir, `w${pilots.length}`)], env) as Pilot;
    void p.result.then((r) => { p.done = r; });
    const log = join(dir, `pilot-${pilots.length}.log`);
    p.stderr!.on('data', (d) => appendFileSync(log, d));
    pilots.push(p);
  };
  const guard = setTimeout(() => { for (const p of pilots) p.kill('SIGKILL'); }, 200_000);
  try {
    for (let i = 0; i < 3; i++) start();
    let kills = 0;
    for (let k = 0; k < 4; k++) {
      await new Promise((r) => setTimeout(r, 1_000 + rnd() * 2_500));
      const live = pilots.filter((p) => !p.done && !p.killed);
      const victim = live[Math.floor(rnd() * live.length)];
      if (!victim) break;
      victim.killed = true;
      if (rnd() < 0.5) killNode(victim.pid!, file);
      else victim.kill('SIGKILL');
      kills++;
      start();
    }
    t.diagnostic(`${kills} kills, ${pilots.length} pilots`);
    const results = await Promise.all(pilots.map((p) => p.result));
    clearTimeout(guard);
    results.forEach((r, i) => {
      if (pilots[i]!.killed) return;
      assert.equal(r.code, 0, `pilot ${i} ended with ${r.code ?? r.signal}${note}\n${r.stderr}`);
    });
    assert.ok(kills >= 1, `at least one pilot was killed${note}`);
    await assertScenario(db, ids, file, note);
    const executions = readExecutions(file);
    assert.ok(executions.length >= ids.length, `every token ran at least once${note}`);
  } finally {
    clearTimeout(guard);
    for (const p of pilots) if (!p.done) p.kill('SIGKILL');
    await db.destroy();
  }
});
