import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TODO, tokenId, useTokenDbs } from './token-dbs.js';
import { CandidateReader, canSpread, keyBetween } from '../../src/claim/candidates.js';
import { claimTokens } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { ensureDesignDoc, newToken, countStates } from '../../src/tokens/index.js';

const { freshDb } = useTokenDbs('candidates');
const id = tokenId;

test('keyBetween: a key within [lo, hi] that moves with u', () => {
  const lo = 'token_00000';
  const hi = 'token_09999';
  let previous = '';
  for (const u of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1]) {
    const k = keyBetween(lo, hi, u);
    assert.ok(k >= lo && k <= hi, `${JSON.stringify(k)} for u=${u} is outside [${lo}, ${hi}]`);
    assert.ok(k >= previous, `not increasing with u at ${u}`);
    previous = k;
  }
  assert.ok(keyBetween(lo, hi, 0.5).startsWith('token_04') || keyBetween(lo, hi, 0.5).startsWith('token_05'));
  assert.equal(keyBetween('b', 'a', 0.5), 'b', 'lo after hi: lo');
  // A server that orders by ICU rules can put "a1" first and "B2" last: no spreading between them.
  assert.equal(canSpread('a1', 'B2'), false);
  assert.equal(canSpread(lo, hi), true);
  assert.equal(canSpread('x', 'x'), true);
  assert.equal(keyBetween('same', 'same', 0.3), 'same');
  // lo a prefix of hi, and non-ASCII ids: still inside, and no lone surrogate halves.
  const k = keyBetween('a', 'a\u{1F600}z', 0.99);
  assert.ok(k >= 'a' && k <= 'a\u{1F600}z');
  assert.doesNotMatch(k, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, 'no lone surrogate half');
  assert.equal(Buffer.from(k, 'utf8').toString('utf8'), k, 'survives UTF-8 as it is');
});

test('reads start at a random key: about twice the batch, from where the start falls, all todo', async () => {
  const db = await freshDb(400);
  let u = 0.5;
  // The view itself (on CouchDB the default view is read from the free index: free-index.test.ts).
  const reader = new CandidateReader(db, { random: () => u, freeIndex: false });
  const middle = await reader.read(TODO, 10);
  assert.equal(middle.length, 20, 'twice the batch');
  assert.ok(middle.every((x) => x >= 'token_00180' && x <= 'token_00230'), `read from the middle: ${middle[0]}..${middle.at(-1)}`);
  u = 0;
  const head = await reader.read(TODO, 10);
  assert.equal(head[0], id(0));
  // Starting past the last row wraps around to the head: the tail and the first rows.
  u = 0.999;
  const wrapped = await reader.read(TODO, 10);
  assert.equal(wrapped.length, 20);
  assert.ok(wrapped.includes(id(399)), 'the last token');
  assert.ok(wrapped.includes(id(0)), 'continued from the head');
  await db.destroy();
});

test('concurrent pilots claim from spread places: no token twice, all done, few conflicts', async () => {
  const db = await freshDb(600);
  const pilots = Array.from({ length: 6 }, () => ({ pilot: pilotIdentity(), reader: new CandidateReader(db) }));
  const claimed: string[] = [];
  const stats = { rounds: 0, conflicts: 0 };
  await Promise.all(pilots.map(async (p) => {
    for (let round = 0; round < 100; round++) {
      const got = await claimTokens(db, { pilot: p.pilot, batchSize: 10, candidates: p.reader }, stats);
      if (got.length === 0) return;
      claimed.push(...got.map((t) => t._id));
    }
  }));
  assert.equal(claimed.length, 600, 'every token claimed');
  assert.equal(new Set(claimed).size, 600, 'none claimed twice');
  assert.equal((await countStates(db)).todo, 0);
  await db.destroy();
});

test('when the remembered key range is out of date, the reader learns it again', async () => {
  const db = await freshDb(50);
  const reader = new CandidateReader(db, { random: () => 0.5, rangeTtlSeconds: 3600, freeIndex: false });
  assert.ok((await reader.read(TODO, 5)).length > 0);
  // Every known token is taken; new ones arrive under ids after the old range.
  const all = await db.allDocs({ include_docs: true, startkey: 'token_', endkey: 'token_\ufff0' });
  await db.bulkDocs(all.rows.map((r) => ({ ...(r.doc as object), lock: 1 } as never)));
  await db.bulkDocs([newToken({ _id: 'zz_new_1' }), newToken({ _id: 'zz_new_2' })]);
  const ids = await reader.read(TODO, 5);
  assert.deepEqual(ids.sort(), ['zz_new_1', 'zz_new_2']);
  assert.deepEqual(await reader.read([{ design: 'Monitor', view: 'locked' }, ...TODO], 5).then((x) => x.length), 10, 'first view in priority order that has rows');
  await db.destroy();
});

test('views with non-string keys, and reads by key, are read from the head', async () => {
  const db = await freshDb(0);
  await ensureDesignDoc(db, { name: 'byNumber', views: {
    todo: { map: 'function(doc) { if (doc.type == "token" && doc.lock == 0 && doc.done == 0) { emit(doc.n, null); } }' },
  } });
  await db.bulkDocs(Array.from({ length: 30 }, (_, i) => newToken({ _id: `t${i}`, n: i % 3 })));
  const reader = new CandidateReader(db, { random: () => 0.7 });
  const numbered = await reader.read([{ design: 'byNumber', view: 'todo' }], 2);
  assert.equal(numbered.length, 30, 'the head window (at least 100 rows) holds all 30');
  const before = db.server.stats.requests;
  await reader.read([{ design: 'byNumber', view: 'todo' }], 2);
  assert.equal(db.server.stats.requests - before, 1, 'what the view\'s keys are is remembered: one query per read');
  const keyed = await reader.read([{ design: 'byNumber', view: 'todo', key: 2 }], 2);
  assert.equal(keyed.length, 10);
  assert.ok(keyed.every((x) => Number(x.slice(1)) % 3 === 2));
  assert.deepEqual(await reader.read([{ design: 'byNumber', view: 'todo', key: 7 }], 2), []);
  await db.destroy();
});

test('claims lost to other pilots are counted: refused writes and picks found taken', async () => {
  const stats = { rounds: 0, conflicts: 0, conflictedDocs: 0, stalePicks: 0 };
  for (let trial = 0; trial < 10; trial++) {
    const db = await freshDb(1);
    // Eight pilots race for one token: one wins, each other loses at its read or at its write.
    const got = await Promise.all(Array.from({ length: 8 }, () =>
      claimTokens(db, { pilot: pilotIdentity(), batchSize: 1, maxRounds: 1, recoverExpired: false }, stats)));
    assert.equal(got.flat().length, 1, 'exactly one pilot won');
    await db.destroy();
  }
  assert.ok(stats.conflictedDocs + stats.stalePicks > 0, 'losses were counted');
  assert.ok(stats.conflictedDocs + stats.stalePicks <= 70, 'at most one loss per losing pilot');
});

test('a picked token that another pilot took before the read is not claimed and counts as a stale pick', async () => {
  const db = await freshDb(3);
  const other = await claimTokens(db, { pilot: pilotIdentity(), batchSize: 1 });
  const taken = other[0]!._id;
  // A reader that still offers the taken token (as a view not yet updated would).
  class StaleReader extends CandidateReader {
    override async read(): Promise<string[]> { return [taken]; }
  }
  const stats = { rounds: 0, conflicts: 0, stalePicks: 0 };
  const got = await claimTokens(db, { pilot: pilotIdentity(), batchSize: 1, maxRounds: 1, candidates: new StaleReader(db, { freeIndex: false }) }, stats);
  assert.deepEqual(got, []);
  assert.equal(stats.stalePicks, 1);
  await db.destroy();
});
