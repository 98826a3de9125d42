import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
const ctx = useTestDb('smoke');
test('put and get over HTTP', async () => {
  const r = await ctx.db.put({ _id: 'a', x: 1 });
  const d = await ctx.db.get('a');
  assert.equal(d._rev, r.rev);
});
