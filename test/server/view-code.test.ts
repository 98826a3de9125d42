import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownServerSkipReason } from '../helpers/couch.js';
import { useOwnServer } from './fixture.js';

// The embedded server compiles each view function once and reuses its context (view-code-contexts.ts):
// views must still give exactly CouchDB's answers, per document, with JS and built-in reduces.
describe('embedded server view functions', { skip: ownServerSkipReason() }, () => {
  const s = useOwnServer();

  it('map, JS reduce, _sum, rereduce and a map that throws on one document', async () => {
    await s.req('PUT', '/views');
    const docs = [
      { _id: 'a', type: 'token', lock: 0, done: 0, exit_code: '' },
      { _id: 'b', type: 'token', lock: 5, done: 0, exit_code: '' },
      { _id: 'c', type: 'token', lock: 5, done: 6, exit_code: 0 },
      { _id: 'd', type: 'token', lock: 99, done: 99, exit_code: '' },
      { _id: 'e', type: 'log', lock: 0, done: 0 },
      { _id: 'f', type: 'token', lock: 0, done: 0, boom: true },
    ];
    for (let i = 0; i < 40; i++) docs.push({ _id: `n${i}`, type: 'token', lock: 0, done: 0, exit_code: '' });
    assert.equal((await s.req('POST', '/views/_bulk_docs', { body: { docs } })).status, 201);
    const state = `var s = doc.lock == 0 && doc.done == 0 ? "todo" : doc.lock > 0 && doc.done == 0 ? "locked"
      : parseInt(doc.exit_code) == 0 ? "done" : "error";`;
    const ddoc = {
      views: {
        todo: { map: 'function (doc) { if (doc.type == "token" && doc.lock == 0 && doc.done == 0) emit(doc._id, doc._id); }' },
        total: { map: `function (doc) { if (doc.type == "token") { ${state} emit(s, 1); } }`, reduce: '_sum' },
        js: { map: `function (doc) { if (doc.type == "token") { ${state} emit(s, doc._id.length); } }`, reduce: 'function (keys, values, rereduce) { return sum(values); }' },
        throws: { map: 'function (doc) { if (doc.boom) throw new Error("bad doc"); emit(doc._id, null); }' },
      },
    };
    assert.equal((await s.req('PUT', '/views/_design/Monitor', { body: ddoc })).status, 201);
    const todo = await s.req('GET', '/views/_design/Monitor/_view/todo');
    assert.equal(todo.body.rows.length, 42);
    assert.deepEqual(todo.body.rows[0], { id: 'a', key: 'a', value: 'a' });
    const total = await s.req('GET', '/views/_design/Monitor/_view/total?group=true');
    assert.deepEqual(total.body.rows, [{ key: 'done', value: 1 }, { key: 'error', value: 1 }, { key: 'locked', value: 1 }, { key: 'todo', value: 42 }]);
    const js = await s.req('GET', '/views/_design/Monitor/_view/js');
    assert.equal(js.body.rows[0].value, 5 * 1 + 10 * 2 + 30 * 3); // ids a,b,c,d,f (e is no token); n0..n9; n10..n39
    const thrown = await s.req('GET', '/views/_design/Monitor/_view/throws');
    assert.equal(thrown.body.rows.length, docs.length - 1);
    // Changing a document moves it between views.
    const b = (await s.req('GET', '/views/b')).body;
    await s.req('PUT', '/views/b', { body: { ...b, done: 7, exit_code: 3 } });
    const after = await s.req('GET', '/views/_design/Monitor/_view/total?group=true');
    assert.deepEqual(after.body.rows.map((r: { key: string; value: number }) => [r.key, r.value]), [['done', 1], ['error', 2], ['todo', 42]]);
  });
});
