import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { alive, waitFor } from '../helpers/cli.js';
import { buildBundles, runIn, toolsWithoutNode } from '../bundle/lone-dir.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';

/**
 * examples/grid as the Grid runs it: make-sandbox.sh assembles the sandbox; its files alone are copied (modes
 * dropped, as a sandbox transfer may) into a fresh empty folder; `bash start-pilot.sh` runs there with a
 * PATH holding a shell and coreutils but neither node nor picas, as a user who may use that one database.
 */
const GRID = join(ROOT, 'examples/grid');
const SANDBOX_FILES = ['start-pilot.sh', 'picas', 'picas.env', 'picas-password', 'work.sh'];
const build = mkdtempSync(join(tmpdir(), 'picas-grid-build-'));
let server: TestServer;
let admin: CouchServer;
let db: Database;
let sandbox: string;
const user = { name: `picas-test-grid-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('hex') };
const userPath = `/_users/${encodeURIComponent(`org.couchdb.user:${user.name}`)}`;

before(async () => {
  buildBundles(build);
  server = await testServer();
  admin = server.client();
  db = admin.db(uniqueDbName('grid'));
  await db.create();
  // The views are made once by the database's admin (picas views): the pilots' user may not write them.
  await ensureDesignDocs(db);
  // A user of this database only: a member of it, nothing else.
  await admin.request('PUT', userPath, { body: { _id: `org.couchdb.user:${user.name}`, name: user.name, password: user.password, roles: [], type: 'user' } });
  await db.setSecurity({ members: { names: [user.name], roles: [] }, admins: { names: [], roles: [] } });
  const pwFile = join(mkdtempSync(join(tmpdir(), 'picas-grid-pw-')), 'pw');
  writeFileSync(pwFile, `${user.password}\n`, { mode: 0o600 });
  sandbox = join(mkdtempSync(join(tmpdir(), 'picas-grid-sandbox-')), 'sandbox');
  const made = await runIn('bash', [join(GRID, 'make-sandbox.sh'), sandbox, pwFile, join(build, 'picas')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PICAS_HOST_URL: server.url, PICAS_DATABASE: db.name, PICAS_USERNAME: user.name, PILOT_MAX_TOKEN_TIME: '60' },
  });
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /dirac-wms-job-submit pilot\.jdl/);
  rmSync(pwFile);
});

after(async () => {
  await db?.destroy().catch(() => {});
  try {
    const doc = (await admin.request<{ _rev: string }>('GET', userPath)).body;
    await admin.request('DELETE', userPath, { query: { rev: doc._rev } });
  } catch { /* not created */ }
  await admin?.close();
  rmSync(build, { recursive: true, force: true });
});

/** A fresh worker-node folder holding only the sandbox files, written anew (default modes, as after a transfer). */
function workerNode(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'picas-grid-node-'));
  for (const f of SANDBOX_FILES) writeFileSync(join(dir, f), readFileSync(join(sandbox, f)), { mode: 0o644 });
  const tools = toolsWithoutNode(mkdtempSync(join(tmpdir(), 'picas-grid-tools-')));
  return { dir, env: { PATH: tools, HOME: '/nonexistent', DIRACJOBID: '4242' } };
}

test('make-sandbox.sh: the JDL\'s input sandbox is exactly what it wrote; the password file is 0600 and nothing else holds the password', () => {
  const jdl = readFileSync(join(GRID, 'pilot.jdl'), 'utf8');
  const listed = /InputSandbox\s*=\s*\{([^}]*)\}/.exec(jdl)![1]!.split(',').map((s) => s.trim().replace(/"/g, ''));
  assert.deepEqual(listed.sort(), [...SANDBOX_FILES].sort());
  for (const f of listed) assert.ok(existsSync(join(sandbox, f)), f);
  assert.equal(statSync(join(sandbox, 'picas-password')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(sandbox, 'picas-password'), 'utf8'), `${user.password}\n`);
  for (const f of readdirSync(sandbox).filter((f) => f !== 'picas-password' && f !== 'picas')) {
    assert.ok(!readFileSync(join(sandbox, f), 'utf8').includes(user.password), `${f} must not hold the password`);
  }
});

test('start-pilot.sh on a bare worker node: runs every token with work.sh, records the DIRAC job id, ends when no work is left', { timeout: 120_000 }, async () => {
  await db.bulkDocs([newToken({ _id: 'fib-10', input: '10' }), newToken({ _id: 'fib-90', input: '90' }), newToken({ _id: 'fib-bad', input: 'x' })]);
  const node = workerNode();
  const which = await runIn('bash', ['-c', 'command -v node picas || echo none'], { cwd: node.dir, env: node.env });
  assert.equal(which.stdout.trim(), 'none', 'neither node nor picas on PATH');
  const r = await runIn('/bin/bash', ['start-pilot.sh'], { cwd: node.dir, env: node.env, timeoutMs: 100_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /picas pilot on .*, DIRAC job 4242, started/);
  assert.match(r.stderr, /2 done, 1 failed/);
  assert.equal(statSync(join(node.dir, 'picas-password')).mode & 0o777, 0o600, 'made private again on arrival');
  const tokens = await Promise.all(['fib-10', 'fib-90', 'fib-bad'].map((id) => db.get<Token & { dirac_job_id?: string }>(id, { attachments: true })));
  const out = (t: Token, ext: string) => Buffer.from(t._attachments![`logs_${t._id}.${ext}`]!.data!, 'base64').toString();
  assert.equal(out(tokens[0]!, 'out'), 'fib(10) mod 1000000007 = 55\n');
  assert.equal(out(tokens[1]!, 'out'), 'fib(90) mod 1000000007 = 210345902\n');
  assert.equal(tokens[2]!.exit_code, 2);
  assert.match(out(tokens[2]!, 'err'), /work\.sh: not a number: x/);
  for (const t of tokens) assert.equal(t.dirac_job_id, '4242');
  rmSync(node.dir, { recursive: true, force: true });
});

test('the sandbox\'s user reaches only its database: another one is refused (exit 5)', async () => {
  const other = admin.db(uniqueDbName('grid-other'));
  await other.create();
  await other.setSecurity({ members: { names: ['someone-else'], roles: [] }, admins: { names: [], roles: [] } });
  try {
    const node = workerNode();
    chmodSync(join(node.dir, 'picas'), 0o755); // as start-pilot.sh does first
    const r = await runIn(join(node.dir, 'picas'), ['ping', '--database', other.name, '--password-file', 'picas-password'], {
      cwd: node.dir,
      env: { ...node.env, PICAS_HOST_URL: server.url, PICAS_USERNAME: user.name, PICAS_CONFIG_DIR: join(node.dir, '.picas') },
    });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /not allowed \(403/);
    rmSync(node.dir, { recursive: true, force: true });
  } finally {
    await other.destroy().catch(() => {});
  }
});

test('DIRAC\'s time limit (SIGTERM to the job) stops the running command and puts its token back to todo', { timeout: 120_000 }, async () => {
  const node = workerNode();
  const pidFile = join(node.dir, 'cmd.pid');
  // work.sh is what tokens run: give this token an input that makes it wait (a new work.sh for this test).
  writeFileSync(join(node.dir, 'work.sh'), `#!/bin/bash\necho $$ > '${pidFile}'\nexec sleep 300\n`, { mode: 0o644 });
  await db.put(newToken({ _id: 'long-1', input: '1' }));
  const job = runIn('/bin/bash', ['start-pilot.sh'], { cwd: node.dir, env: node.env, timeoutMs: 100_000 });
  assert.ok(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 60_000), 'the command started');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  job.kill('SIGTERM');
  const r = await job;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /SIGTERM: stopping/);
  assert.match(r.stderr, /long-1: interrupted, put back to todo/);
  assert.ok(await waitFor(() => !alive(pid), 10_000), 'the command is gone');
  const token = await db.get<Token>('long-1');
  assert.equal(token.lock, 0);
  assert.equal(token.done, 0);
  rmSync(node.dir, { recursive: true, force: true });
});

test('make-sandbox.sh refuses, with one line and exit 2, a URL holding credentials, a missing executable or password file; nothing is written', async () => {
  const dest = join(mkdtempSync(join(tmpdir(), 'picas-grid-bad-')), 'sandbox');
  const pw = join(mkdtempSync(join(tmpdir(), 'picas-grid-pw2-')), 'pw');
  writeFileSync(pw, 'secret\n', { mode: 0o600 });
  const env = (url: string) => ({ PATH: process.env.PATH, PICAS_HOST_URL: url, PICAS_DATABASE: 'db', PICAS_USERNAME: 'u' });
  const cases: [string[], string, RegExp][] = [
    [[dest, pw, join(build, 'picas')], 'https://u:p@couch.example.org:6984', /PICAS_HOST_URL holds credentials/],
    [[dest, pw, join(build, 'no-such-picas')], 'https://couch.example.org:6984', /no single executable at .*no-such-picas: run npm run bundle first/],
    [[dest, join(build, 'no-such-password'), join(build, 'picas')], 'https://couch.example.org:6984', /cannot read the password file/],
  ];
  for (const [args, url, message] of cases) {
    const r = await runIn('bash', [join(GRID, 'make-sandbox.sh'), ...args], { cwd: ROOT, env: env(url) });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.ok(!existsSync(dest), 'nothing written');
  }
});
