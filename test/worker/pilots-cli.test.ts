import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, spawnCli, tempDir, alive, waitFor } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, countStates, type Token } from '../../src/tokens/index.js';

const ctx = useTestDb('pilots');

async function freshDb(label: string) {
  const db = ctx.couch.db(`${ctx.db.name}-${label}`);
  await db.create();
  await ensureDesignDocs(db);
  return db;
}

test('200 tokens, 8 pilot processes: each token runs exactly once, all done', { timeout: 300_000 }, async () => {
  const db = await freshDb('eight');
  try {
    const dir = tempDir('eight');
    const shared = join(dir, 'runs.txt');
    writeFileSync(shared, '');
    const tokens = Array.from({ length: 200 }, (_, i) => newToken({ _id: `t${String(i).padStart(3, '0')}`, input: `echo "$PICAS_TOKEN_ID" >> '${shared}'` }));
    await db.bulkDocs(tokens);
    const env = cliEnv(ctx.server, { PICAS_DATABASE: db.name });
    const pilots = Array.from({ length: 8 }, () => runCli(['run', '-q', '--json', '--work-dir', join(dir, 'work')], env, { timeoutMs: 240_000 }));
    const results = await Promise.all(pilots);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    // --json: each pilot's summary on stdout, and together they account for every token.
    const summaries = results.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as { done: number; failed: number; stoppedBy: string; conflictedClaims: number });
    assert.equal(summaries.reduce((n, s) => n + s.done, 0), 200);
    for (const s of summaries) assert.equal(s.stoppedBy, 'empty');
    assert.ok(summaries.every((s) => Number.isInteger(s.conflictedClaims)));
    const lines = readFileSync(shared, 'utf8').trim().split('\n');
    assert.equal(lines.length, 200, 'one line per execution');
    assert.equal(new Set(lines).size, 200, 'each token ran exactly once');
    assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 200, error: 0 });
  } finally {
    await db.destroy();
  }
});

test('conflict storm: a writer bumping every free token does not stop a pilot, and nothing runs twice', { timeout: 300_000 }, async () => {
  const db = await freshDb('storm');
  try {
    const dir = tempDir('storm');
    const shared = join(dir, 'runs.txt');
    writeFileSync(shared, '');
    await db.bulkDocs(Array.from({ length: 40 }, (_, i) => newToken({ _id: `s${i}`, input: `echo "$PICAS_TOKEN_ID" >> '${shared}'` })));
    let storming = true;
    let bumps = 0;
    const storm = (async () => {
      const end = Date.now() + 4_000;
      while (storming && Date.now() < end) {
        const rows = (await db.view<unknown, Token>('Monitor', 'todo', { include_docs: true })).rows;
        const docs = rows.map((r) => r.doc!).filter(Boolean).map((d) => ({ ...d, bumped: ((d as any).bumped ?? 0) + 1 }));
        if (docs.length) bumps += (await db.bulkDocs(docs)).filter((r) => r.ok).length;
      }
    })();
    const pilot = runCli(['run', '-q', '--work-dir', join(dir, 'work')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 240_000 });
    await storm;
    storming = false;
    const r = await pilot;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(bumps > 0, 'the writer did bump revisions');
    const lines = readFileSync(shared, 'utf8').trim().split('\n');
    assert.equal(lines.length, 40);
    assert.equal(new Set(lines).size, 40);
    assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 40, error: 0 });
  } finally {
    await db.destroy();
  }
});

test('--max-token-time stops the whole process tree and marks the token error', { timeout: 120_000 }, async () => {
  const db = await freshDb('timeout');
  try {
    const dir = tempDir('timeout');
    const pids = join(dir, 'pids');
    await db.put(newToken({ _id: 'slow', input: `sleep 300 & echo $! >> '${pids}'; (sleep 300 & echo $! >> '${pids}'; wait) & echo $$ >> '${pids}'; wait` }));
    const r = await runCli(['run', '--max-token-time', '4', '--grace', '1', '--work-dir', join(dir, 'work')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const token = await db.get<Token>('slow');
    assert.equal(token.lock, 99);
    assert.match(token.error.at(-1)!.message, /maxTokenTime/);
    const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.ok(list.length >= 3);
    assert.ok(await waitFor(() => list.every((p) => !alive(p)), 10_000), `left alive: ${list.filter(alive)}`);
  } finally {
    await db.destroy();
  }
});

test('SIGTERM mid-command: the token goes back to todo, the pilot exits 0, no process is left', { timeout: 120_000 }, async () => {
  const db = await freshDb('sigterm');
  try {
    const dir = tempDir('sigterm');
    const pids = join(dir, 'pids');
    await db.put(newToken({ _id: 'long', input: `echo $$ >> '${pids}'; sleep 300 & echo $! >> '${pids}'; wait` }));
    const pilot = spawnCli(['run', '--grace', '1', '--work-dir', join(dir, 'work')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.ok(await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length >= 2, 30_000), 'command started');
    pilot.kill('SIGTERM');
    const r = await pilot.result;
    assert.equal(r.code, 0, r.stderr);
    const token = await db.get<Token>('long');
    assert.deepEqual([token.lock, token.done], [0, 0]);
    const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.ok(await waitFor(() => list.every((p) => !alive(p)), 10_000), `left alive: ${list.filter(alive)}`);
  } finally {
    await db.destroy();
  }
});

test('--slots 4 runs four at once, each with a work folder of its own', { timeout: 120_000 }, async () => {
  const db = await freshDb('slots');
  try {
    const dir = tempDir('slots');
    const log = join(dir, 'log');
    writeFileSync(log, '');
    // Each command records start and end with its token's work folder; they sleep long enough to overlap.
    await db.bulkDocs(Array.from({ length: 4 }, (_, i) => newToken({ _id: `p${i}`, input: `echo "start $(date +%s%N) $PICAS_TOKEN_WORK_DIR" >> '${log}'; sleep 1.5; echo "end $(date +%s%N) $PICAS_TOKEN_WORK_DIR" >> '${log}'` })));
    const r = await runCli(['run', '--slots', '4', '--work-dir', join(dir, 'work')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')) as [string, string, string][];
    const starts = events.filter((e) => e[0] === 'start').map((e) => BigInt(e[1]));
    const ends = events.filter((e) => e[0] === 'end').map((e) => BigInt(e[1]));
    const lastStart = starts.reduce((a, b) => (a > b ? a : b));
    const firstEnd = ends.reduce((a, b) => (a < b ? a : b));
    assert.ok(lastStart < firstEnd, 'all four were running at one moment');
    const dirs = new Set(events.filter((e) => e[0] === 'start').map((e) => e[2]));
    assert.equal(dirs.size, 4);
  } finally {
    await db.destroy();
  }
});

test('the command sees no PICAS_PASSWORD, and the password appears in no output of a full run', { timeout: 120_000 }, async () => {
  const db = await freshDb('secret');
  try {
    const dir = tempDir('secret');
    await db.put(newToken({ _id: 'envdump', input: 'env; echo "pw=${PICAS_PASSWORD:-unset}"' }));
    const r = await runCli(['run', '-v', '--work-dir', join(dir, 'work')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = (await db.getAttachment('envdump', 'logs_envdump.out')).toString();
    assert.match(out, /pw=unset/);
    assert.match(out, /PICAS_TOKEN_ID=envdump/);
    assert.ok(!out.includes(ctx.server.password), 'not in the log');
    assert.ok(!r.stdout.includes(ctx.server.password) && !r.stderr.includes(ctx.server.password), 'not in the pilot output');
    const doc = JSON.stringify(await db.get('envdump'));
    assert.ok(!doc.includes(ctx.server.password), 'not in the token');
  } finally {
    await db.destroy();
  }
});

test('argv template: placeholders become single arguments, nothing interpreted by a shell', { timeout: 60_000 }, async () => {
  const db = await freshDb('argv');
  try {
    const dir = tempDir('argv');
    await db.put(newToken({ _id: 'a1', q: '0.1; echo pwned', d: '$(id)' }));
    const r = await runCli(['run', '--work-dir', join(dir, 'work'), '--', 'printf', '[%s]\\n', '{q}', '{d}', '{_id}.ppm'], cliEnv(ctx.server, { PICAS_DATABASE: db.name }), { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = (await db.getAttachment('a1', 'logs_a1.out')).toString();
    assert.equal(out, '[0.1; echo pwned]\n[$(id)]\n[a1.ppm]\n');
  } finally {
    await db.destroy();
  }
});

test('bad settings: missing database and unreachable server give one line and a documented exit code', { timeout: 60_000 }, async () => {
  const missing = await runCli(['run'], cliEnv(ctx.server, { PICAS_DATABASE: 'picas-test-no-such-db' }), { timeoutMs: 30_000 });
  assert.equal(missing.code, 6);
  assert.match(missing.stderr, /does not exist/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const wrongPw = await runCli(['run'], cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name, PICAS_PASSWORD: 'nope-nope' }), { timeoutMs: 30_000 });
  assert.equal(wrongPw.code, 5, wrongPw.stderr);
  assert.match(wrongPw.stderr, /wrong user name or password/);
  const down = await runCli(['run', '--timeout', '2', '--outage-patience', '1'], cliEnv(ctx.server, { PICAS_HOST_URL: 'http://127.0.0.1:9', PICAS_DATABASE: 'x' }), { timeoutMs: 30_000 });
  assert.equal(down.code, 4);
  assert.match(down.stderr, /cannot reach the server/);
  const badView = await runCli(['run', '--view', 'Nope/todo'], cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name }), { timeoutMs: 30_000 });
  assert.equal(badView.code, 6, badView.stderr);
  assert.match(badView.stderr, /view not found/);
});
