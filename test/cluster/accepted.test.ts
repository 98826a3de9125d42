import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { testServer, useTestDb } from '../helpers/couch.js';
import { startBalancer, type Balancer } from '../helpers/balancer.js';
import { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { ensureDesignDocs, markDone, newToken, type Token } from '../../src/tokens/index.js';
import { claimTokens, type ClaimStats } from '../../src/claim/claim.js';
import { putDoc, writeDocs } from '../../src/claim/confirm.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { saveResult } from '../../src/worker/save-result.js';

/**
 * `202 Accepted` is how a CouchDB cluster answers a write that reached fewer copies than its write quorum
 * (the other copies may hold a competing revision). Here a loopback proxy of the test's own turns the
 * server's 201 into 202 on chosen requests, so the claim and result code meet the answer a cluster gives.
 * Runs against any server (embedded, or PICAS_TEST_COUCHDB_URL behind the proxy).
 */
const ctx = useTestDb('accepted');
let proxy: Balancer;
let client: CouchServer;
let n = 0;
/** Which writes come back as 202: 'bulk' (_bulk_docs), 'put' (PUT of a document) or none. */
let accept: 'bulk' | 'put' | 'none' = 'none';

before(async () => {
  const server = await testServer();
  proxy = await startBalancer([server.url], {
    rewriteStatus: (method, path, status) => {
      if (status !== 201) return status;
      if (accept === 'bulk' && method === 'POST' && path.split('?')[0]!.endsWith('/_bulk_docs')) return 202;
      if (accept === 'put' && method === 'PUT' && path.split('/').length > 2) return 202;
      return status;
    },
  });
  client = new CouchServer({ url: proxy.url, username: server.username, password: server.password });
});
after(async () => { await client?.close(); await proxy?.close(); });

async function freshDb(ids: string[]): Promise<{ direct: Database; viaProxy: Database }> {
  const direct = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await direct.create();
  await ensureDesignDocs(direct);
  await direct.bulkDocs(ids.map((id) => newToken({ _id: id, input: 'true' })));
  return { direct, viaProxy: client.db(direct.name) };
}

test('a 202 from _bulk_docs and from PUT reaches the caller (writeDocs, putDoc)', async () => {
  const { direct, viaProxy } = await freshDb([]);
  accept = 'bulk';
  const bulk = await writeDocs(viaProxy, [{ _id: 'x', v: 1 }]);
  assert.equal(bulk.accepted, true);
  assert.equal(bulk.results[0]!.ok, true);
  accept = 'none';
  assert.equal((await writeDocs(viaProxy, [{ _id: 'y', v: 1 }])).accepted, false, 'a 201 is not taken for a 202');
  accept = 'put';
  const put = await putDoc(viaProxy, { _id: 'z', v: 1 });
  assert.equal(put.accepted, true);
  assert.equal((await direct.get('z'))._rev, put.rev);
  accept = 'none';
  await direct.destroy();
});

test('a claim answered 202 is read back and sealed before it is handed out; a 201 on one server is not', async () => {
  const { direct, viaProxy } = await freshDb(['a', 'b']);
  accept = 'bulk';
  const stats: ClaimStats = { rounds: 0, conflicts: 0 };
  const [claimed] = await claimTokens(viaProxy, { pilot: pilotIdentity(), batchSize: 1, window: 1 }, stats);
  assert.ok(claimed, 'the claim stands: nothing competes with it');
  assert.equal(stats.confirm?.accepted, 1, 'the 202 was seen');
  assert.equal(stats.confirm?.confirmed, 1, 'and the claim read back');
  const stored = await direct.get<Token>(claimed._id, { conflicts: true });
  assert.equal(stored._rev, claimed._rev, 'the pilot holds the revision that stands');
  assert.equal(Number.parseInt(stored._rev!, 10), 3, 'claimed, then sealed: one more write on top of the claim');
  assert.equal(stored._conflicts, undefined);

  accept = 'none';
  const plain: ClaimStats = { rounds: 0, conflicts: 0 };
  const [other] = await claimTokens(viaProxy, { pilot: pilotIdentity(), batchSize: 1 }, plain);
  assert.ok(other);
  assert.equal(Number.parseInt(other._rev, 10), 2, 'one server, 201: no read-back, no seal');
  assert.equal(plain.confirm?.confirmed ?? 0, 0);
  await direct.destroy();
});

test('a result answered 202 drops the competing copy of our own write that a retry left on another copy', async () => {
  const { direct, viaProxy } = await freshDb(['r']);
  const [claimed] = await claimTokens(direct, { pilot: pilotIdentity(), batchSize: 1 });
  assert.ok(claimed);
  // A competing revision carrying the same attempt (as a retried write landing on a lagging copy leaves):
  // written as a replicator would, beside the claim.
  const sibling = { ...claimed, _rev: `${Number.parseInt(claimed._rev, 10)}-${'f'.repeat(32)}`, note: 'copy' };
  await direct.bulkDocs([sibling], { newEdits: false });
  assert.equal((await direct.get<Token>('r', { conflicts: true }))._conflicts?.length, 1, 'the token has two live revisions');
  const winner = await direct.get<Token>('r');
  accept = 'put';
  const outcome = await saveResult(viaProxy, { ...claimed, ...winner } as typeof claimed, (t) => markDone({ ...t, exit_code: 0 }));
  accept = 'none';
  assert.equal(outcome.kind, 'saved');
  const t = await direct.get<Token>('r', { conflicts: true });
  assert.equal(t._conflicts, undefined, 'no competing revision left');
  assert.ok(t.done > 0 && t.exit_code === 0, 'the result is the winner');
  await direct.destroy();
});
