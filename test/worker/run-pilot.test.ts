import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { runPilot, type PilotHooks } from '../../src/worker/run-pilot.js';
import { saveResult } from '../../src/worker/save-result.js';
import { claimToken, claimTokens } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { ensureDesignDocs, ensureDesignDoc, conditionalMonitor, newToken, countStates, markDone, type Token } from '../../src/tokens/index.js';

const ctx = useTestDb('runloop');
let n = 0;
async function freshDb(tokens: Record<string, unknown>[]) {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(tokens.map((t) => newToken(t)));
  return db;
}

test('hooks run in order: prepareEnv once, prepareRun/processTask/cleanupRun per token, cleanupEnv once', async () => {
  const db = await freshDb([{ _id: 'a' }, { _id: 'b' }]);
  const calls: string[] = [];
  const hooks: PilotHooks = {
    prepareEnv: () => { calls.push('prepareEnv'); },
    prepareRun: (t) => { calls.push(`prepareRun:${t._id}`); },
    processTask: (t) => { calls.push(`process:${t._id}`); return { exitCode: 0, fields: { output: { got: t._id } } }; },
    cleanupRun: (t) => { calls.push(`cleanupRun:${t._id}`); },
    cleanupEnv: () => { calls.push('cleanupEnv'); },
  };
  const summary = await runPilot(hooks, { db });
  assert.equal(summary.done, 2);
  assert.equal(calls[0], 'prepareEnv');
  assert.equal(calls.at(-1), 'cleanupEnv');
  assert.equal(calls.filter((c) => c.startsWith('process:')).length, 2);
  const a = await db.get<Token>('a');
  assert.deepEqual(a.output, { got: 'a' });
  assert.equal(a.exit_code, 0);
  assert.ok(a.done > 0 && a.lock > 0);
  await db.destroy();
});

test('an error thrown in processTask marks the token error with message and stack; the pilot goes on', async () => {
  const db = await freshDb([{ _id: 'boom' }, { _id: 'fine' }]);
  const summary = await runPilot({
    processTask: (t) => { if (t._id === 'boom') throw new Error('kaboom'); return { exitCode: 0 }; },
  }, { db });
  assert.equal(summary.failed, 1);
  assert.equal(summary.done, 1);
  const t = await db.get<Token>('boom');
  assert.deepEqual([t.lock, t.done], [99, 99]);
  assert.equal(t.error[0]!.message, 'kaboom');
  assert.match(t.error[0]!.exception, /Error: kaboom\n\s+at /);
  await db.destroy();
});

test('cleanupEnv runs even when a hook fails', async () => {
  const db = await freshDb([{ _id: 'x' }]);
  let cleaned = false;
  await assert.rejects(runPilot({ prepareEnv: () => { throw new Error('env broken'); }, processTask: () => ({ exitCode: 0 }), cleanupEnv: () => { cleaned = true; } }, { db }), /env broken/);
  // prepareEnv failing means nothing ran; cleanupEnv is for what prepareEnv set up, the original calls it in a finally
  assert.equal(cleaned, false);
  await runPilot({ processTask: () => { throw new Error('x'); }, cleanupEnv: () => { cleaned = true; } }, { db });
  assert.equal(cleaned, true);
  await db.destroy();
});

test('maxTasks, stop function and maxScrub', async () => {
  const db = await freshDb(Array.from({ length: 6 }, (_, i) => ({ _id: `m${i}` })));
  const s1 = await runPilot({ processTask: () => ({ exitCode: 0 }) }, { db, maxTasks: 2 });
  assert.equal(s1.done, 2);
  assert.equal(s1.stoppedBy, 'maxTasks');
  let k = 0;
  const s2 = await runPilot({ processTask: () => { k++; return { exitCode: 0 }; } }, { db, stop: () => k >= 1 });
  assert.equal(s2.done, 1);
  assert.equal(s2.stoppedBy, 'stop');
  // exit code 3 every time: reset while scrub_count < 2, then left as error
  const s3 = await runPilot({ processTask: () => ({ exitCode: 3 }) }, { db, maxTasks: 1, views: [{ design: 'Monitor', view: 'todo' }] });
  assert.equal(s3.failed, 1);
  const failedId = (await db.view('Monitor', 'todo')).rows.length;
  assert.equal(failedId, 2, 'without maxScrub the failed token leaves todo (6 - 2 - 1 - 1)');
  const db2 = await freshDb([{ _id: 'flaky' }]);
  let runs = 0;
  const s4 = await runPilot({ processTask: () => { runs++; return { exitCode: 3 }; } }, { db: db2, maxScrub: 2 });
  assert.equal(runs, 3, 'first run plus two scrubs');
  assert.equal(s4.scrubbed, 2);
  const flaky = await db2.get<Token>('flaky');
  assert.equal(flaky.scrub_count, 2);
  assert.deepEqual(await countStates(db2), { todo: 0, locked: 0, done: 0, error: 1 });
  await db.destroy(); await db2.destroy();
});

test('prioritised views: high first, then low; key-restricted claims', async () => {
  const db = await freshDb([
    { _id: 'low1', cores: 1 }, { _id: 'high1', cores: 4 }, { _id: 'low2', cores: 1 }, { _id: 'high2', cores: 4 },
  ]);
  await ensureDesignDoc(db, conditionalMonitor('High', 'doc.cores == 4'));
  const order: string[] = [];
  await runPilot({ processTask: (t) => { order.push(t._id); return { exitCode: 0 }; } }, {
    db, views: [{ design: 'High', view: 'todo' }, { design: 'Monitor', view: 'todo' }],
  });
  assert.deepEqual(order.slice(0, 2).sort(), ['high1', 'high2']);
  assert.deepEqual(order.slice(2).sort(), ['low1', 'low2']);
  const db2 = await freshDb([{ _id: 'k1' }, { _id: 'k2' }]);
  const got = await claimToken(db2, { pilot: pilotIdentity(), views: [{ design: 'Monitor', view: 'todo', key: 'k2' }] });
  assert.equal(got!._id, 'k2');
  assert.equal(await claimToken(db2, { pilot: pilotIdentity(), views: [{ design: 'Monitor', view: 'todo', key: 'k2' }] }), undefined);
  await db.destroy(); await db2.destroy();
});

test('wait mode polls until new tokens come, then stops on the stop function', async () => {
  const db = await freshDb([]);
  const seen: string[] = [];
  const pilot = runPilot({ processTask: (t) => { seen.push(t._id); return { exitCode: 0 }; } }, {
    db, wait: { pollMs: 50, maxPollMs: 200 }, stop: () => seen.length >= 2,
  });
  await new Promise((r) => setTimeout(r, 300));
  await db.bulkDocs([newToken({ _id: 'late1' }), newToken({ _id: 'late2' })]);
  const summary = await pilot;
  assert.equal(summary.done, 2);
  assert.equal(summary.stoppedBy, 'stop');
  await db.destroy();
});

test('every claim carries a unique attempt id; a batch claim takes several tokens in one write', async () => {
  const db = await freshDb(Array.from({ length: 5 }, (_, i) => ({ _id: `b${i}` })));
  const claimed = await claimTokens(db, { pilot: pilotIdentity(), batchSize: 3 });
  assert.equal(claimed.length, 3);
  const attempts = new Set(claimed.map((t) => t.picas.attempt));
  assert.equal(attempts.size, 3);
  for (const t of claimed) {
    const stored = await db.get<Token & { picas: { attempt: string } }>(t._id);
    assert.equal(stored.picas.attempt, t.picas.attempt);
    assert.ok(stored.lock > 0);
  }
  await db.destroy();
});

test('a save conflict never drops the result: same attempt re-applies, another attempt gets a stale record', async () => {
  const db = await freshDb([{ _id: 'c1', user_field: 'keep' }, { _id: 'c2' }]);
  const pilot = pilotIdentity();
  const first = (await claimToken(db, { pilot, views: [{ design: 'Monitor', view: 'todo', key: 'c1' }] }))!;
  // Someone (a user, a renewal) changes another field meanwhile: the attempt still owns the token.
  const cur = await db.get<Token>('c1');
  await db.put({ ...cur, note: 'touched' });
  const r1 = await saveResult(db, first, (t) => markDone({ ...t, exit_code: 0, output: { answer: 42 } }));
  assert.equal(r1.kind, 'saved');
  const c1 = await db.get<Token>('c1');
  assert.deepEqual(c1.output, { answer: 42 });
  assert.equal((c1 as any).note, 'touched');
  assert.equal((c1 as any).user_field, 'keep');
  // Another attempt took the token over (e.g. after a lease expiry): our result becomes a stale record.
  const mine = (await claimToken(db, { pilot, views: [{ design: 'Monitor', view: 'todo', key: 'c2' }] }))!;
  const now = await db.get<Token & { picas: Record<string, unknown> }>('c2');
  await db.put({ ...now, picas: { ...now.picas, attempt: 'attempt_other' } });
  const r2 = await saveResult(db, mine, (t) => markDone({ ...t, exit_code: 0 }));
  assert.equal(r2.kind, 'stale');
  const c2 = await db.get<Token & { picas: { attempt: string; stale_attempts: { attempt: string; exit_code: unknown }[] } }>('c2');
  assert.equal(c2.picas.attempt, 'attempt_other');
  assert.equal(c2.done, 0, 'not recorded as the result');
  assert.equal(c2.picas.stale_attempts[0]!.attempt, mine.picas.attempt);
  assert.equal(c2.picas.stale_attempts[0]!.exit_code, 0);
  await db.destroy();
});

test('a pilot stopped by its signal gives back tokens it claimed but did not start', async () => {
  const db = await freshDb(Array.from({ length: 6 }, (_, i) => ({ _id: `r${i}` })));
  const controller = new AbortController();
  const summary = await runPilot({
    processTask: async (_t, c) => { controller.abort(); await new Promise((r) => setTimeout(r, 20)); return c.signal.aborted ? { exitCode: -1, failure: { message: 'stopped' } } : { exitCode: 0 }; },
  }, { db, batchSize: 4, signal: controller.signal });
  assert.equal(summary.interrupted, 1);
  assert.deepEqual(await countStates(db), { todo: 6, locked: 0, done: 0, error: 0 });
  await db.destroy();
});

test('batched claims and completions: every token done once, in far fewer requests than one at a time', async () => {
  const ids = Array.from({ length: 60 }, (_, i) => `q${i}`);
  const counts: Record<string, number> = {};
  const perToken = async (batchSize: number) => {
    const db = await freshDb(ids.map((id) => ({ _id: id })));
    const before = db.server.stats.requests;
    const summary = await runPilot({ processTask: (t) => { counts[`${batchSize}:${t._id}`] = (counts[`${batchSize}:${t._id}`] ?? 0) + 1; return { exitCode: 0, logs: { stdout: `out ${t._id}`, stderr: '' } }; } },
      { db, batchSize, heartbeat: false });
    const requests = db.server.stats.requests - before;
    assert.equal(summary.done, 60);
    assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 60, error: 0 });
    const t = await db.get<Token>('q7', { attachments: true });
    assert.equal(Buffer.from(t._attachments!['logs_q7.out']!.data!, 'base64').toString(), 'out q7', 'logs written with the batched result');
    await db.destroy();
    return requests / 60;
  };
  const single = await perToken(1);
  const batched = await perToken(20);
  for (const id of ids) { assert.equal(counts[`1:${id}`], 1); assert.equal(counts[`20:${id}`], 1); }
  assert.ok(single >= 2, `one at a time: a claim and a result write per token (${single.toFixed(2)} requests/token)`);
  assert.ok(batched < single / 3, `batched: ${batched.toFixed(2)} requests/token vs ${single.toFixed(2)}`);
});

test('a conflict inside a batched result write falls back to the careful path and keeps the result', async () => {
  const db = await freshDb(Array.from({ length: 4 }, (_, i) => ({ _id: `w${i}` })));
  const summary = await runPilot({
    processTask: async (t) => {
      if (t._id === 'w2') {
        // Someone touches the token while it runs: the batched write of its result conflicts.
        const cur = await db.get<Token>('w2');
        await db.put({ ...cur, touched: true });
      }
      return { exitCode: 0, fields: { output: { id: t._id } } };
    },
  }, { db, batchSize: 4, heartbeat: false });
  assert.equal(summary.done, 4);
  const w2 = await db.get<Token>('w2');
  assert.deepEqual(w2.output, { id: 'w2' });
  assert.equal((w2 as any).touched, true);
  await db.destroy();
});

test('a token locked under this pilot\'s name but never known to it (a claim whose answer was lost) is put back and run', async () => {
  const db = await freshDb([{ _id: 'lost-answer' }, { _id: 'normal' }]);
  const pilot = pilotIdentity();
  const t = await db.get<Token>('lost-answer');
  const now = Math.floor(Date.now() / 1000);
  // As if our claim write landed and its answer was cut: locked by us, with a lease our heartbeat renews.
  await db.put({ ...t, lock: now, picas: { attempt: 'attempt_answer_lost', pilot: pilot.pilotId, host: pilot.hostname, claimed_at: now, lease_until: now + 300 } });
  const ran: string[] = [];
  const summary = await runPilot({ processTask: (tok) => { ran.push(tok._id); return { exitCode: 0 }; } }, { db, pilot, leaseSeconds: 300 });
  assert.deepEqual(ran.sort(), ['lost-answer', 'normal']);
  assert.equal(summary.done, 2);
  assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 2, error: 0 });
  await db.destroy();
});
