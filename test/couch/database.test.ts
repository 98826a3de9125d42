import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testServer, useTestDb } from '../helpers/couch.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../src/couch/errors.js';
import { inlineAttachment } from '../../src/couch/database.js';
import { InvalidDocIdError } from '../../src/couch/server.js';

const ctx = useTestDb('database');

test('Database.create: 412 for an existing database unless ifMissing', async () => {
  await assert.rejects(ctx.db.create(), (e: unknown) => e instanceof PreconditionFailedError && e.status === 412 && e.error === 'file_exists');
  await ctx.db.create({ ifMissing: true });
  assert.equal(await ctx.db.exists(), true);
  assert.equal(await ctx.couch.db('picas-test-no-such-db-x').exists(), false);
});

test('Database.info names the database and counts documents', async () => {
  const info = await ctx.db.info();
  assert.equal(info.db_name, ctx.db.name);
  assert.equal(typeof info.doc_count, 'number');
});

test('put/get/find/rev/remove, and 409 as a ConflictError keeping status, error, reason', async () => {
  const a = await ctx.db.put({ _id: 'doc a/b?c', n: 1 });
  const got = await ctx.db.get('doc a/b?c');
  assert.equal(got.n, 1);
  assert.equal(await ctx.db.rev('doc a/b?c'), a.rev);
  await assert.rejects(ctx.db.put({ _id: 'doc a/b?c', n: 2 }), (e: unknown) =>
    e instanceof ConflictError && e.status === 409 && e.error === 'conflict' && typeof e.reason === 'string');
  const b = await ctx.db.put({ ...got, n: 2 });
  await assert.rejects(ctx.db.remove('doc a/b?c', a.rev), ConflictError);
  await ctx.db.remove('doc a/b?c', b.rev);
  assert.equal(await ctx.db.find('doc a/b?c'), undefined);
  await assert.rejects(ctx.db.get('doc a/b?c'), (e: unknown) => e instanceof NotFoundError && e.status === 404 && e.error === 'not_found');
  assert.equal(await ctx.db.rev('nope'), undefined);
});

test('post lets the server pick an id', async () => {
  const r = await ctx.db.post({ kind: 'posted' });
  assert.ok(r.id.length > 0);
  assert.equal((await ctx.db.get(r.id)).kind, 'posted');
});

test('bulkDocs returns one result per document, conflicts included; bulkDelete deletes', async () => {
  await ctx.db.put({ _id: 'bulk-2' });
  const results = await ctx.db.bulkDocs([{ _id: 'bulk-1', v: 1 }, { _id: 'bulk-2', v: 2 }, { _id: 'bulk-3', v: 3 }]);
  assert.equal(results.length, 3);
  assert.ok(results[0]!.ok && results[0]!.rev);
  assert.equal(results[1]!.error, 'conflict');
  assert.ok(results[2]!.ok);
  const del = await ctx.db.bulkDelete([{ _id: 'bulk-1', _rev: results[0]!.rev! }, { _id: 'bulk-3', _rev: '1-00000000000000000000000000000000' }]);
  assert.ok(del[0]!.ok);
  assert.equal(del[1]!.error, 'conflict');
  assert.equal(await ctx.db.find('bulk-1'), undefined);
  assert.ok(await ctx.db.find('bulk-3'));
});

test('bulkGet fetches many documents and reports missing ones', async () => {
  await ctx.db.bulkDocs([{ _id: 'bg-1' }, { _id: 'bg-2' }]);
  const docs = await ctx.db.bulkGet([{ id: 'bg-1' }, { id: 'bg-2' }, { id: 'bg-missing' }]);
  assert.equal((docs[0] as { _id: string })._id, 'bg-1');
  assert.equal((docs[1] as { _id: string })._id, 'bg-2');
  assert.ok('error' in docs[2]!);
});

test('inline attachments are written with the document and read back', async () => {
  await ctx.db.put({ _id: 'att', _attachments: { 'log.txt': inlineAttachment('hello\n') } });
  assert.equal((await ctx.db.getAttachment('att', 'log.txt')).toString(), 'hello\n');
  const withData = await ctx.db.get('att', { attachments: true });
  assert.equal(Buffer.from(withData._attachments!['log.txt']!.data!, 'base64').toString(), 'hello\n');
  const stubbed = await ctx.db.get('att');
  assert.equal(stubbed._attachments!['log.txt']!.stub, true);
  const rev = stubbed._rev!;
  const put = await ctx.db.putAttachment('att', rev, 'bin', Buffer.from([0, 1, 2, 255]), 'application/octet-stream');
  assert.deepEqual([...(await ctx.db.getAttachment('att', 'bin'))], [0, 1, 2, 255]);
  assert.notEqual(put.rev, rev);
});

test('views: the usual parameters (key, keys, range, limit, skip, descending, include_docs, reduce, group)', async () => {
  await ctx.db.put({
    _id: '_design/t',
    views: {
      byN: { map: 'function(doc){ if (typeof doc.n === "number") emit(doc.n, doc.g); }' },
      sumByG: { map: 'function(doc){ if (doc.g) emit(doc.g, doc.n); }', reduce: '_sum' },
    },
  });
  await ctx.db.bulkDocs([1, 2, 3, 4, 5].map((n) => ({ _id: `v${n}`, n, g: n % 2 ? 'odd' : 'even' })));
  assert.deepEqual((await ctx.db.view('t', 'byN', { key: 3 })).rows.map((r) => r.id), ['v3']);
  assert.deepEqual((await ctx.db.view('t', 'byN', { keys: [5, 1] })).rows.map((r) => r.id), ['v5', 'v1']);
  assert.deepEqual((await ctx.db.view('t', 'byN', { startkey: 2, endkey: 4 })).rows.map((r) => r.id), ['v2', 'v3', 'v4']);
  assert.deepEqual((await ctx.db.view('t', 'byN', { startkey: 2, endkey: 4, inclusive_end: false })).rows.map((r) => r.id), ['v2', 'v3']);
  assert.deepEqual((await ctx.db.view('t', 'byN', { limit: 2, skip: 1 })).rows.map((r) => r.id), ['v2', 'v3']);
  assert.deepEqual((await ctx.db.view('t', 'byN', { descending: true, limit: 1 })).rows.map((r) => r.id), ['v5']);
  const withDocs = await ctx.db.view('t', 'byN', { key: 2, include_docs: true });
  assert.equal(withDocs.rows[0]!.doc!.n, 2);
  const grouped = await ctx.db.view('t', 'sumByG', { group: true });
  assert.deepEqual(grouped.rows.map((r) => [r.key, r.value]), [['even', 6], ['odd', 9]]);
  const total = await ctx.db.view('t', 'sumByG', {});
  assert.equal(total.rows[0]!.value, 15);
  const unreduced = await ctx.db.view('t', 'sumByG', { reduce: false });
  assert.equal(unreduced.rows.length, 5);
  await assert.rejects(ctx.db.view('t', 'missing'), NotFoundError);
  await assert.rejects(ctx.db.view('nodesign', 'x'), NotFoundError);
});

test('allDocs with keys and include_docs', async () => {
  const r = await ctx.db.allDocs({ keys: ['v1', 'v2'], include_docs: true });
  assert.deepEqual(r.rows.map((row) => row.doc && (row.doc as unknown as { n: number }).n), [1, 2]);
});

test('_security: read and write members and admins', async () => {
  const sec = { admins: { names: ['boss'], roles: [] }, members: { names: ['alice'], roles: ['lab'] } };
  await ctx.db.setSecurity(sec);
  const got = await ctx.db.getSecurity();
  assert.deepEqual(got.members, sec.members);
  assert.deepEqual(got.admins, sec.admins);
  await ctx.db.setSecurity({});
});

test('_changes: normal feed, since an opaque sequence, doc_ids filter, longpoll that times out', async () => {
  const first = await ctx.db.changes({ limit: 1 });
  assert.equal(first.results.length, 1);
  const since = first.last_seq;
  const rest = await ctx.db.changes({ since });
  assert.ok(rest.results.length > 0);
  assert.ok(!rest.results.some((r) => r.id === first.results[0]!.id && r.seq === first.results[0]!.seq));
  await ctx.db.put({ _id: 'changed-1' });
  const byId = await ctx.db.changes({ doc_ids: ['changed-1'], include_docs: true });
  assert.deepEqual(byId.results.map((r) => r.id), ['changed-1']);
  assert.equal(byId.results[0]!.doc!._id, 'changed-1');
  const now = await ctx.db.changes({ since: 'now' });
  const poll = await ctx.db.changes({ feed: 'longpoll', since: now.last_seq, timeout: 300 });
  assert.equal(poll.results.length, 0);
});

test('a reserved document id is refused before any request, never read as another resource', async () => {
  const before = ctx.couch.stats.requests;
  await assert.rejects(ctx.db.put({ _id: '_bad', x: 1 }), InvalidDocIdError);
  await assert.rejects(ctx.db.get('_all_docs'), /document id "_all_docs" starts with "_"/);
  await assert.rejects(ctx.db.get(''), /document id "" is empty/);
  assert.equal(ctx.couch.stats.requests, before);
});

test('a closed client refuses further requests instead of opening new connections', async () => {
  const server = await testServer();
  const couch = server.client();
  assert.equal(await couch.db(ctx.db.name).exists(), true);
  await couch.close();
  await assert.rejects(couch.db(ctx.db.name).exists(), /client was closed/);
});
