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
const temps: string[] = [];
before(async () => {
  server = await testServer();
  couch = server.client();
  db = couch.db(uniqueDbName('double-term'));
  await db.create();
  await ensureDesignDocs(db);
});
after(async () => {
  await db.destroy().catch(() => {});
  await couch.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** The process and all its descendants (from ps), as pid strings. */
function descendants(root: number): string[] {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const found = [String(root)];
  for (let i = 0; i < found.length; i++) for (const [pid, ppid] of rows) if (ppid === found[i]) found.push(pid!);
  return found;
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
