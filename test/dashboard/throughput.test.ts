import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { startHttpProxy } from '../helpers/http-proxy.js';
import { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { ThroughputChart, type Throughput } from '../../src/dashboard/throughput.js';
import { ensureDesignDoc, lockToken, markDone, newToken, type Token } from '../../src/tokens/index.js';
import { STATUS_DESIGN } from '../../src/status/design.js';

const ctx = useTestDb('dash-throughput');

/** A loopback proxy that notes the `endkey` of every read of `picas-status/finished` and how many rows it answered. */
async function recordingProxy(target: string) {
  const reads: { endkey: number; rows: number }[] = [];
  const proxy = await startHttpProxy(target, {
    onAnswer: (url, status, body) => {
      if (!url.includes('/_design/picas-status/_view/finished') || status !== 200) return;
      const endkey = new URL(url, 'http://x').searchParams.get('endkey');
      reads.push({ endkey: Number(JSON.parse(endkey ?? 'NaN')), rows: (JSON.parse(body.toString()) as { rows: unknown[] }).rows.length });
    },
  });
  return { ...proxy, reads };
}

const finished = (id: string, at: number, exitCode = 0): Token => ({ ...markDone(lockToken(newToken({ _id: id }), { now: at - 5 }), at), exit_code: exitCode });
/** Tokens finish; then a status read brings the status views up to date, as the dashboard's refresh does before its chart read. */
async function finishAndIndex(db: Database, tokens: Token[]): Promise<void> {
  await db.bulkDocs(tokens);
  await db.view('picas-status', 'finished', { limit: 0 });
}

/** A database of its own with the status views (the file's database holds the first test's tokens, finished at the same times). */
async function ownDb(suffix: string): Promise<Database> {
  const db = ctx.couch.db(`${ctx.db.name}-${suffix}`);
  await db.create();
  await ensureDesignDoc(db, STATUS_DESIGN);
  return db;
}

const sum = (chart: Throughput | undefined, k: 'done' | 'error') => (chart?.points ?? []).reduce((n, p) => n + p[k], 0);

test('the throughput chart counts finished tokens per interval, and later reads take only what finished since', async () => {
  const db = ctx.db;
  await ensureDesignDoc(db, STATUS_DESIGN);
  const now = Math.floor(Date.now() / 1000);
  // 40 tokens over the last 20 minutes, every fifth failed; one finished two hours ago (out of the chart).
  await finishAndIndex(db, [
    ...Array.from({ length: 40 }, (_, i) => finished(`t${i}`, now - 30 * i, i % 5 === 0 ? 1 : 0)),
    finished('old', now - 7200),
  ]);
  const proxy = await recordingProxy(ctx.server.url);
  const couch = new CouchServer({ url: proxy.url, username: ctx.server.username, password: ctx.server.password });
  try {
    const chart = new ThroughputChart();
    const first = await chart.read(couch.db(db.name), now);
    assert.equal(first?.bucketSeconds, 30, 'twenty minutes in 30 s intervals');
    assert.equal(first?.complete, true);
    assert.equal(sum(first, 'done'), 32);
    assert.equal(sum(first, 'error'), 8);
    assert.equal(proxy.reads[0]!.endkey, now - 3600, 'the first read takes the last hour');

    // Three more finish; one of them a few seconds "late" (its finish time before the last read's newest).
    await finishAndIndex(db, [finished('n1', now + 5), finished('n2', now + 8, 2), finished('n3', now - 4)]);
    const second = await chart.read(couch.db(db.name), now + 10);
    assert.equal(sum(second, 'done'), 34, 'the new ones are counted once, the old ones kept');
    assert.equal(sum(second, 'error'), 9);
    const read = proxy.reads[1]!;
    assert.ok(read.endkey >= now - 30, `the second read starts near the last one (endkey ${read.endkey}, now ${now})`);
    assert.ok(read.rows < 10, `the second read took ${read.rows} rows, not the hour's 43`);

    // Nothing new: the chart is unchanged, and the intervals that dropped out of the window are gone.
    const third = await chart.read(couch.db(db.name), now + 20);
    assert.equal(sum(third, 'done') + sum(third, 'error'), 43);
    const later = await chart.read(couch.db(db.name), now + 3600 + 30);
    assert.equal(sum(later, 'done') + sum(later, 'error'), 0, 'an hour after the last finished, the chart is empty');
  } finally {
    await couch.close();
    await proxy.close();
  }
});

test('more finished than one read takes: the chart starts from what it read and says it is not complete', async () => {
  const db = await ownDb('truncated');
  const now = Math.floor(Date.now() / 1000);
  // 80 tokens, one every 10 s over the last 800 s; a read takes 50 rows at most.
  await finishAndIndex(db, Array.from({ length: 80 }, (_, i) => finished(`b${i}`, now - 10 * i - 1)));
  const chart = new ThroughputChart(50);
  const first = await chart.read(db, now);
  assert.equal(first?.complete, false);
  const shown = sum(first, 'done');
  assert.ok(shown <= 50 && shown >= 40, `the chart shows what the read took, whole intervals only: ${shown}`);
  const oldestShown = Math.min(...first!.points.map((p) => p.t));
  assert.ok(oldestShown >= now - 500, `no partly read interval is shown (oldest ${now - oldestShown} s ago)`);
  // Later reads take only the new ones and keep the rest.
  await finishAndIndex(db, [finished('c1', now + 3)]);
  const second = await chart.read(db, now + 5);
  assert.equal(second?.complete, false);
  assert.equal(sum(second, 'done'), shown + 1);
  await db.destroy();
});

test('while the index catches up nothing is settled: a token indexed late still lands in its interval', async () => {
  const db = await ownDb('lagging');
  const now = Math.floor(Date.now() / 1000);
  await finishAndIndex(db, [finished('a', now - 300), finished('b', now - 20)]);
  const lagging = new ThroughputChart();
  const current = new ThroughputChart();
  assert.equal(sum(await lagging.read(db, now, { indexCurrent: false }), 'done'), 2);
  assert.equal(sum(await current.read(db, now), 'done'), 2);
  // A token that finished four minutes ago reaches the index only now (it was behind a large push).
  await finishAndIndex(db, [finished('late', now - 240)]);
  assert.equal(sum(await lagging.read(db, now + 5, { indexCurrent: false }), 'done'), 3, 'counted: nothing was settled while the index lagged');
  assert.equal(sum(await current.read(db, now + 5), 'done'), 2, 'with the index current, intervals older than the margin are settled and not read again');
  await db.destroy();
});
