import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestDb, uniqueDbName } from '../helpers/couch.js';
import { alive, cliEnv, runCli, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';

const ctx = useTestDb('snakemake');

/** A job script as Snakemake 7 writes it (the properties line is what submit reads). */
function jobscript(dir: string, rule: string, body: string, name = `snakejob.${rule}.1.sh`): string {
  const file = join(dir, name);
  const properties = { type: 'single', rule, local: false, input: [], output: [`${rule}.txt`], wildcards: {}, params: {}, log: [], threads: 1, resources: { tmpdir: '/tmp' }, jobid: 1, cluster: {} };
  writeFileSync(file, `#!/bin/sh\n# properties = ${JSON.stringify(properties)}\n${body}\n`);
  return file;
}

const env = (extra: NodeJS.ProcessEnv = {}) => cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name, ...extra });

test('snakemake-submit: one token per job script, its content as input and its properties; only the id on stdout; ids never collide', async () => {
  const dir = tempDir('smk-submit');
  const script = jobscript(dir, 'count_words', 'cd /tmp && echo hello');
  const a = await runCli(['snakemake-submit', script], env());
  const b = await runCli(['snakemake-submit', script], env());
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(a.stdout, /^snakemake_count_words_[0-9a-f]{32}\n$/);
  const id = a.stdout.trim();
  assert.notEqual(b.stdout.trim(), id, 'two submits of one script are two jobs');
  const token = await ctx.db.get<Token & { properties: { rule: string; jobid: number }; snakemake: { jobscript: string } }>(id);
  assert.equal(token.type, 'token');
  assert.equal(token.lock, 0);
  assert.equal(token.done, 0);
  assert.equal(token.input, readFileSync(script, 'utf8'));
  assert.equal(token.properties.rule, 'count_words');
  assert.equal(token.properties.jobid, 1);
  assert.equal(token.snakemake.jobscript, 'snakejob.count_words.1.sh');
});

test('snakemake-submit into a database that does not exist yet creates it with its views', async () => {
  const name = uniqueDbName('smk-new');
  const db = ctx.couch.db(name);
  try {
    const r = await runCli(['snakemake-submit', jobscript(tempDir('smk-new'), 'a', 'true')], env({ PICAS_DATABASE: name }));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await db.find(r.stdout.trim()));
    assert.ok(await db.find('_design/Monitor'));
  } finally {
    await db.destroy().catch(() => {});
  }
});

test('snakemake-submit of a missing or empty job script: one-line usage error, exit 2, nothing added', async () => {
  const dir = tempDir('smk-bad');
  const before = (await ctx.db.info()).doc_count;
  const missing = await runCli(['snakemake-submit', join(dir, 'nope.sh')], env());
  assert.equal(missing.code, 2);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^picas: cannot read the job script .*nope\.sh: ENOENT/);
  writeFileSync(join(dir, 'empty.sh'), '\n');
  const empty = await runCli(['snakemake-submit', join(dir, 'empty.sh')], env());
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^picas: the job script .*empty\.sh is empty: nothing to run\n$/);
  assert.equal((await ctx.db.info()).doc_count, before);
});

test('snakemake-status: todo and locked -> running, done -> success, error -> failed, missing -> failed with a message', async () => {
  const now = Math.floor(Date.now() / 1000);
  await ctx.db.bulkDocs([
    newToken({ _id: 'st-todo' }),
    newToken({ _id: 'st-locked', lock: now }),
    newToken({ _id: 'st-done', lock: now, done: now, exit_code: 0 }),
    newToken({ _id: 'st-failed', lock: now, done: now, exit_code: 1 }),
    newToken({ _id: 'st-error', lock: 99, done: 99 }),
  ]);
  const expect: Record<string, string> = { 'st-todo': 'running', 'st-locked': 'running', 'st-done': 'success', 'st-failed': 'failed', 'st-error': 'failed' };
  for (const [id, status] of Object.entries(expect)) {
    const r = await runCli(['snakemake-status', id], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${status}\n`, id);
    assert.equal(r.stderr, '', id);
  }
  const missing = await runCli(['snakemake-status', 'snakemake_gone_0'], env());
  assert.equal(missing.code, 0);
  assert.equal(missing.stdout, 'failed\n');
  assert.match(missing.stderr, /no token "snakemake_gone_0" in database/);
});

test('snakemake-status rides out an outage within --outage-patience, and past it exits 4 printing nothing', async () => {
  await ctx.db.put(newToken({ _id: 'st-outage' }));
  const proxy = await startProxy(ctx.server.url);
  try {
    proxy.setMode('refuse');
    const gaveUp = await runCli(['snakemake-status', 'st-outage', '--outage-patience', '1'], env({ PICAS_HOST_URL: proxy.url }));
    assert.equal(gaveUp.code, 4, gaveUp.stderr);
    assert.equal(gaveUp.stdout, '', 'never a guess on stdout');
    assert.match(gaveUp.stderr, /retrying in/);
    const waiting = spawnCli(['snakemake-status', 'st-outage', '--outage-patience', '60'], env({ PICAS_HOST_URL: proxy.url }));
    let seen = '';
    waiting.stderr!.on('data', (d) => { seen += d; });
    assert.ok(await waitFor(() => /retrying in/.test(seen), 60_000), 'the status command met the outage');
    proxy.setMode('pass');
    const answered = await waiting.result;
    assert.equal(answered.code, 0, answered.stderr);
    assert.equal(answered.stdout, 'running\n');
    assert.match(answered.stderr, /retrying in/, 'the outage was seen and ridden out');
  } finally {
    await proxy.close();
  }
});

test('snakemake-cancel withdraws a waiting token: error "cancelled", never run, not reset by --max-scrub', async () => {
  const name = uniqueDbName('smk-cancel-todo');
  const db = ctx.couch.db(name);
  await db.create();
  await ensureDesignDocs(db);
  try {
    const dir = tempDir('smk-cancel-todo');
    const marker = join(dir, 'ran');
    await db.put(newToken({ _id: 'wait-1', input: `touch '${marker}'` }));
    const r = await runCli(['snakemake-cancel', 'wait-1', 'no-such-job'], env({ PICAS_DATABASE: name }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /wait-1: not started: withdrawn/);
    assert.match(r.stderr, /no-such-job: no such token/);
    const pilot = await runCli(['run', '--max-scrub', '5', '--work-dir', join(dir, 'work')], env({ PICAS_DATABASE: name }));
    assert.equal(pilot.code, 0, pilot.stderr);
    assert.ok(!existsSync(marker), 'a withdrawn token never runs');
    const token = await db.get<Token & { picas: { cancelled: { was: string } } }>('wait-1');
    assert.equal(token.lock, 99);
    assert.equal(token.done, 99);
    assert.equal(token.scrub_count, 0);
    assert.equal(token.error.at(-1)!.message, 'cancelled');
    assert.equal(token.picas.cancelled.was, 'todo');
    const status = await runCli(['snakemake-status', 'wait-1'], env({ PICAS_DATABASE: name }));
    assert.equal(status.stdout, 'failed\n');
  } finally {
    await db.destroy().catch(() => {});
  }
});

test('snakemake-cancel stops a running token at its pilot\'s next lease renewal; it ends in error "cancelled", never retried by --max-scrub', { timeout: 120_000 }, async () => {
  const name = uniqueDbName('smk-cancel-run');
  const db = ctx.couch.db(name);
  await db.create();
  await ensureDesignDocs(db);
  const dir = tempDir('smk-cancel-run');
  const pidFile = join(dir, 'pid');
  const runs = join(dir, 'runs');
  try {
    await db.put(newToken({ _id: 'busy-1', input: `echo run >> '${runs}'; echo $$ > '${pidFile}'; exec sleep 300` }));
    // --lease 3: renewals (and so the check of held tokens) every second.
    const pilot = spawnCli(['run', '--lease', '3', '--max-scrub', '5', '--grace', '2', '--work-dir', join(dir, 'work')], env({ PICAS_DATABASE: name }));
    assert.ok(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 30_000), 'the command started');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(pid));
    const started = Date.now();
    const r = await runCli(['snakemake-cancel', 'busy-1'], env({ PICAS_DATABASE: name }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /busy-1: running: error "cancelled"/);
    assert.ok(await waitFor(() => !alive(pid), 30_000), 'the command was stopped');
    console.log(`# cancel -> command gone in ${Date.now() - started} ms (lease 3 s: renewal every 1 s)`);
    const result = await pilot.result;
    assert.equal(result.code, 0, result.stderr);
    const token = await db.get<Token & { picas: { cancelled: { was: string; attempt: string }; attempt?: string } }>('busy-1');
    assert.equal(token.lock, 99);
    assert.equal(token.done, 99);
    assert.equal(token.scrub_count, 0, 'never reset for another try');
    assert.equal(token.error.at(-1)!.message, 'cancelled');
    assert.equal(token.picas.cancelled.was, 'locked');
    assert.ok(token.picas.cancelled.attempt);
    assert.equal(token.picas.attempt, undefined);
    assert.equal(readFileSync(runs, 'utf8'), 'run\n', 'ran once, not again');
  } finally {
    await db.destroy().catch(() => {});
  }
});
