import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ownServerSkipReason } from '../helpers/couch.js';
import { cliEnv, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';
import { claimToken, type ClaimedToken } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import type { Database } from '../../src/couch/database.js';
import { checkHeldTokens, ConflictWatch } from '../../src/lease/replication-conflicts.js';
import { recordingCommand, readExecutions, type Execution } from '../faults/records.js';
import { settled, startReplicas, winnerOf, type Replicas } from './replicas.js';

const skip = ownServerSkipReason();
let replicas: Replicas;
let n = 0;

/** One token on both servers, then a claim of it on each server before replication carries either over. */
async function conflictedToken(): Promise<{ name: string; dbs: [Database, Database]; claims: [ClaimedToken, ClaimedToken] }> {
  const name = `picas-repl-${n++}-${process.pid}`;
  const dbs = await replicas.create(name);
  await ensureDesignDocs(dbs[0]);
  await dbs[0].put(newToken({ _id: 't', input: 'true' }));
  await replicas.replicate(name, 0);
  const claims = await Promise.all(dbs.map((db) => claimToken(db, { pilot: pilotIdentity(), leaseSeconds: 60 })));
  assert.ok(claims[0] && claims[1], 'each server accepted its own claim');
  await replicas.sync(name);
  return { name, dbs, claims: claims as [ClaimedToken, ClaimedToken] };
}

before(async () => { if (!skip) replicas = await startReplicas(); });
after(async () => { await replicas?.stop(); });

describe('replication conflicts between two servers', { skip }, () => {
  test('two claims of one token on two replicas: both servers show the same winner and one conflict', { timeout: 60_000 }, async () => {
    const { dbs, claims } = await conflictedToken();
    const [w0, w1] = await Promise.all(dbs.map((db) => winnerOf(db, 't')));
    assert.equal(w0._rev, w1._rev, 'the same winner everywhere');
    assert.equal(w0._conflicts?.length, 1);
    assert.deepEqual(w0._conflicts, w1._conflicts);
    assert.ok(claims.some((c) => c.picas.attempt === w0.picas?.attempt), 'the winner is one of the two claims');
  });

  test('the loser learns it lost and writes nothing; the winner records the loser as stale and deletes its revision', { timeout: 60_000 }, async () => {
    const { name, dbs, claims } = await conflictedToken();
    const winner = await winnerOf(dbs[0], 't');
    const w = claims.findIndex((c) => c.picas.attempt === winner.picas?.attempt) as 0 | 1;
    const l = (1 - w) as 0 | 1;
    const loser = claims[l];

    const asLoser = await checkHeldTokens(dbs[l], [{ id: 't', attempt: loser.picas.attempt }]);
    assert.deepEqual(asLoser, { lost: ['t'], resolved: [] });
    const untouched = await winnerOf(dbs[l], 't');
    assert.equal(untouched._rev, winner._rev, 'the loser wrote nothing');
    assert.deepEqual(untouched._conflicts, winner._conflicts, 'the loser deleted nothing');

    const asWinner = await checkHeldTokens(dbs[w], [{ id: 't', attempt: claims[w].picas.attempt }]);
    assert.deepEqual(asWinner, { lost: [], resolved: ['t'] });
    await replicas.sync(name);
    for (const db of dbs) {
      const t = await winnerOf(db, 't');
      assert.equal(t._conflicts, undefined, 'no conflict left on either server');
      assert.equal(t.picas?.attempt, claims[w].picas.attempt, 'the winning attempt still holds the token');
      const stale = t.picas?.stale_attempts as { attempt: string; pilot: string; note: string }[];
      assert.equal(stale.length, 1);
      assert.equal(stale[0]!.attempt, loser.picas.attempt);
      assert.equal(stale[0]!.pilot, loser.picas.pilot);
      assert.match(stale[0]!.note, /replication conflict/);
    }
    // Checked again: nothing more to do, and the loser still knows it lost.
    assert.deepEqual(await checkHeldTokens(dbs[w], [{ id: 't', attempt: claims[w].picas.attempt }]), { lost: [], resolved: [] });
    assert.deepEqual((await checkHeldTokens(dbs[l], [{ id: 't', attempt: loser.picas.attempt }])).lost, ['t']);
  });

  test('a loser cleans up on the winner\'s behalf only when asked (the winning pilot is gone)', { timeout: 60_000 }, async () => {
    const { name, dbs, claims } = await conflictedToken();
    const winner = await winnerOf(dbs[0], 't');
    const l = claims.findIndex((c) => c.picas.attempt !== winner.picas?.attempt) as 0 | 1;
    const loser = claims[l];
    const r = await checkHeldTokens(dbs[l], [{ id: 't', attempt: loser.picas.attempt }], { cleanUpLost: new Set(['t']) });
    assert.deepEqual(r, { lost: ['t'], resolved: ['t'] });
    await replicas.sync(name);
    for (const db of dbs) {
      const t = await winnerOf(db, 't');
      assert.equal(t._conflicts, undefined);
      assert.equal(t.picas?.attempt, winner.picas?.attempt, 'the winner is unchanged');
      assert.deepEqual((t.picas?.stale_attempts as { attempt: string }[]).map((s) => s.attempt), [loser.picas.attempt]);
    }
  });

  test('the watch aborts a held token whose attempt lost, and leaves the winner running', { timeout: 60_000 }, async () => {
    const { dbs, claims } = await conflictedToken();
    const winner = await winnerOf(dbs[0], 't');
    const w = claims.findIndex((c) => c.picas.attempt === winner.picas?.attempt) as 0 | 1;
    const l = (1 - w) as 0 | 1;
    const lines: string[] = [];
    const loserWatch = new ConflictWatch(dbs[l], { log: (x) => lines.push(x) });
    const winnerWatch = new ConflictWatch(dbs[w]);
    const lostSignal = loserWatch.hold('t', claims[l].picas.attempt);
    const wonSignal = winnerWatch.hold('t', claims[w].picas.attempt);
    await loserWatch.check();
    assert.equal(lostSignal.aborted, true);
    assert.match(String((lostSignal.reason as Error).message), /replication conflict/);
    assert.ok(lines.some((x) => /stopping its command/.test(x)), lines.join('\n'));
    await winnerWatch.check();
    assert.equal(wonSignal.aborted, false);
    assert.equal(winnerWatch.resolved, 1);
    assert.equal(loserWatch.lost, 1);
  });

  test('nothing held: no request, nothing lost', async () => {
    const [db] = await replicas.create(`picas-repl-empty-${process.pid}`);
    assert.deepEqual(await checkHeldTokens(db, []), { lost: [], resolved: [] });
  });
});

/** For each token: the overlap (ms) of its two executions, or 0. */
function overlapsMs(executions: Execution[]): Map<string, number> {
  const byId = new Map<string, Execution[]>();
  for (const e of executions) (byId.get(e.id) ?? byId.set(e.id, []).get(e.id)!).push(e);
  const out = new Map<string, number>();
  for (const [id, list] of byId) {
    if (list.length < 2) { out.set(id, 0); continue; }
    const [a, b] = list;
    const start = a!.start > b!.start ? a!.start : b!.start;
    const end = (a!.end ?? 0n) < (b!.end ?? 0n) ? a!.end! : b!.end!;
    out.set(id, Number(end - start) / 1e6);
  }
  return out;
}

describe('two pilots on two replicating servers', { skip }, () => {
  /**
   * Both pilots claim every token on their own server while replication is paused, so each token is
   * claimed twice (the worst case: the same as a replication delay longer than the claims' spacing); then
   * replication runs both ways, continuously.
   */
  async function doubleClaimed(label: string, extraArgs: string[]) {
    const name = `picas-repl-${label}-${process.pid}`;
    const dbs = await replicas.create(name);
    await ensureDesignDocs(dbs[0]);
    const dir = tempDir(`repl-${label}`);
    const file = join(dir, 'records');
    const ids = ['r0', 'r1', 'r2', 'r3'];
    await dbs[0].bulkDocs(ids.map((id) => newToken({ _id: id, input: recordingCommand(file, 8) })));
    await replicas.replicate(name, 0);
    // A lease longer than the time replication stays paused: a claim replicated before its pilot's heartbeat
    // document would otherwise look expired to the other server's pilot, and be taken over (a third run).
    const args = ['run', '--lease', '9', '--grace', '1', '--slots', '4', '--batch', '4', ...extraArgs];
    const pilots = ([0, 1] as const).map((i) => spawnCli([...args, '--work-dir', join(dir, `w${i}`)],
      cliEnv(replicas.servers[i], { PICAS_DATABASE: name })));
    try {
      assert.ok(await waitFor(() => readExecutions(file).length >= 8, 60_000), 'each pilot started all four tokens');
      // The commands record epoch nanoseconds (date +%s%N).
      const replicationStarted = BigInt(Date.now()) * 1_000_000n;
      const stopReplication = replicas.live(name);
      const results = await Promise.all(pilots.map((p) => p.result));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      assert.ok(await settled(dbs, ids), 'both servers agree');
      stopReplication();
      return { dbs, ids, executions: readExecutions(file), replicationStarted, results };
    } finally {
      for (const p of pilots) if (p.exitCode === null) p.kill('SIGKILL');
    }
  }

  test('every token ends with one result, each losing attempt is stopped and recorded as stale, no conflict remains', { timeout: 180_000 }, async () => {
    const { dbs, ids, executions, replicationStarted, results } = await doubleClaimed('e2e', []);
    const overlaps = overlapsMs(executions);
    const log = results.map((r, i) => `--- pilot ${i}\n${r.stderr}`).join('\n');
    for (const id of ids) {
      const runs = executions.filter((e) => e.id === id);
      assert.equal(runs.length, 2, `${id}: claimed on both servers, run twice\n${JSON.stringify(runs, (_, v) => typeof v === 'bigint' ? String(v) : v)}\n${log}`);
      assert.deepEqual(runs.map((e) => e.how).sort(), ['ok', 'term'], `${id}: the losing run was stopped, the winner finished`);
      const stopped = runs.find((e) => e.how === 'term')!;
      for (const db of dbs) {
        const t = await winnerOf(db, id) as Token & { _conflicts?: string[]; picas: { attempt: string; stale_attempts?: { attempt: string; exit_code?: unknown }[] } };
        assert.equal(t._conflicts, undefined, `${id}: no conflict left`);
        assert.ok(t.done > 0 && t.exit_code === 0, `${id}: one result, exit code 0`);
        assert.equal(t.picas.stale_attempts?.length, 1, `${id}: the losing attempt recorded as stale`);
        assert.notEqual(t.picas.stale_attempts![0]!.attempt, t.picas.attempt);
        assert.equal(t.picas.stale_attempts![0]!.exit_code, undefined, `${id}: the loser has no result`);
      }
      const detectedMs = Number(stopped.end! - replicationStarted) / 1e6;
      console.log(`# ${id}: losing run stopped ${detectedMs.toFixed(0)} ms after replication started; the two runs overlapped ${overlaps.get(id)!.toFixed(0)} ms`);
    }
    assert.match(log, /lost a replication conflict/);
    assert.match(log, /replication conflict resolved/);
  });

  test('with --no-conflict-check both runs go to the end and the conflict stays (what the check prevents)', { timeout: 180_000 }, async () => {
    const { dbs, ids, executions } = await doubleClaimed('nocheck', ['--no-conflict-check']);
    for (const id of ids) {
      assert.deepEqual(executions.filter((e) => e.id === id).map((e) => e.how), ['ok', 'ok'], `${id}: both ran to the end`);
      const t = await winnerOf(dbs[0], id);
      assert.equal(t._conflicts?.length, 1, `${id}: a second result is left as a conflict`);
    }
  });
});
