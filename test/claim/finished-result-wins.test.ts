import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { claimToken, type ClaimedToken } from '../../src/claim/claim.js';
import { confirmClaims, confirmStats } from '../../src/claim/confirm.js';
import { checkHeldTokens } from '../../src/lease/replication-conflicts.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { ensureDesignDocs, markDone, newToken, type Token } from '../../src/tokens/index.js';
import type { Database } from '../../src/couch/database.js';

/**
 * On a cluster or replicating servers, a copy that has not yet seen a token's result can take over the
 * token's lease and accept a claim of it. The claim and the result are then both one generation above the
 * claim they branched from, and the revision ids decide which wins: half the time the claim. The result
 * must stand all the same. Here the two revisions are written as replication would bring them together
 * (`new_edits: false`), the claim's with the highest revision id of its generation, so it wins the tie-break.
 */
const ctx = useTestDb('finished-wins');
let n = 0;

type Held = Token & { picas: { attempt: string } };

async function resultBesideALateClaim(): Promise<{ db: Database; id: string; done: Held; late: ClaimedToken }> {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  const first = await db.put(newToken({ _id: 't', input: 'true' }));
  const held = await claimToken(db, { pilot: pilotIdentity(), leaseSeconds: 60 });
  assert.ok(held);
  const doneRev = (await db.put(markDone({ ...held, exit_code: 0 }))).rev;
  // The takeover another copy accepted, built on the claim it still held (generation 2), as claims are.
  const hash = (rev: string) => rev.split('-')[1]!;
  const top = 'f'.repeat(32);
  const late = {
    ...held, _rev: `3-${top}`, _revisions: { start: 3, ids: [top, hash(held._rev), hash(first.rev)] },
    picas: { ...held.picas, attempt: 'attempt-of-the-late-claim', pilot: 'pilot_late', lost_runs: 1 },
  };
  await db.request('POST', '/_bulk_docs', { body: { new_edits: false, docs: [late] } });
  const now = await db.get<Held>('t', { conflicts: true });
  assert.equal(now._rev, `3-${top}`, 'the late claim won the tie-break: the case under test');
  assert.deepEqual(now._conflicts, [doneRev]);
  const { _revisions, ...claimed } = late;
  void _revisions;
  return { db, id: 't', done: { ...held, _rev: doneRev } as Held, late: claimed as ClaimedToken };
}

async function assertResultStands(db: Database, done: Held) {
  const t = await db.get<Held>('t', { conflicts: true });
  assert.equal(t._conflicts, undefined, 'no conflict left');
  assert.ok(t.done > 0, 'the token is done');
  assert.equal(t.exit_code, 0);
  assert.equal(t.picas.attempt, done.picas.attempt, 'with the result of the attempt that ran it');
}

test('a claim confirmed against a finished result of another attempt yields: not run, its revision deleted, the result stands', async () => {
  const { db, done, late } = await resultBesideALateClaim();
  const logs: string[] = [];
  const stats = confirmStats();
  const standing = await confirmClaims(db, [late], false, { mode: 'always', settleMs: 200, log: (l) => logs.push(l) }, stats);
  assert.deepEqual(standing, [], 'the late claim does not stand: the token is not run again');
  assert.equal(stats.lost, 1);
  assert.match(logs.join('\n'), /claim not confirmed \(attempt \S+ had finished this token on another copy\)/);
  await assertResultStands(db, done);
  await db.destroy();
});

test('a held claim that won a conflict over a finished result is lost at the next check, and the result stands', async () => {
  const { db, done, late } = await resultBesideALateClaim();
  const logs: string[] = [];
  const check = await checkHeldTokens(db, [{ id: 't', attempt: late.picas.attempt }], { log: (l) => logs.push(l) });
  assert.deepEqual(check.lost, ['t'], 'the late claim\'s pilot learns it lost: its command stops, it writes nothing');
  assert.match(logs.join('\n'), /had finished this token on another copy/);
  await assertResultStands(db, done);
  await db.destroy();
});
