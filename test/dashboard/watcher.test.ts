import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { startHttpProxy } from '../helpers/http-proxy.js';
import { CouchServer } from '../../src/couch/server.js';
import { StatusWatcher } from '../../src/dashboard/watcher.js';
import { ensureDesignDocs, ensureDesignDoc, lockToken, markDone, newToken } from '../../src/tokens/index.js';
import { STATUS_DESIGN } from '../../src/status/design.js';

const ctx = useTestDb('dash-watcher');
const CHART_DELAY_MS = 4_000;

/** The chart's read of the view (an hour, up to 20,000 rows) is held CHART_DELAY_MS, as a busy farm's takes its time; status's own rate read takes 1,000 at most. */
const slowChartRead = (url: string) => (url.includes('/_design/picas-status/_view/finished') && url.includes('limit=20000') ? CHART_DELAY_MS : 0);

test('the dashboard\'s first status does not wait for the throughput chart; the chart follows', { timeout: 60_000 }, async () => {
  const db = ctx.db;
  await ensureDesignDocs(db);
  await ensureDesignDoc(db, STATUS_DESIGN);
  const now = Math.floor(Date.now() / 1000);
  await db.bulkDocs([
    ...Array.from({ length: 5 }, (_, i) => ({ ...markDone(lockToken(newToken({ _id: `done_${i}` }), { now: now - 60 }), now - 10 * i), exit_code: 0 })),
    newToken({ _id: 'todo_0' }),
  ]);
  const proxy = await startHttpProxy(ctx.server.url, { holdMs: slowChartRead });
  const couch = new CouchServer({ url: proxy.url, username: ctx.server.username, password: ctx.server.password });
  const watcher = new StatusWatcher(couch.db(db.name), 'tester');
  try {
    const t0 = Date.now();
    const first = await watcher.current();
    const waited = Date.now() - t0;
    assert.ok(waited < CHART_DELAY_MS, `the first status took ${waited} ms: it waited for the chart`);
    assert.equal(first.done, 5);
    assert.equal(first.todo, 1);
    assert.equal(first.throughput, undefined, 'no chart yet');
    assert.ok(watcher.charting, 'the chart is being read');
    await watcher.charting;
    const points = watcher.latest?.throughput?.points ?? [];
    assert.equal(points.reduce((n, p) => n + p.done, 0), 5, 'the chart arrived with the five finished tokens');
  } finally {
    await watcher.stop();
    await couch.close();
    await proxy.close();
  }
});
