import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { useTestDb, spawnEmbeddedServer, ownServerSkipReason, type TestServer } from '../helpers/couch.js';
import { cliEnv, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { CouchServer } from '../../src/couch/server.js';
import { readExecutions } from './records.js';
import { recordingDb, assertScenario } from './scenario.js';

/**
 * The network and the server fail under running pilots: the server is stopped for longer than a lease and
 * started again on the same data; a proxy between pilots and server delays, cuts and refuses connections.
 * Pilots ride it out, and the guarantees hold afterwards.
 */
const ctx = useTestDb('outages');
const LEASE = ['--lease', '3', '--grace', '1', '--outage-patience', '90', '--max-lost', '10'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pilotsVia(url: string, server: { username: string; password: string }, database: string, dir: string, count: number) {
  const env = cliEnv({ url, username: server.username, password: server.password } as TestServer, { PICAS_DATABASE: database });
  const pilots = Array.from({ length: count }, (_, i) => spawnCli(['run', ...LEASE, '--work-dir', join(dir, `w${i}`)], env));
  // Each pilot's log also goes to a file, to read when a scenario hangs.
  pilots.forEach((p, i) => p.stderr!.on('data', (d) => appendFileSync(join(dir, `pilot-${i}.log`), d)));
  const guard = setTimeout(() => { for (const p of pilots) p.kill('SIGKILL'); }, 150_000);
  const all = Promise.all(pilots.map((p) => p.result)).finally(() => clearTimeout(guard));
  return { pilots, all };
}

test('the server stopped (SIGKILL) for longer than a lease and restarted on the same data: pilots wait, then finish everything', { timeout: 240_000, skip: ownServerSkipReason() }, async () => {
  // The embedded server's process is unref'd: without a live timer, waiting for it to exit could end the test early.
  const keepAlive = setInterval(() => {}, 1_000);
  let server = await spawnEmbeddedServer();
  const { dataDir, username, password } = server;
  const proxy = await startProxy(server.url);
  const dir = tempDir('outage');
  const file = join(dir, 'records');
  let couch = new CouchServer({ url: server.url, username, password });
  try {
    const { db, ids } = await recordingDb(couch, 'picas-test-outage', 10, file, 1);
    const run = pilotsVia(proxy.url, { username, password }, db.name, dir, 2);
    assert.ok(await waitFor(() => readExecutions(file).length >= 3, 60_000), 'pilots got going');
    await couch.close();
    await server.stop('SIGKILL');
    proxy.cutAll();
    await sleep(5_000);
    server = await spawnEmbeddedServer({ dataDir, username, password });
    proxy.setTarget(server.url);
    couch = new CouchServer({ url: server.url, username, password });
    const results = await run.all;
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.ok(results.some((r) => /waiting for the server/.test(r.stderr)), 'pilots said what they waited for');
    await assertScenario(couch.db(db.name), ids, file);
  } finally {
    await couch.close();
    await proxy.close();
    await server.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    clearInterval(keepAlive);
  }
});

test('a proxy that delays, cuts every connection, then refuses new ones mid-run: pilots ride it out, guarantees hold', { timeout: 240_000 }, async () => {
  const proxy = await startProxy(ctx.server.url);
  const dir = tempDir('proxy');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 12, file, 0.8);
  try {
    const run = pilotsVia(proxy.url, ctx.server, db.name, dir, 2);
    assert.ok(await waitFor(() => readExecutions(file).length >= 2, 60_000), 'pilots got going');
    proxy.delayMs = 150;
    await sleep(2_000);
    proxy.delayMs = 0;
    let cut = 0;
    for (let i = 0; i < 4; i++) { cut += proxy.cutAll(); await sleep(400); }
    proxy.setMode('refuse');
    await sleep(1_500);
    proxy.setMode('pass');
    const results = await run.all;
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.ok(cut > 0, 'connections were cut while in use');
    await assertScenario(db, ids, file);
  } finally {
    await proxy.close();
    await db.destroy();
  }
});

test('connections refused for longer than a lease: commands are stopped before the lease ends, rerun later, no overlap', { timeout: 240_000 }, async () => {
  const proxy = await startProxy(ctx.server.url);
  const dir = tempDir('refuse');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 4, file, 6);
  try {
    const run = pilotsVia(proxy.url, ctx.server, db.name, dir, 2);
    assert.ok(await waitFor(() => readExecutions(file).length >= 2, 60_000), 'pilots got going');
    proxy.setMode('refuse');
    // The lease (3 s) cannot be renewed: the commands must be stopped before it ends, by the pilots' watchdogs.
    assert.ok(await waitFor(() => readExecutions(file).filter((e) => e.how === 'term').length >= 2, 10_000), 'running commands were stopped');
    await sleep(1_000);
    proxy.setMode('pass');
    const results = await run.all;
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.ok(results.some((r) => /lease (could not be renewed|lost)/.test(r.stderr)), 'pilots said why they stopped the commands');
    await assertScenario(db, ids, file);
  } finally {
    await proxy.close();
    await db.destroy();
  }
});

test('a pilot started while the server cannot be reached waits for it (outage patience) instead of giving up', { timeout: 120_000 }, async () => {
  const proxy = await startProxy(ctx.server.url);
  const dir = tempDir('startout');
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(ctx.couch, ctx.db.name, 3, file, 0.2);
  try {
    proxy.setMode('refuse');
    const run = pilotsVia(proxy.url, ctx.server, db.name, dir, 1);
    // Switch the server back only once the pilot has met the outage (its start can take seconds on a
    // loaded machine; a fixed pause let it start after the outage was over and never see it).
    const log = join(dir, 'pilot-0.log');
    const met = await waitFor(() => { try { return /waiting for the server/.test(readFileSync(log, 'utf8')); } catch { return false; } }, 60_000);
    assert.ok(met, 'the pilot reported the unreachable server');
    assert.equal(readExecutions(file).length, 0);
    proxy.setMode('pass');
    const [r] = await run.all;
    assert.equal(r!.code, 0, r!.stderr);
    assert.match(r!.stderr, /waiting for the server/);
    await assertScenario(db, ids, file);
  } finally {
    await proxy.close();
    await db.destroy();
  }
});
