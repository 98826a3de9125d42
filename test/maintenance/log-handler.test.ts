import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { useTestDb } from '../helpers/couch.js';
import { CouchLogHandler, type LogDocument } from '../../src/maintenance/log-handler.js';
import { CouchServer } from '../../src/couch/server.js';
import { ensureDesignDocs } from '../../src/tokens/design.js';
import { countStates } from '../../src/tokens/status.js';

const ctx = useTestDb('log-handler');

test('log records become type "log" documents, batched; the views do not count them', async () => {
  await ensureDesignDocs(ctx.db);
  const handler = new CouchLogHandler(ctx.db, { name: 'pilot-7', level: 'INFO', batchSize: 3, flushIntervalMs: 0 });
  handler.debug('not written: below the level');
  handler.info('started', { token: 'token_1' });
  handler.warning('slow');
  handler.error('failed', { _id: 'ignored', type: 'token' });
  handler.info('ended');
  await handler.close();
  const docs = (await ctx.db.allDocs<LogDocument>({ include_docs: true })).rows.map((r) => r.doc!).filter((d) => d.type === 'log');
  assert.deepEqual(docs.map((d) => d.message).sort(), ['ended', 'failed', 'slow', 'started']);
  const started = docs.find((d) => d.message === 'started')!;
  assert.equal(started.level, 'INFO');
  assert.equal(started.name, 'pilot-7');
  assert.equal(started.token, 'token_1');
  assert.equal(typeof started.time, 'number');
  assert.ok(docs.every((d) => d._id.startsWith('log_')));
  assert.deepEqual(await countStates(ctx.db), { todo: 0, locked: 0, done: 0, error: 0 });
});

test('an unreachable database: logging never throws, memory stays bounded, the error is told', async () => {
  // A loopback port that refuses connections: listen, note the port, close.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
  const couch = new CouchServer({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
  const errors: Error[] = [];
  const handler = new CouchLogHandler(couch.db('x'), { batchSize: 1000, maxPending: 5, flushIntervalMs: 0, onError: (e) => errors.push(e) });
  for (let i = 0; i < 20; i++) handler.info(`line ${i}`);
  await handler.close();
  await couch.close();
  assert.ok(errors.length >= 1);
  assert.match(errors[0]!.message, /cannot reach the server/);
  assert.ok((handler as unknown as { pending: unknown[] }).pending.length <= 6);
});
