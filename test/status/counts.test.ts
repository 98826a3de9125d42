import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, spawnCli, tempDir } from '../helpers/cli.js';
import { ensureDesignDocs, newToken } from '../../src/tokens/index.js';
import { readStateSnapshot } from '../../src/tokens/status.js';
import { TOKEN_STATES } from '../../src/tokens/state.js';

const ctx = useTestDb('status-counts');

test('the four counts add up to the tokens while pilots move them between states (one snapshot)', async () => {
  const n = 400;
  await ensureDesignDocs(ctx.db);
  await ctx.db.bulkDocs(Array.from({ length: n }, (_, i) => newToken({ _id: `c${String(i).padStart(4, '0')}`, input: i % 10 === 0 ? 'exit 3' : 'true' })));
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  // Small batches, so tokens go through todo -> locked -> done/error in many separate writes.
  const pilots = [1, 2, 3].map((i) => spawnCli(['run', '--batch', '2', '--slots', '2', '--work-dir', tempDir(`counts${i}`)], env));
  let polls = 0;
  let moving = 0;
  const sums: number[] = [];
  try {
    let finished = false;
    void Promise.all(pilots.map((p) => p.result)).then(() => { finished = true; });
    for (let i = 0; i < 2_000 && !finished; i++) {
      // Every other poll allows no reconciliation at all (maxReconcile 1), as when pilots change tokens
      // faster than the four views can be read together: the answer must still be one snapshot.
      const snap = await readStateSnapshot(ctx.db, 'Monitor', { maxLagToUpdate: 100_000, ...(i % 2 ? { maxReconcile: 1 } : {}) });
      const sum = TOKEN_STATES.reduce((a, s) => a + snap.counts[s], 0);
      sums.push(sum);
      polls++;
      if (snap.counts.locked > 0 || (snap.counts.todo > 0 && snap.counts.todo < n)) moving++;
      assert.equal(snap.consistent, true, `poll ${polls}: ${JSON.stringify(snap)}`);
      assert.equal(sum, n, `poll ${polls}: ${JSON.stringify(snap.counts)} adds up to ${sum}, not ${n}`);
    }
    for (const p of pilots) assert.equal((await p.result).code, 0);
  } finally {
    for (const p of pilots) if (p.exitCode === null) p.kill('SIGKILL');
  }
  assert.ok(moving >= 3, `status was read while tokens moved (${moving} of ${polls} polls)`);
  const final = await readStateSnapshot(ctx.db);
  assert.deepEqual(final.counts, { todo: 0, locked: 0, done: n - n / 10, error: n / 10 });
});
