import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { parseContinuous } from '../../src/worker/work-signal.js';

const ctx = useTestDb('shared-feeds');

// The embedded server serves every open feed that needs no document from one live feed per database
// (src/server/changes-hub.ts); each must still see exactly its own changes, as on CouchDB.
test('many open _doc_ids feeds and an unfiltered one: each sees its own document\'s change, once', async () => {
  const db = ctx.db;
  const since = (await db.changes({ since: 'now', limit: 1 })).last_seq;
  const ids = Array.from({ length: 12 }, (_, i) => `feed-doc-${i}`);
  const feeds = ids.map((id) => db.request<{ results: { id: string }[] }>('POST', '/_changes', {
    query: { feed: 'longpoll', since, limit: 1, filter: '_doc_ids', timeout: 30_000 }, body: { doc_ids: [id] }, timeoutMs: 60_000,
  }));
  const all = db.request<{ results: { id: string }[] }>('GET', '/_changes', { query: { feed: 'longpoll', since, timeout: 30_000 }, timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 300));
  await db.bulkDocs([{ _id: 'unwatched' }, ...[...ids].reverse().map((_id) => ({ _id }))]);
  const answers = await Promise.all(feeds);
  answers.forEach((a, i) => assert.deepEqual(a.body.results.map((r) => r.id), [ids[i]], `feed ${i}`));
  // Unfiltered: woken by the write (on CouchDB, shards answer in their own order).
  const seen = (await all).body.results.map((r) => r.id);
  assert.ok(seen.length >= 1 && seen.every((id) => id === 'unwatched' || ids.includes(id)), JSON.stringify(seen));
});

test('a feed from an older sequence gets the changes made before it opened, then live ones, none twice', async () => {
  const db = ctx.db;
  const since = (await db.changes({ since: 'now', limit: 1 })).last_seq;
  const first = await db.put({ _id: 'early' });
  const open = db.request<Buffer>('POST', '/_changes', {
    query: { feed: 'continuous', since, limit: 3, filter: '_doc_ids', heartbeat: 1_000 }, body: { doc_ids: ['early', 'late'] }, binary: true, timeoutMs: 60_000,
  });
  await new Promise((r) => setTimeout(r, 300));
  await db.put({ _id: 'early', _rev: first.rev, again: true });
  await db.put({ _id: 'late' });
  const rows = parseContinuous((await open).body).results as { id: string; changes: { rev: string }[] }[];
  assert.deepEqual(rows.map((r) => r.id), ['early', 'early', 'late']);
  assert.notEqual(rows[0]!.changes[0]!.rev, rows[1]!.changes[0]!.rev, 'the change before, then the new revision');
});
