import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { ResultBatcher } from '../../src/worker/result-batcher.js';
import { claimTokens } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { ensureDesignDocs, newToken, markDone, countStates, type Token } from '../../src/tokens/index.js';

/** Group commit: an idle writer writes a result at once; results that come while a write is in flight go together next. */
const ctx = useTestDb('batcher');

test('the first result is written at once, alone; the three handed in meanwhile go together in the next write', async () => {
  const db = ctx.db;
  await ensureDesignDocs(db);
  await db.bulkDocs(Array.from({ length: 4 }, (_, i) => newToken({ _id: `g${i}` })));
  const claimed = await claimTokens(db, { pilot: pilotIdentity(), batchSize: 4 });
  assert.equal(claimed.length, 4);
  const batcher = new ResultBatcher(db, { maxBatch: 10 });
  const done = (t: Token) => markDone({ ...t, exit_code: 0 });
  const first = batcher.submit(claimed[0]!, done);
  assert.equal(batcher.busy, true, 'the write started as the result was handed in');
  assert.equal(batcher.waiting, 0);
  const rest = claimed.slice(1).map((t) => batcher.submit(t, done));
  assert.equal(batcher.waiting, 3, 'the others wait for the write in flight');
  const outcomes = await Promise.all([first, ...rest]);
  assert.ok(outcomes.every((o) => o.kind === 'saved'));
  assert.equal(batcher.writes, 2);
  await batcher.flush();
  assert.equal(batcher.busy, false);
  assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 4, error: 0 });
});
