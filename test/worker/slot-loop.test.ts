import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { assemblePilot } from '../../src/worker/pilot-parts.js';
import { paceKeeper, runSlots } from '../../src/worker/slot-loop.js';
import { WorkPace } from '../../src/worker/work-pace.js';
import { TokenFeed } from '../../src/worker/token-feed.js';
import { releaseAttempts } from '../../src/worker/release.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { ensureDesignDocs, newToken, countStates } from '../../src/tokens/index.js';
import type { Database } from '../../src/couch/database.js';

/** The slot loop: slots take, run and hand in tokens until a stop condition or the idle policy ends them. */
const ctx = useTestDb('slotloop');
let n = 0;
async function freshDb(count: number): Promise<Database> {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(Array.from({ length: count }, (_, i) => newToken({ _id: `t${i}` })));
  return db;
}

test('slots run tokens side by side (never more than the slots), until a stop condition holds', async () => {
  const db = await freshDb(10);
  try {
    let running = 0;
    let most = 0;
    const parts = assemblePilot({
      processTask: async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return { exitCode: 0 };
      },
    }, { db, slots: 3, batchSize: 5, maxTasks: 7, heartbeat: false });
    await runSlots(parts);
    await parts.run.batcher?.flush();
    await Promise.allSettled([...parts.run.background]);
    await parts.giveBack(parts.feed.drain(), 'test');
    parts.detach();
    assert.equal(parts.stops.reason, 'maxTasks');
    assert.equal(parts.run.summary.claimed, 7);
    assert.equal(most, 3);
    const counts = await countStates(db);
    assert.equal(counts.done, 7);
    assert.equal(counts.locked, 0, 'the unstarted rest went back');
  } finally {
    await db.destroy();
  }
});

test('the pace keeper gives back claimed tokens the pilot would not start soon', async () => {
  const db = await freshDb(5);
  try {
    const pilot = pilotIdentity();
    const feed = new TokenFeed(db, { pilot, batchSize: 5 });
    const first = await feed.next();
    assert.ok(first);
    assert.equal(feed.queued, 4);
    let now = 0;
    const pace = new WorkPace({ slots: 1, maxBatch: 5, batchSeconds: 2, now: () => now });
    pace.started(0);
    now += 5_000;
    pace.ended(0);
    pace.started(0); // the slot runs `first`, and tokens take 5 s here
    const stopAll = new AbortController();
    let given: string[] = [];
    const stop = paceKeeper({ feed, pace, run: { stopAll: stopAll.signal } as never }, async (tokens) => {
      given = (await releaseAttempts(db, tokens.map((t) => ({ id: t._id, attempt: t.picas.attempt })))).released;
    }, 10);
    for (let i = 0; i < 200 && given.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop();
    assert.equal(given.length, 4);
    assert.equal(feed.queued, 0);
    assert.deepEqual(await countStates(db), { todo: 4, locked: 1, done: 0, error: 0 });
  } finally {
    await db.destroy();
  }
});
