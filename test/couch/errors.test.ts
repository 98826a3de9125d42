import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { testServer } from '../helpers/couch.js';
import { createTestUser } from '../helpers/test-user.js';
import { closedPortUrl, cuttingServer, htmlServer, silentServer } from '../helpers/misbehaving.js';
import { CouchServer } from '../../src/couch/server.js';
import {
  NotCouchDBError, NotFoundError, TimeoutError, UnauthorizedError, UnreachableError, isTransient, errorForStatus, ServerError,
} from '../../src/couch/errors.js';

const clients: CouchServer[] = [];
const client = (opts: ConstructorParameters<typeof CouchServer>[0]) => { const c = new CouchServer(opts); clients.push(c); return c; };
after(async () => { for (const c of clients) await c.close(); });

test('401: wrong password is an UnauthorizedError and the message never shows the password', async () => {
  const s = await testServer();
  // A user of the test's own: a wrong password for the admin would lock it on real CouchDB.
  const user = await createTestUser(s, { label: 'errors' });
  try {
    const c = client({ url: s.url, username: user.username, password: 'wrong-secret-123' });
    const err = await c.allDbs().catch((e) => e);
    assert.ok(err instanceof UnauthorizedError, String(err));
    assert.equal(err.status, 401);
    assert.equal(err.error, 'unauthorized');
    assert.ok(!err.message.includes('wrong-secret-123'));
  } finally {
    await user.remove();
  }
});

test('credentials in the URL are used, and kept out of url and messages', async () => {
  const s = await testServer();
  const u = new URL(s.url); u.username = s.username; u.password = s.password;
  const c = client({ url: u.toString() });
  assert.ok(Array.isArray(await c.allDbs()));
  assert.ok(!c.url.includes(s.password));
  const err = await c.db('picas-test-missing-db-zz').info().catch((e) => e);
  assert.ok(err instanceof NotFoundError);
  assert.ok(!err.message.includes(s.password));
});

test('404 for a missing database is a NotFoundError', async () => {
  const s = await testServer();
  const err = await s.client().db('picas-test-does-not-exist').info().catch((e) => e);
  assert.ok(err instanceof NotFoundError);
  assert.equal(err.status, 404);
});

test('unreachable: nothing listens -> UnreachableError with code ECONNREFUSED, transient', async () => {
  const c = client({ url: await closedPortUrl(), timeoutMs: 2000 });
  const err = await c.welcome().catch((e) => e);
  assert.ok(err instanceof UnreachableError, String(err));
  assert.equal(err.code, 'ECONNREFUSED');
  assert.ok(isTransient(err));
});

test('timeout: a server that never answers -> TimeoutError after the configured timeout', async () => {
  const silent = await silentServer();
  try {
    const c = client({ url: silent.url, timeoutMs: 300 });
    const err = await c.welcome().catch((e) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(err.timeoutMs, 300);
    assert.ok(isTransient(err));
  } finally { await silent.close(); }
});

test('a server that is not CouchDB -> NotCouchDBError', async () => {
  const html = await htmlServer();
  try {
    const c = client({ url: html.url, timeoutMs: 2000 });
    await assert.rejects(c.welcome(), NotCouchDBError);
    await assert.rejects(c.db('x').info(), NotCouchDBError);
  } finally { await html.close(); }
});

test('a connection cut mid-request -> UnreachableError (transient)', async () => {
  const cut = await cuttingServer();
  try {
    const c = client({ url: cut.url, timeoutMs: 2000 });
    const err = await c.welcome().catch((e) => e);
    assert.ok(err instanceof UnreachableError, String(err));
    assert.ok(isTransient(err));
  } finally { await cut.close(); }
});

test('classification is by status and error, never by reason', () => {
  assert.ok(errorForStatus(503, 'whatever', 'any words', 'GET x') instanceof ServerError);
  assert.ok(errorForStatus(429, 'too_many_requests', '', 'GET x') instanceof ServerError);
  const e = errorForStatus(409, 'conflict', 'Document update conflict.', 'PUT x');
  assert.equal(e.constructor.name, 'ConflictError');
  assert.equal(errorForStatus(409, 'conflict', 'completely different wording', 'PUT x').constructor.name, 'ConflictError');
});

test('an invalid URL is refused with a clear message', () => {
  assert.throws(() => new CouchServer({ url: 'localhost:5984' }), /not a valid server URL/);
  assert.throws(() => new CouchServer({ url: 'ftp://x' }), /only http/);
});

test('serverNow follows the server Date header', async () => {
  const s = await testServer();
  const c = s.client(); clients.push(c);
  const t = await c.syncClock();
  assert.ok(Math.abs(t - Date.now()) < 5_000, 'same machine: clocks agree within the Date header resolution');
});
