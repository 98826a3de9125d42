import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TODO, tokenId, useTokenDbs } from './token-dbs.js';
import { createTestUser } from '../helpers/test-user.js';
import { CouchServer } from '../../src/couch/server.js';
import { CandidateReader } from '../../src/claim/candidates.js';
import { claimTokens } from '../../src/claim/claim.js';
import { FREE_INDEX, findFree } from '../../src/claim/free-index.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { newToken, countStates } from '../../src/tokens/index.js';

const { ctx, freshDb } = useTokenDbs('free-index');
const id = tokenId;

test('the free index: a read takes ten batches of free ids from a random id, wrapping to the head; claimed tokens leave it', async () => {
  const db = await freshDb(300);
  let u = 0.5;
  const reader = new CandidateReader(db, { freeIndex: true, random: () => u });
  const middle = await reader.read(TODO, 10);
  assert.equal(middle.length, 100, 'ten batches (at least 100)');
  assert.ok(middle.every((x) => x >= 'token_00140' && x <= 'token_00260'), `from the middle: ${middle[0]}..${middle.at(-1)}`);
  assert.ok((await db.get(`_design/${FREE_INDEX.ddoc}`)), 'the index was created');
  u = 0.999;
  const wrapped = await reader.read(TODO, 10);
  assert.ok(wrapped.includes(id(299)) && wrapped.includes(id(0)), `wrapped to the head: ${wrapped[0]}..${wrapped.at(-1)}`);
  // Only free tokens: claimed ones leave it.
  const got = await claimTokens(db, { pilot: pilotIdentity(), batchSize: 300, candidates: new CandidateReader(db, { freeIndex: true }), window: 300 });
  assert.equal(got.length, 300);
  assert.deepEqual(await findFree(db, { limit: 10 }), []);
  await db.destroy();
});

test('the free index answers from the index alone on CouchDB (covering: no document read)', async (t) => {
  const db = await freshDb(5);
  await new CandidateReader(db, { freeIndex: true }).read(TODO, 1);
  const info = await db.info();
  if (typeof info.update_seq !== 'string') { t.skip('the embedded server (pouchdb-find) has no covering indexes'); await db.destroy(); return; }
  const explained = (await db.request<{ covering?: boolean; mrargs?: { include_docs?: boolean } }>('POST', '/_explain', { body: {
    selector: { type: 'token', lock: 0, done: 0, _id: { $gte: 'token' } }, use_index: [FREE_INDEX.ddoc, FREE_INDEX.name],
    sort: [{ type: 'asc' }, { lock: 'asc' }, { done: 'asc' }, { _id: 'asc' }], fields: ['_id'], limit: 10,
  } })).body;
  assert.equal(explained.covering, true, JSON.stringify(explained));
  assert.equal(explained.mrargs?.include_docs, false);
  await db.destroy();
});

test('the view still offers what the index does not: a token whose lock is "0" is claimed through Monitor/todo', async () => {
  const db = await freshDb(0);
  await db.bulkDocs([{ ...newToken({ _id: 'odd' }), lock: '0' } as never]);
  const reader = new CandidateReader(db, { freeIndex: true });
  assert.deepEqual(await reader.read(TODO, 1), ['odd'], 'from the view');
  const [token] = await claimTokens(db, { pilot: pilotIdentity(), candidates: reader });
  assert.equal(token?._id, 'odd');
  await db.destroy();
});

test('the index deleted under a running reader is made again; claims go on', async () => {
  const db = await freshDb(20);
  const reader = new CandidateReader(db, { freeIndex: true });
  assert.equal((await claimTokens(db, { pilot: pilotIdentity(), batchSize: 5, candidates: reader })).length, 5);
  const ddoc = await db.get(`_design/${FREE_INDEX.ddoc}`);
  await db.request('DELETE', `/_design/${FREE_INDEX.ddoc}`, { query: { rev: ddoc._rev } });
  // The read that finds it gone falls back to the view; the next one makes the index again.
  assert.equal((await claimTokens(db, { pilot: pilotIdentity(), batchSize: 5, candidates: reader })).length, 5);
  assert.equal((await claimTokens(db, { pilot: pilotIdentity(), batchSize: 5, candidates: reader })).length, 5);
  assert.ok(await db.get(`_design/${FREE_INDEX.ddoc}`));
  assert.equal((await countStates(db)).locked, 15);
  await db.destroy();
});

test('concurrent pilots on the free index: every token once, none twice', async () => {
  const db = await freshDb(400);
  const claimed: string[] = [];
  await Promise.all(Array.from({ length: 6 }, async () => {
    const pilot = pilotIdentity();
    const reader = new CandidateReader(db, { freeIndex: true });
    for (let round = 0; round < 200; round++) {
      const got = await claimTokens(db, { pilot, batchSize: 10, candidates: reader });
      if (got.length === 0) return;
      claimed.push(...got.map((t) => t._id));
    }
  }));
  assert.equal(claimed.length, 400);
  assert.equal(new Set(claimed).size, 400);
  await db.destroy();
});

test('by default the index is used on CouchDB 2+ only (sequences N-opaque); never on the embedded server', async () => {
  const db = await freshDb(3);
  const clustered = typeof (await db.info()).update_seq === 'string';
  await claimTokens(db, { pilot: pilotIdentity(), candidates: new CandidateReader(db) });
  const made = await db.get(`_design/${FREE_INDEX.ddoc}`).then(() => true, () => false);
  assert.equal(made, clustered);
  await db.destroy();
});

test('_find naming a missing index: 400 invalid_index when falling back is forbidden, else answered without it and warned (as CouchDB 3.5)', async () => {
  const db = await freshDb(0);
  await db.bulkDocs([{ _id: 'a', type: 'token', lock: 5 }, { _id: 'b', type: 'token', lock: 0 }]);
  const query = { selector: { type: 'token', lock: 5 }, use_index: ['picas-claim', 'nope'], limit: 5 };
  await assert.rejects(db.request('POST', '/_find', { body: { ...query, allow_fallback: false } }), (err: Error & { status?: number }) => {
    assert.match(err.message, /400 invalid_index: _design\/picas-claim, nope specified by `use_index` could not be found or it is not suitable/);
    return true;
  });
  const answer = (await db.request<{ docs: { _id: string }[]; warning?: string }>('POST', '/_find', { body: query })).body;
  assert.deepEqual(answer.docs.map((d) => d._id), ['a']);
  assert.match(answer.warning ?? '', /_design\/picas-claim, nope was not used because it is not a valid index for this query/);
  await db.destroy();
});

test('a read of an empty database costs one request per place looked at (an idle pilot looks every --poll-interval)', async () => {
  const db = await freshDb(0);
  const indexed = new CandidateReader(db, { freeIndex: true });
  assert.deepEqual(await indexed.read(TODO, 10), []);
  let before = db.server.stats.requests;
  assert.deepEqual(await indexed.read(TODO, 10), []);
  assert.equal(db.server.stats.requests - before, 2, 'the free index, then the view: the first row of each only');
  const viewOnly = new CandidateReader(db, { freeIndex: false });
  before = db.server.stats.requests;
  assert.deepEqual(await viewOnly.read(TODO, 10), []);
  assert.equal(db.server.stats.requests - before, 1);
  await db.destroy();
});

test('a member who may not write design documents claims from the view: no index made, no error', async () => {
  const db = await freshDb(5);
  const user = await createTestUser(ctx.server, { label: 'member', members: [db.name] });
  const u = new URL(ctx.server.url);
  u.username = user.username;
  u.password = user.password;
  const member = new CouchServer({ url: u.toString() });
  try {
    const mdb = member.db(db.name);
    const got = await claimTokens(mdb, { pilot: pilotIdentity(), batchSize: 5, candidates: new CandidateReader(mdb, { freeIndex: true }) });
    assert.equal(got.length, 5, 'every token claimed through Monitor/todo');
    assert.equal(await db.find(`_design/${FREE_INDEX.ddoc}`), undefined, 'no index was made');
  } finally {
    await member.close();
    await user.remove();
    await db.destroy();
  }
});
