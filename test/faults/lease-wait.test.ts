import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, tempDir } from '../helpers/cli.js';
import type { Token } from '../../src/tokens/index.js';
import { readExecutions } from './records.js';
import { recordingDb, assertScenario } from './scenario.js';

/**
 * The last pilot standing waits for dead pilots' leases within a bound per idle stretch. A pilot that already
 * waited for one dead pilot must still wait for another whose lease ends later (the bound once ran over the
 * pilot's whole life, and such a pilot exited leaving the second token locked).
 */
const ctx = useTestDb('leasewait');

test('a pilot that waited for one dead pilot\'s lease still waits for a second one that ends later', { timeout: 120_000 }, async () => {
  const dir = tempDir('leasewait');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 2, file, 0.2);
  try {
    const now = Math.floor(Date.now() / 1000);
    // Held by pilots that are gone: f0's lease ends in 3 s, f1's in 9 s (with a 2 s margin: 5 and 11 s).
    for (const [id, ends] of [['f0', 3], ['f1', 9]] as const) {
      const t = await db.get<Token>(id);
      await db.put({ ...t, lock: now, picas: { attempt: `a-${id}`, pilot: `pilot_gone_${id}`, host: 'elsewhere', claimed_at: now, lease_until: now + ends } });
    }
    const r = await runCli(['run', '--lease', '3', '--grace', '1', '--lease-margin', '2', '--batch', '1', '--work-dir', join(dir, 'w')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readExecutions(file).length, 2, r.stderr);
    await assertScenario(db, ids, file);
  } finally {
    await db.destroy();
  }
});
