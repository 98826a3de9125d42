import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownServerSkipReason, spawnEmbeddedServer } from '../helpers/couch.js';
import { useOwnServer } from './fixture.js';

/**
 * Behaviour of the embedded server beyond the recorded corpus: what CouchDB's replicator and PouchDB's HTTP
 * client need (multipart `open_revs`, `/db/` with a slash), big integers through every way out, honest
 * 501s for what it does not do, and view indexes rebuilt once when their key format changed.
 */
async function text(url: string, path: string, auth: { username: string; password: string }, init: RequestInit = {}) {
  const res = await fetch(url + path, {
    ...init,
    headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`, ...(init.headers as Record<string, string> ?? {}) },
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('embedded server: CouchDB behaviour outside the corpus', { skip: ownServerSkipReason() }, () => {
  const s = useOwnServer();
  const get = (path: string, init: RequestInit = {}) => text(s.url, path, s.admin, init);
  const json = { 'content-type': 'application/json' };

  it('open_revs with Accept: multipart/mixed (CouchDB\'s replicator) answers one part per revision, attachments inline', async () => {
    await get('/mp', { method: 'PUT' });
    const rev = JSON.parse((await get('/mp/d', { method: 'PUT', body: '{"n":1}', headers: json })).body).rev;
    const rev2 = JSON.parse((await get(`/mp/d/log.txt?rev=${rev}`, { method: 'PUT', body: 'the log', headers: { 'content-type': 'text/plain' } })).body).rev;
    const r = await get(`/mp/d?revs=true&latest=true&open_revs=${encodeURIComponent(JSON.stringify([rev2, '9-ffffffffffffffffffffffffffffffff']))}`, { headers: { accept: 'multipart/mixed' } });
    assert.equal(r.status, 200);
    const boundary = /boundary="([^"]+)"/.exec(r.type)?.[1];
    assert.ok(boundary, r.type);
    const parts = r.body.split(`--${boundary}`).slice(1, -1);
    assert.equal(parts.length, 2);
    const doc = JSON.parse(parts[0]!.split('\r\n\r\n')[1]!);
    assert.equal(doc._rev, rev2);
    assert.equal(Buffer.from(doc._attachments['log.txt'].data, 'base64').toString(), 'the log');
    assert.match(parts[1]!, /error="true"/);
    assert.deepEqual(JSON.parse(parts[1]!.split('\r\n\r\n')[1]!), { missing: '9-ffffffffffffffffffffffffffffffff' });
    // With Accept: application/json the same request is a JSON array.
    const j = await get(`/mp/d?open_revs=all`, { headers: { accept: 'application/json' } });
    assert.equal(JSON.parse(j.body)[0].ok._rev, rev2);
  });

  it('/db/ is /db (PouchDB\'s HTTP client creates databases with the slash)', async () => {
    assert.equal((await get('/slashed/', { method: 'PUT' })).status, 201);
    assert.equal(JSON.parse((await get('/slashed/')).body).db_name, 'slashed');
  });

  it('an integer beyond 2^53 leaves by every way out digit for digit: document, _all_docs, _changes, view, _bulk_get, _find', async () => {
    await get('/big', { method: 'PUT' });
    const body = '{"docs":[{"_id":"b1","type":"token","id64":18446744073709551615,"neg":-9223372036854775808}]}';
    assert.equal((await get('/big/_bulk_docs', { method: 'POST', body, headers: json })).status, 201);
    await get('/big/_design/v', { method: 'PUT', body: '{"views":{"ids":{"map":"function (doc) { emit(doc._id, doc); }"}}}', headers: json });
    const outs = [
      await get('/big/b1'),
      await get('/big/_all_docs?include_docs=true'),
      await get('/big/_changes?include_docs=true'),
      await get('/big/_design/v/_view/ids'),
      await get('/big/_bulk_get', { method: 'POST', body: '{"docs":[{"id":"b1"}]}', headers: json }),
      await get('/big/_find', { method: 'POST', body: '{"selector":{"type":"token"}}', headers: json }),
    ];
    for (const o of outs) {
      assert.match(o.body, /"id64":18446744073709551615[,}]/, o.body);
      assert.match(o.body, /"neg":-9223372036854775808[,}]/, o.body);
    }
  });

  it('doc_del_count of a database far ahead of what was counted is null ("not known yet") until counted, never a wrong number', async () => {
    await get('/many', { method: 'PUT' });
    const docs = Array.from({ length: 2500 }, (_, i) => ({ _id: `d${i}`, n: i }));
    const written = JSON.parse((await get('/many/_bulk_docs', { method: 'POST', body: JSON.stringify({ docs }), headers: json })).body) as { id: string; rev: string }[];
    const gone = written.slice(0, 3).map((r) => ({ _id: r.id, _rev: r.rev, _deleted: true }));
    assert.equal((await get('/many/_bulk_docs', { method: 'POST', body: JSON.stringify({ docs: gone }), headers: json })).status, 201);
    const seen: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      const info = JSON.parse((await get('/many')).body) as { doc_count: number; doc_del_count: number | null };
      assert.equal(info.doc_count, 2497);
      seen.push(info.doc_del_count);
      if (info.doc_del_count !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen[0], null, 'the first answer does not wait for 2,500 changes to be read');
    assert.equal(seen.at(-1), 3);
    assert.ok(seen.every((v) => v === null || v === 3), JSON.stringify(seen));
  });

  it('what it does not do is a 501 naming it, never a silent success', async () => {
    await get('/nothere', { method: 'PUT' });
    const replicate = await get('/_replicate', { method: 'POST', body: '{"source":"a","target":"b"}', headers: json });
    assert.equal(replicate.status, 501);
    assert.equal(JSON.parse(replicate.body).error, 'not_implemented');
    assert.match(JSON.parse(replicate.body).reason, /replication/);
    await get('/nothere/_design/d', { method: 'PUT', body: '{"shows":{"s":"function (doc, req) { return \\"x\\"; }"}}', headers: json });
    assert.equal((await get('/nothere/_design/d/_show/s')).status, 501);
    assert.equal((await get('/nothere/_purge', { method: 'POST', body: '{}', headers: json })).status, 501);
    const textIndex = await get('/nothere/_index', { method: 'POST', body: '{"index":{"fields":["a"]},"type":"text"}', headers: json });
    assert.equal(textIndex.status, 501);
  });
});

describe('view indexes made before keys were stored in ICU order are rebuilt', { skip: ownServerSkipReason() }, () => {
  it('a data folder without the marker loses its old index folders once, and views answer in ICU order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'picas-icu-'));
    const old = join(dataDir, 'tokens-mrview-0123456789abcdef');
    mkdirSync(old, { recursive: true });
    const server = await spawnEmbeddedServer({ dataDir });
    try {
      assert.equal(existsSync(old), false, 'the old index folder is gone');
      assert.equal(existsSync(join(dataDir, '_picas', 'view-keys-icu')), true);
      const auth = { username: server.username, password: server.password };
      await text(server.url, '/tokens', auth, { method: 'PUT' });
      await text(server.url, '/tokens/_bulk_docs', { ...auth }, { method: 'POST', body: JSON.stringify({ docs: ['B', 'a', 'b', 'A', '_x', '10', '9'].map((k, i) => ({ _id: `d${i}`, k })) }), headers: { 'content-type': 'application/json' } });
      await text(server.url, '/tokens/_design/k', auth, { method: 'PUT', body: '{"views":{"k":{"map":"function (doc) { emit(doc.k, null); }"}}}', headers: { 'content-type': 'application/json' } });
      const rows = JSON.parse((await text(server.url, '/tokens/_design/k/_view/k', auth)).body).rows as { key: string }[];
      assert.deepEqual(rows.map((r) => r.key), ['_x', '10', '9', 'a', 'A', 'b', 'B']);
      const range = JSON.parse((await text(server.url, `/tokens/_design/k/_view/k?startkey=${encodeURIComponent('"a"')}&endkey=${encodeURIComponent('"b"')}`, auth)).body).rows as { key: string }[];
      assert.deepEqual(range.map((r) => r.key), ['a', 'A', 'b']);
    } finally {
      server.child.ref();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
