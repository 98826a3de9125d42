import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ownServerSkipReason, spawnEmbeddedServer } from '../helpers/couch.js';
import { call } from './fixture.js';

describe('embedded server durability', { skip: ownServerSkipReason() }, () => {
  it('documents, users and _security acknowledged before kill -9 are there after restart', async () => {
    const first = await spawnEmbeddedServer();
    const admin = { username: first.username, password: first.password };
    try {
      const req = (m: string, p: string, body?: unknown, auth = admin) => call(first.url, m, p, { auth, body });
      assert.equal((await req('PUT', '/durable')).status, 201);
      const acked: Record<string, string> = {};
      for (let i = 0; i < 30; i++) {
        const r = await req('PUT', `/durable/t${i}`, { type: 'token', lock: 0, done: 0, i });
        assert.equal(r.status, 201);
        acked[`t${i}`] = r.body.rev;
      }
      const bulk = await req('POST', '/durable/_bulk_docs', { docs: Array.from({ length: 20 }, (_, i) => ({ _id: `b${i}`, i })) });
      for (const row of bulk.body) acked[row.id] = row.rev;
      assert.equal((await req('PUT', '/_users/org.couchdb.user:ivy', { name: 'ivy', password: 'ivy-pw', roles: [], type: 'user' })).status, 201);
      assert.equal((await req('PUT', '/durable/_security', { members: { names: ['ivy'] } })).status, 200);
      first.child.ref();
      await first.stop('SIGKILL');

      const second = await spawnEmbeddedServer({ dataDir: first.dataDir, username: admin.username, password: admin.password });
      try {
        const all = await call(second.url, 'GET', '/durable/_all_docs', { auth: admin });
        const found = Object.fromEntries(all.body.rows.map((r: { id: string; value: { rev: string } }) => [r.id, r.value.rev]));
        assert.deepEqual(found, acked);
        const ivy = await call(second.url, 'GET', '/durable/t3', { auth: { username: 'ivy', password: 'ivy-pw' } });
        assert.equal(ivy.status, 200, 'user and membership survived');
        assert.equal(ivy.body.i, 3);
      } finally {
        second.child.ref();
        await second.stop();
      }
    } finally {
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });
});
