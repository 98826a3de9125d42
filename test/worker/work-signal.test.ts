import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { CouchServer } from '../../src/couch/server.js';
import { runPilot } from '../../src/worker/run-pilot.js';
import { WorkSignal } from '../../src/worker/work-signal.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';
import type { Database } from '../../src/couch/database.js';
import { startRequestCensus } from '../../bench/lib/request-census.js';

/**
 * A waiting pilot (--wait) sleeps on the database's changes feed: it costs the server next to no
 * requests while nothing happens and starts a token pushed after it began waiting long before its
 * fallback look at the views. Requests are counted by a loopback relay in front of the real server.
 */
const ctx = useTestDb('worksignal');
let n = 0;

async function freshDb(): Promise<Database> {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  return db;
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !cond();) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a waiting pilot sends (almost) nothing while idle and starts a token pushed after it began waiting, before its fallback poll', async () => {
  const db = await freshDb();
  const census = await startRequestCensus(ctx.server.url);
  const relayed = new CouchServer({ url: census.url, username: ctx.server.username, password: ctx.server.password });
  const stop = new AbortController();
  const lines: string[] = [];
  const ran: string[] = [];
  try {
    const pilot = runPilot({ processTask: (t) => { ran.push(t._id); return { exitCode: 0 }; } }, {
      db: relayed.db(db.name), heartbeat: false, signal: stop.signal, log: (l) => lines.push(l),
      // Fallback look at the views only every 10 minutes: a token started well before that was woken by the feed.
      wait: { maxPollMs: 600_000 },
    });
    await until('the pilot to wait on the changes feed', () => lines.some((l) => /changes feed/.test(l)));
    // Let the first stretch's extra look at the views pass, then count over three idle seconds.
    await new Promise((r) => setTimeout(r, 500));
    const before = total(census.counts);
    await new Promise((r) => setTimeout(r, 3_000));
    const idle = total(census.counts) - before;
    assert.ok(idle <= 1, `at most the one long poll in 3 idle seconds, got ${idle}: ${JSON.stringify([...census.counts])}`);
    assert.ok([...census.counts.keys()].some((k) => k.startsWith('POST /{db}/_changes')), 'the pilot waits on _changes');

    await db.put(newToken({ _id: 'late' }));
    await until('the pushed token to run', () => ran.includes('late'), 60_000);
    stop.abort();
    const summary = await pilot;
    assert.equal(summary.done, 1);
    const t = await db.get<Token>('late');
    assert.ok(t.done > 0 && t.lock > 0, 'the token was finished');
  } finally {
    stop.abort();
    await relayed.close();
    await census.close();
    await db.destroy();
  }
});

test('WorkSignal: a pushed or reset token wakes it; heartbeats and results do not; the stop ends a wait at once', async () => {
  const db = await freshDb();
  await db.bulkDocs([newToken({ _id: 'running' })]);
  const signal = new WorkSignal(db);
  const stop = new AbortController();
  try {
    // The first wait of a stretch only learns where the feed is, and asks for one more look at the views.
    assert.equal(await signal.wait(10_000, stop.signal), 'change');
    // Writes that are no new work: a heartbeat and a token taken by a pilot (lock set).
    const running = await db.get<Token>('running');
    await db.bulkDocs([{ _id: 'picas-pilot-x', type: 'picas-pilot', alive_until: 1 }, { ...running, lock: 123 }]);
    assert.equal(await signal.wait(1_500, stop.signal), 'timeout');
    // A token given back (lock 0 again) is new work.
    const taken = await db.get<Token>('running');
    const waiting = signal.wait(60_000, stop.signal);
    await new Promise((r) => setTimeout(r, 200));
    await db.put({ ...taken, lock: 0 });
    assert.equal(await waiting, 'change');
    // A new token pushed during no wait is not missed: the next wait starts where the last ended.
    await db.put(newToken({ _id: 'pushed-between' }));
    assert.equal(await signal.wait(60_000, stop.signal), 'change');
    // A busy database (writes that are no new work, as other pilots' heartbeats): the wait comes back at
    // its end (a generous bound), having sent one request for the whole wait (long polls had to be sent
    // again and again: CouchDB restarts a long poll's timeout at each change, filtered out or not).
    let n = 0;
    const busy = setInterval(() => { void db.put({ _id: `hb-${n++}`, type: 'picas-pilot' }).catch(() => {}); }, 200);
    try {
      const t0 = Date.now();
      const before = db.server.stats.requests;
      assert.equal(await signal.wait(3_000, stop.signal), 'timeout');
      assert.ok(Date.now() - t0 < 20_000, `a wait of 3 s on a busy database came back after ${Date.now() - t0} ms`);
      assert.ok(n >= 5, `the database was busy (${n} writes)`);
      assert.equal(db.server.stats.requests - before - n, 1, 'one feed request for the whole wait');
    } finally {
      clearInterval(busy);
    }

    // The stop ends a long wait.
    const long = signal.wait(600_000, stop.signal);
    setTimeout(() => stop.abort(), 200);
    assert.equal(await long, 'stopped');
  } finally {
    stop.abort();
    await db.destroy();
  }
});
