import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { ensureDesignDocs, ensureDesignDoc, conditionalMonitor, MONITOR } from '../../src/tokens/design.js';
import { tokenState, type TokenState } from '../../src/tokens/state.js';
import { countStates, countStatesByOverview } from '../../src/tokens/status.js';
import { DatabaseNotFoundError } from '../../src/couch/errors.js';

const ctx = useTestDb('views');

/**
 * Written from REFERENCE.md section 1, independently of the view code: each row a token's fields and the
 * state the views must give it (undefined: in no view).
 */
const TABLE: [string, Record<string, unknown>, TokenState | undefined][] = [
  ['fresh', { lock: 0, done: 0, exit_code: '' }, 'todo'],
  ['string zeros', { lock: '0', done: '0', exit_code: '' }, 'todo'],
  ['empty-string lock', { lock: '', done: 0, exit_code: '' }, 'todo'],
  ['locked', { lock: 1700000000, done: 0, exit_code: '' }, 'locked'],
  ['done ok', { lock: 1700000000, done: 1700000100, exit_code: 0 }, 'done'],
  ['done ok as string', { lock: 1700000000, done: 1700000100, exit_code: '0' }, 'done'],
  ['done failed', { lock: 1700000000, done: 1700000100, exit_code: 1 }, 'error'],
  ['done, exit code never set', { lock: 1700000000, done: 1700000100, exit_code: '' }, 'error'],
  ['sentinel 99/99', { lock: 99, done: 99, exit_code: '' }, 'error'],
  ['sentinel 99/99 with exit 0', { lock: 99, done: 99, exit_code: 0 }, 'done'],
  ['sentinel with exit 3', { lock: 99, done: 99, exit_code: 3 }, 'error'],
  ['done but never locked', { lock: 0, done: 1700000100, exit_code: 0 }, undefined],
  ['wrong type', { type: 'task', lock: 0, done: 0, exit_code: '' }, undefined],
];

test('Monitor views put tokens in every state where REFERENCE.md says, and tokenState agrees', async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.bulkDocs(TABLE.map(([name, fields], i) => ({ _id: `t${i}`, type: 'token', name, ...fields })));
  const seen: Record<string, TokenState[]> = {};
  for (const state of ['todo', 'locked', 'done', 'error'] as TokenState[]) {
    const rows = (await ctx.db.view('Monitor', state)).rows;
    for (const row of rows) (seen[String(row.id)] ??= []).push(state);
    for (const row of rows) assert.equal(row.key, row.id, 'views emit key _id');
  }
  TABLE.forEach(([name, fields, expected], i) => {
    const got = seen[`t${i}`] ?? [];
    assert.deepEqual(got, expected ? [expected] : [], `${name}: views`);
    assert.equal(tokenState({ type: 'token', ...fields }), expected, `${name}: tokenState`);
  });
  const counts = await countStates(ctx.db);
  const want = { todo: 0, locked: 0, done: 0, error: 0 };
  for (const [, , s] of TABLE) if (s) want[s]++;
  assert.deepEqual(counts, want);
});

test('creating design documents over a Python-style Monitor never rewrites its views, only adds missing ones', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-py`);
  await db.create();
  try {
    const pythonTodo = 'function(doc) { if(doc.type == "token") { if(doc.lock == 0 && doc.done == 0) { emit(doc._id, doc._id); } } }';
    await db.put({ _id: '_design/Monitor', language: 'javascript', views: { todo: { map: pythonTodo } } });
    const r = await ensureDesignDoc(db, MONITOR);
    assert.equal(r.created, false);
    assert.deepEqual(r.addedViews.sort(), ['done', 'error', 'locked', 'overview_total']);
    const ddoc = await db.get<{ _id: string; _rev?: string; views: Record<string, { map: string }> }>('_design/Monitor');
    assert.equal(ddoc.views.todo!.map, pythonTodo, 'the existing view is untouched');
    const rev = ddoc._rev;
    const again = await ensureDesignDoc(db, MONITOR);
    assert.deepEqual(again.addedViews, []);
    assert.equal((await db.get('_design/Monitor'))._rev, rev, 'a complete design document is not written again');
    const all = await ensureDesignDocs(db);
    assert.ok(all.find((x) => x.name === 'picas')!.created, "picas's own views go in _design/picas");
    assert.deepEqual(Object.keys((await db.get<any>('_design/Monitor')).views).sort(), ['done', 'error', 'locked', 'overview_total', 'todo']);
  } finally {
    await db.destroy();
  }
});

test('a conditional Monitor (like MultiCore) sees only tokens matching its condition', async () => {
  await ensureDesignDoc(ctx.db, conditionalMonitor('MultiCore', 'doc.cores == 4'));
  await ctx.db.bulkDocs([
    { _id: 'c4', type: 'token', lock: 0, done: 0, cores: 4, exit_code: '' },
    { _id: 'c1', type: 'token', lock: 0, done: 0, cores: 1, exit_code: '' },
  ]);
  const todo = (await ctx.db.view('MultiCore', 'todo')).rows.map((r) => r.id);
  assert.deepEqual(todo, ['c4']);
  assert.equal((await countStates(ctx.db, 'MultiCore')).todo, 1);
});

test('countStates reads the state views\' sizes, and falls back to overview_total where they are missing', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-counts`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    const tokens = [
      ...Array.from({ length: 5 }, (_, i) => ({ _id: `t${i}`, lock: 0, done: 0 })),
      ...Array.from({ length: 3 }, (_, i) => ({ _id: `l${i}`, lock: 17, done: 0 })),
      ...Array.from({ length: 4 }, (_, i) => ({ _id: `d${i}`, lock: 17, done: 18, exit_code: 0 })),
      ...Array.from({ length: 2 }, (_, i) => ({ _id: `e${i}`, lock: 17, done: 18, exit_code: 1 })),
    ].map((t) => ({ type: 'token', exit_code: '', ...t }));
    await db.bulkDocs([...tokens, { _id: 'not-a-token', lock: 0, done: 0 }]);
    const want = { todo: 5, locked: 3, done: 4, error: 2 };
    assert.deepEqual(await countStates(db), want);
    assert.deepEqual(await countStatesByOverview(db), want, 'the same counts as overview_total');
    const clustered = /^\d+-/.test(String((await db.info()).update_seq));
    const before = db.server.stats.requests;
    await countStates(db);
    // PouchDB: the database's sequence (is an index catching up?), four size queries and the changes since
    // (none). CouchDB 2+ (sequences `N-opaque`): the database's sequence, the design document's index state
    // (pending changes) and overview_total grouped by state (one index, reduced in its b-tree).
    assert.equal(db.server.stats.requests - before, clustered ? 3 : 6, 'bounded reads, one snapshot');
    // A design document with only overview_total (older or hand-made): the fallback gives the counts.
    const overviewOnly = { _id: '_design/OverviewOnly', language: 'javascript', views: { overview_total: (await db.get<{ _id: string; views: Record<string, unknown> }>('_design/Monitor')).views.overview_total } };
    await db.put(overviewOnly);
    assert.deepEqual(await countStates(db, 'OverviewOnly'), want);
    await assert.rejects(countStates(ctx.couch.db(`${ctx.db.name}-missing`)), DatabaseNotFoundError);
  } finally {
    await db.destroy();
  }
});
