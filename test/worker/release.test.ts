import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { claimTokens } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { releaseUnstarted } from '../../src/worker/release.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';

const ctx = useTestDb('release');

test('releaseUnstarted gives a stopping pilot\'s queue back in one write, and spares a token another attempt holds', async () => {
  const db = ctx.db;
  await ensureDesignDocs(db);
  await db.bulkDocs(Array.from({ length: 6 }, (_, i) => newToken({ _id: `r${i}`, input: `job ${i}` })));
  const claimed = await claimTokens(db, { pilot: pilotIdentity(), batchSize: 6 });
  assert.equal(claimed.length, 6);
  // Another pilot took one over meanwhile (our lease ran out) and finished it: it must not go back to todo.
  const changed = await db.get<Token & { picas: Record<string, unknown> }>(claimed[0]!._id);
  await db.put({ ...changed, done: 12345, exit_code: 0, picas: { ...changed.picas, attempt: 'other-attempt', pilot: 'other-pilot' } });
  const requestsBefore = db.server.stats.requests;
  const failed = await releaseUnstarted(db, claimed);
  assert.deepEqual(failed, []);
  // One bulk write, then for the changed one a few requests to see it is no longer ours.
  assert.ok(db.server.stats.requests - requestsBefore <= 4, `${db.server.stats.requests - requestsBefore} requests`);
  for (const t of claimed.slice(1)) {
    const now = await db.get<Token & { picas?: Record<string, unknown> }>(t._id);
    assert.equal(now.lock, 0, `${t._id} back in todo`);
    assert.equal(now.done, 0);
    assert.equal(now.input, t.input, 'its fields kept');
    assert.equal(now.picas?.attempt, undefined, 'no lease left');
  }
  const kept = await db.get<Token>(claimed[0]!._id);
  assert.equal(kept.done, 12345, 'the token taken over kept what its new owner wrote');
  assert.deepEqual(await releaseUnstarted(db, []), []);
});
