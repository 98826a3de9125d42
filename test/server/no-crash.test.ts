import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownServerSkipReason } from '../helpers/couch.js';
import { useOwnServer } from './fixture.js';

// Requests that used to end the embedded server's process (express-pouchdb 4.2 / PouchDB): each is sent,
// must get a CouchDB-style answer, and the same server must still serve afterwards.
describe('embedded server survives requests that used to kill it', { skip: ownServerSkipReason() }, () => {
  const s = useOwnServer();

  it('anonymous PUT /<newdb> once an admin exists: 401, no database, server serves', async () => {
    const r = await s.req('PUT', '/anon-made-db', { auth: null });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'unauthorized');
    await s.alive();
    assert.equal((await s.req('GET', '/anon-made-db')).status, 404);
  });

  it('GET _changes?filter=_selector without a selector: 400, server serves', async () => {
    await s.req('PUT', '/sel');
    await s.req('PUT', '/sel/a', { body: { type: 'token' } });
    await s.req('PUT', '/sel/b', { body: { type: 'log' } });
    const r = await s.req('GET', '/sel/_changes?filter=_selector');
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'bad_request');
    await s.alive();
    // With the selector in a POST body the filter works.
    const ok = await s.req('POST', '/sel/_changes?filter=_selector', { body: { selector: { type: 'token' } } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.results.map((c: { id: string }) => c.id), ['a']);
  });

  it('_changes with a filter naming a missing design document: 404, server serves', async () => {
    await s.req('PUT', '/flt');
    for (const feed of ['normal', 'longpoll', 'continuous']) {
      const r = await s.req('GET', `/flt/_changes?feed=${feed}&filter=nosuch/f`);
      assert.equal(r.status, 404, feed);
      assert.equal(r.body.error, 'not_found');
    }
    await s.req('PUT', '/flt/_design/d', { body: { filters: { other: 'function(doc){ return true; }' } } });
    const r = await s.req('GET', '/flt/_changes?filter=d/f');
    assert.equal(r.status, 404);
    await s.alive();
  });

  it('an error thrown later from design-document code is logged and the server keeps serving', async () => {
    await s.req('PUT', '/escape');
    await s.req('PUT', '/escape/x', { body: { n: 1 } });
    // A filter function gets the server's own objects, so it reaches the real process (PouchDB's vm is no
    // sandbox) and throws outside any promise or handler: the kind of error that ends a Node process.
    const filter = `function (doc, req) {
      var p = doc.constructor.constructor('return process')();
      p.nextTick(function () { throw new Error('thrown from a filter'); });
      p.nextTick(function () { p.constructor.constructor('return Promise')().reject(new Error('rejected from a filter')); });
      return true;
    }`;
    assert.equal((await s.req('PUT', '/escape/_design/bad', { body: { filters: { f: filter } } })).status, 201);
    const r = await s.req('GET', '/escape/_changes?filter=bad/f').catch(() => ({ status: 0 }));
    assert.ok([200, 500, 0].includes(r.status), `answered ${r.status}`);
    await new Promise((res) => setTimeout(res, 300));
    await s.alive();
  });

  it('a malformed JSON body is a 400, not a crash', async () => {
    await s.req('PUT', '/badjson');
    const r = await fetch(`${s.url}/badjson/_bulk_docs`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${s.admin.username}:${s.admin.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: '{"docs": [',
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(r.status, 400);
    await s.alive();
  });
});
