/**
 * What Slurm does at scancel or a time limit, without Slurm: SIGTERM to every process of the job at once.
 * The array script's pilot then gets SIGTERM twice, once from "Slurm" and once forwarded by the script's
 * trap. Before `picas run` kept its handler for repeats, the second SIGTERM killed the pilot (the default
 * action) while it was putting its token back, and the token stayed locked (seen under a real Slurm in
 * test/slurm/array.test.ts). Runs everywhere; needs no Slurm.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { tempDir } from '../helpers/cli.js';
import { exampleEnv } from '../examples/shim.js';
import { start } from '../examples/run.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { newToken, type Token } from '../../src/tokens/token.js';
import { tokenState } from '../../src/tokens/state.js';
import { ensureDesignDocs } from '../../src/tokens/design.js';

let server: TestServer;
let couch: CouchServer;
let db: Database;
const created: Database[] = [];
const temps: string[] = [];
before(async () => {
  server = await testServer();
  couch = server.client();
  db = couch.db(uniqueDbName('double-term'));
  await db.create();
  await ensureDesignDocs(db);
});
after(async () => {
  for (const d of [db, ...created]) await d.destroy().catch(() => {});
  await couch.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** The process and all its descendants (from ps), as pid strings; `match` keeps those whose command line has it. */
function descendants(root: number, match?: string): string[] {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout.trim().split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!).filter(Boolean).map((m) => ({ pid: m[1]!, ppid: m[2]!, args: m[3]! }));
  const found = [String(root)];
  for (let i = 0; i < found.length; i++) for (const r of rows) if (r.ppid === found[i]) found.push(r.pid);
  return match === undefined ? found : found.filter((pid) => rows.find((r) => r.pid === pid)?.args.includes(match));
}

test('SIGTERM to every process of the array script (as scancel sends it): the pilot survives the repeat and puts its token back', { timeout: 120_000 }, async () => {
  const dir = tempDir('double-term');
  temps.push(dir);
  const marks = join(dir, 'started');
  await db.bulkDocs([newToken({ _id: 't0', input: `touch ${marks}; sleep 600` })]);
  // setsid: the script leads a process group of its own, as a batch job's shell does under slurmstepd.
  const job = start('setsid', ['bash', join(ROOT, 'examples/slurm/picas-array.sh'), '--grace', '3'], {
    cwd: dir, env: exampleEnv(server, db.name, { TMPDIR: dir, SLURM_ARRAY_JOB_ID: '77', SLURM_ARRAY_TASK_ID: '1' }), timeoutMs: 90_000,
  });
  for (let i = 0; i < 300 && !existsSync(marks); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(marks), 'the command never started');
  // Every process of the job, found by parentage as proctrack/linuxproc does: script, pilot, watchdog, command.
  const pids = descendants(job.child.pid!);
  assert.ok(pids.length >= 3, `script, pilot and command expected, found ${pids.join(' ')}`);
  // The job's processes first, the batch shell a moment later: its forwarded SIGTERM reaches a pilot that is
  // already stopping (under Slurm the order varies; this one makes the repeat certain).
  spawnSync('kill', ['-TERM', ...pids.slice(1)]);
  await new Promise((r) => setTimeout(r, 50));
  spawnSync('kill', ['-TERM', pids[0]!]);
  const r = await job.done;
  // The pilot lived through the repeat to put the token back and print its summary. (Its exit status is not
  // checked: a repeat that lands while node is already exiting still ends it with 143, the work done.)
  assert.match(r.stdout + r.stderr, /t0: interrupted, put back to todo/);
  assert.match(r.stderr, /0 done, 0 failed, 1 interrupted/);
  const t = (await db.get<Token>('t0'));
  assert.equal(tokenState(t), 'todo', r.stdout + r.stderr);
  assert.equal((t as { picas?: { lease_until?: unknown } }).picas?.lease_until, undefined);
});

// This one showed a pilot defect (such a command was written as a failed result, exit code 143), fixed in
// src/worker/token-run.ts: the pilot now waits up to a second for its own signal before writing such an end.
test('a command killed by the batch system\'s SIGTERM a moment before its pilot gets its own counts as interrupted, not failed', { timeout: 120_000 }, async () => {
  const dir = tempDir('double-term-first');
  temps.push(dir);
  const marks = join(dir, 'started');
  // A database of its own (the first test left its token in todo).
  const db = couch.db(uniqueDbName('double-term-first'));
  await db.create();
  await ensureDesignDocs(db);
  created.push(db);
  await db.bulkDocs([newToken({ _id: 't1', input: `touch ${marks}; sleep 600` })]);
  const job = start('setsid', ['bash', join(ROOT, 'examples/slurm/picas-array.sh'), '--grace', '3'], {
    cwd: dir, env: exampleEnv(server, db.name, { TMPDIR: dir, SLURM_ARRAY_JOB_ID: '78', SLURM_ARRAY_TASK_ID: '1' }), timeoutMs: 90_000,
  });
  for (let i = 0; i < 300 && !existsSync(marks); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(marks), 'the command never started');
  // As under Slurm when the command's process is signalled first: the command, then 50 ms later the rest.
  const command = descendants(job.child.pid!, 'sleep 600');
  assert.ok(command.length >= 1, 'the command\'s processes');
  spawnSync('kill', ['-TERM', ...command]);
  await new Promise((r) => setTimeout(r, 50));
  spawnSync('kill', ['-TERM', ...descendants(job.child.pid!).filter((p) => !command.includes(p))]);
  const r = await job.done;
  const t = await db.get<Token>('t1');
  assert.equal(tokenState(t), 'todo', r.stdout + r.stderr);
  assert.match(r.stderr, /t1: interrupted, put back to todo/);
});
