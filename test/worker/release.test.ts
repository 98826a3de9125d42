import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { claimTokens } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { releaseAttempts, releaseUnstarted } from '../../src/worker/release.js';
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

test('releaseAttempts puts back tokens named by id and attempt only (standalone), counting lost runs up to maxLost', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-attempts`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.bulkDocs(Array.from({ length: 5 }, (_, i) => newToken({ _id: `h${i}`, input: `job ${i}`, keep: i })));
    const claimed = await claimTokens(db, { pilot: pilotIdentity(), batchSize: 5 });
    const held = claimed.map((t) => ({ id: t._id, attempt: t.picas.attempt })).sort((a, b) => a.id.localeCompare(b.id));
    // h0 finished meanwhile, h1 taken over by another attempt: neither is ours to put back.
    const h0 = await db.get<Token>('h0');
    await db.put({ ...h0, done: 777, exit_code: 0 });
    const h1 = await db.get<Token & { picas: Record<string, unknown> }>('h1');
    await db.put({ ...h1, picas: { ...h1.picas, attempt: 'attempt_other' } });
    // h4 was lost twice before: this third loss ends it (maxLost 3).
    const h4 = await db.get<Token & { picas: Record<string, unknown> }>('h4');
    await db.put({ ...h4, picas: { ...h4.picas, lost_runs: 2 } });
    const r = await releaseAttempts(db, [...held, { id: 'no-such-token', attempt: 'attempt_x' }], { countLost: true });
    assert.deepEqual(r.released.sort(), ['h2', 'h3']);
    assert.deepEqual(r.failed, ['h4']);
    assert.deepEqual(r.notHeld.sort(), ['h0', 'h1', 'no-such-token']);
    for (const id of ['h2', 'h3']) {
      const t = await db.get<Token & { picas: Record<string, unknown> }>(id);
      assert.deepEqual([t.lock, t.done], [0, 0], `${id} back in todo`);
      assert.equal(t.picas.lost_runs, 1, 'counted as a lost run');
      assert.equal(t.picas.attempt, undefined, 'no lease left');
      assert.equal((t as { keep?: number }).keep, Number(id.slice(1)), 'its fields kept');
    }
    const ended = await db.get<Token & { picas: Record<string, unknown> }>('h4');
    assert.equal(ended.lock, 99, 'lost too often: error');
    assert.match(ended.error.at(-1)!.message, /lost 3 times/);
    assert.equal((await db.get<Token>('h0')).done, 777);
    assert.equal((await db.get<Token & { picas: Record<string, unknown> }>('h1')).picas.attempt, 'attempt_other');
    // Without countLost (a pilot's own stop), nothing is counted; a second call finds nothing held.
    const again = await releaseAttempts(db, held);
    assert.deepEqual(again.released, []);
  } finally {
    await db.destroy();
  }
});
