import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { useTestDb } from '../helpers/couch.js';
import { startProxy } from '../helpers/proxy.js';
import { tempDir } from '../helpers/cli.js';
import { CouchServer } from '../../src/couch/server.js';
import { runPilot } from '../../src/worker/run-pilot.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';

const ctx = useTestDb('spool');

test('a result the database cannot take goes to the spool file, and the next start delivers it', { timeout: 120_000 }, async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'sp1' }));
  const spoolFile = join(tempDir('spool'), 'results.jsonl');
  const proxy = await startProxy(ctx.server.url);
  const couch = new CouchServer({ url: proxy.url, username: ctx.server.username, password: ctx.server.password, timeoutMs: 2_000 });
  try {
    // The task finishes while the network is down, and stays down past the pilot's patience.
    const run = runPilot({
      processTask: () => { proxy.setMode('refuse'); proxy.cutAll(); return { exitCode: 0, fields: { output: { answer: 42 } } }; },
    }, { db: couch.db(ctx.db.name), heartbeat: false, spoolFile, retry: { patienceMs: 1_000 } });
    await assert.rejects(run, /cannot reach the server/);
    const spooled = readFileSync(spoolFile, 'utf8').trim().split('\n');
    assert.equal(spooled.length, 1);
    assert.equal(JSON.parse(spooled[0]!).id, 'sp1');
    assert.equal((await ctx.db.get<Token>('sp1')).done, 0, 'not in the database yet');
    // The next start (network back) delivers it before claiming anything.
    proxy.setMode('pass');
    const summary = await runPilot({ processTask: () => { throw new Error('nothing else should run'); } },
      { db: couch.db(ctx.db.name), heartbeat: false, spoolFile });
    assert.equal(summary.delivered, 1);
    const t = await ctx.db.get<Token>('sp1');
    assert.equal(t.exit_code, 0);
    assert.deepEqual(t.output, { answer: 42 });
    assert.ok(t.done > 0);
    assert.equal(readFileSync(spoolFile, 'utf8'), '', 'delivered entries leave the spool');
  } finally {
    await couch.close();
    await proxy.close();
  }
});
