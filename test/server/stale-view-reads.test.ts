import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';

const ctx = useTestDb('stale-reads');

/**
 * `update=false` / `update=lazy` must answer from the index as it is while someone else's query is
 * bringing that index up to date. On the embedded server such reads used to queue behind the whole
 * update (PouchDB runs a view's reads and updates through one queue): after a push of 20,000 tokens
 * `picas status` waited 6 s instead of saying "catching up". An answer that waited can only show the
 * index before the update or after all of it; one that did not wait shows it part-way (PouchDB writes
 * the index 50 documents at a time). On the embedded server the test asks for a part-way answer; on
 * another server (CouchDB reads a committed snapshot of its own choosing) it checks the answers only.
 */
test('update=false and update=lazy answer while another query updates the index', async () => {
  const db = ctx.db;
  await db.put({
    _id: '_design/d', language: 'javascript',
    views: { all: { map: 'function(doc) { if (doc.n !== undefined) emit(doc.n, null); }' }, counted: { map: 'function(doc) { if (doc.n !== undefined) emit(doc.n, 1); }', reduce: '_count' } },
  });
  await db.bulkDocs([{ _id: 'first', n: -1 }]);
  assert.equal((await db.view('d', 'all')).total_rows, 1, 'the index is built');
  const M = 4_000;
  for (let i = 0; i < M; i += 1_000) await db.bulkDocs(Array.from({ length: 1_000 }, (_, j) => ({ _id: `t${String(i + j).padStart(5, '0')}`, n: i + j })));

  let updated = false;
  const updating = db.view('d', 'all', { limit: 1 }).then((r) => { updated = true; return r; });
  const seen: number[] = [];
  for (let i = 0; i < 2_000 && !updated; i++) {
    const r = await db.view('d', 'all', { limit: 3, update: i % 2 ? 'lazy' : 'false' });
    assert.ok(typeof r.total_rows === 'number' && r.total_rows >= 1 && r.total_rows <= M + 1, `a count between the old and the new index: ${r.total_rows}`);
    assert.ok(r.rows.length <= 3);
    if (!updated) seen.push(r.total_rows);
  }
  assert.equal((await updating).total_rows, M + 1, 'the update itself completes');
  for (let k = 1; k < seen.length; k++) assert.ok(seen[k]! >= seen[k - 1]!, `answers never go back: ${seen.join(',')}`);
  if (ctx.server.owned) {
    const partWay = seen.filter((n) => n > 1 && n < M + 1);
    assert.ok(partWay.length > 0, `some answer came while the update was in progress (seen: ${[...new Set(seen)].join(', ')})`);
  }
  // Reduce reads with update=false take the ordinary path and still answer.
  const counted = await db.view('d', 'counted', { update: 'false' });
  assert.ok(counted.rows.length === 0 || typeof counted.rows[0]!.value === 'number', JSON.stringify(counted.rows));
  assert.equal((await db.view('d', 'counted')).rows[0]!.value, M + 1);
  // And an index never read before answers update=false with nothing yet, then everything once built.
  await db.put({ _id: '_design/e', language: 'javascript', views: { all: { map: 'function(doc) { if (doc.n !== undefined) emit(doc._id, null); }' } } });
  const fresh = await db.view('e', 'all', { update: 'false', limit: 0 });
  assert.ok(fresh.total_rows! >= 0 && fresh.total_rows! <= M + 1, `a new index: ${fresh.total_rows}`);
  assert.equal((await db.view('e', 'all', { limit: 0 })).total_rows, M + 1);
});
