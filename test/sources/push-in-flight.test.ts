import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useTestDb } from '../helpers/couch.js';
import { CouchServer } from '../../src/couch/server.js';
import { pushTokens } from '../../src/sources/push.js';
import type { SourceRecord } from '../../src/sources/record.js';
import type { Token } from '../../src/tokens/token.js';

/**
 * Push keeps up to `inFlight` batch writes going while it reads the next batch (CouchDB writes shards in
 * parallel). What must hold whatever the timing: every token lands once, a failed write ends the push with
 * its error after the writes in flight have answered, and every token the server took is counted.
 */
const ctx = useTestDb('pushflight');

const lines = (n: number): SourceRecord[] =>
  Array.from({ length: n }, (_, i) => ({ fields: { input: `echo ${i}` }, where: `f line ${i + 1}` }));

test('with three writes in flight every token lands exactly once and progress ends at the total', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-a`);
  await db.create();
  try {
    let last = 0;
    const result = await pushTokens(db, lines(1037), { batchSize: 50, inFlight: 3, onProgress: (p) => { last = p.sent; } });
    assert.deepEqual(result, { sent: 1037, added: 1037, existing: 0, failed: 0 });
    assert.equal(last, 1037);
    const all = await db.allDocs<Token>({ include_docs: true });
    const inputs = all.rows.map((r) => r.doc!).filter((d) => d.type === 'token').map((t) => t.input);
    assert.equal(inputs.length, 1037);
    assert.equal(new Set(inputs).size, 1037);
  } finally {
    await db.destroy();
  }
});

test('a write failing while another is in flight ends the push with its error; every token the server took is counted, none sent after the failure was known', async () => {
  // A real loopback server: the third _bulk_docs is answered 500 after a delay (the fourth is meanwhile in
  // flight and lands); retries off.
  let calls = 0;
  let failedAt = -1;
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const n = ++calls;
      const docs = (JSON.parse(body) as { docs: { _id: string }[] }).docs;
      if (n === 3) {
        setTimeout(() => {
          failedAt = calls;
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'unknown_error', reason: 'disk full' }));
        }, 150);
        return;
      }
      seen.push(...docs.map((d) => d._id));
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(docs.map((d) => ({ id: d._id, rev: '1-a', ok: true }))));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const couch = new CouchServer({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  let added = 0;
  // A slow source (a large file on a slow disk): the push is still reading when the failure comes back.
  async function* slowLines() {
    for (const record of lines(200)) {
      await new Promise((r) => setTimeout(r, 5));
      yield record;
    }
  }
  try {
    await assert.rejects(
      pushTokens(couch.db('x'), slowLines(), { batchSize: 4, inFlight: 2, retry: { patienceMs: 0 }, onProgress: (p) => { added = p.added; } }),
      /disk full|500/,
    );
    assert.equal(added, seen.length, 'every token the server took is counted in the last progress report');
    assert.ok(seen.length >= 8, 'the batches before the failure landed');
    // At most one write crosses the failure's answer on the wire (sent before the push had read it).
    assert.ok(calls <= failedAt + 1, `no write sent after the failure was known (${calls} writes, failure answered at ${failedAt})`);
    assert.ok(calls < 50, `the push stopped early (${calls} writes of 50)`);
  } finally {
    await couch.close();
    server.close();
  }
});
