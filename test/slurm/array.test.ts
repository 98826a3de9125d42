/**
 * examples/slurm/picas-array.sh under a real Slurm (issue 14): a one-node cluster started by
 * test/helpers/slurm.ts; the array's pilots reach this test's server through PICAS_* variables that sbatch
 * passes into the jobs' environment, and `picas` on PATH runs this checkout's CLI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { tempDir as makeTempDir } from '../helpers/cli.js';
import { heavySkipReason } from '../helpers/heavy.js';
import { startSlurm, type SlurmCluster } from '../helpers/slurm.js';
import { exampleEnv } from '../examples/shim.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { newToken, type Token } from '../../src/tokens/token.js';
import { tokenState } from '../../src/tokens/state.js';
import { ensureDesignDocs } from '../../src/tokens/design.js';

const SCRIPT = join(ROOT, 'examples/slurm/picas-array.sh');
const heavy = heavySkipReason('slurm');
const started = heavy ? { skip: heavy } : await startSlurm();
const skip = started.skip ?? false;
if (skip) console.log(`skipped: ${skip}`);
const slurm = started.cluster as SlurmCluster;

let server: TestServer;
let couch: CouchServer;
const created: Database[] = [];

before(async () => { if (!skip) { server = await testServer(); couch = server.client(); } });
after(async () => {
  for (const db of created) await db.destroy().catch(() => {});
  await couch?.close();
  await started.cluster?.stop();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const temps: string[] = [];
const tempDir = (label: string) => { const d = makeTempDir(label); temps.push(d); return d; };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A database holding one token per command, and what sbatch needs to run pilots on it. */
async function setup(label: string, inputs: string[]) {
  const db = couch.db(uniqueDbName(label));
  created.push(db);
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(inputs.map((input, i) => newToken({ _id: `t${i}`, input })));
  const dir = tempDir(`slurm-${label}`);
  // sbatch exports the submitting environment to the job: that is how these pilots find the server.
  // TMPDIR: the script's per-task work folders go there, not into /tmp.
  const env = slurm.env(exampleEnv(server, db.name, { TMPDIR: dir }));
  return { db, dir, env };
}

async function tokens(db: Database): Promise<Token[]> {
  return (await db.allDocs<Token>({ include_docs: true })).rows.map((r) => r.doc!).filter((d) => d.type === 'token');
}

/** Poll (bounded) until `check` holds for the tokens. */
async function waitTokens(db: Database, what: string, check: (ts: Token[]) => boolean, timeoutMs = 120_000): Promise<Token[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ts = await tokens(db);
    if (check(ts)) return ts;
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}: ${JSON.stringify(ts.map((t) => [t._id, tokenState(t), t.slurm_job_id]))}\n${slurm.logs()}`);
    await sleep(300);
  }
}

/** Every pilot log of a submission (sbatch --output=<dir>/pilot-%A_%a.log), joined. */
function pilotLogs(dir: string): string {
  return readdirSync(dir).filter((f) => f.startsWith('pilot-')).sort().map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8')}`).join('\n');
}

const submit = (dir: string, env: NodeJS.ProcessEnv, sbatchArgs: string[], pilotArgs: string[] = []) =>
  slurm.sbatch([`--chdir=${dir}`, `--output=${join(dir, 'pilot-%A_%a.log')}`, ...sbatchArgs, SCRIPT, '--grace', '3', ...pilotArgs], env);

/** Nothing locked, and no trace of a lease left on any token. */
function assertNothingLocked(ts: Token[], logs: string) {
  for (const t of ts) {
    assert.notEqual(tokenState(t), 'locked', `${t._id} is still locked\n${logs}`);
    const picas = (t as { picas?: Record<string, unknown> }).picas ?? {};
    if (tokenState(t) === 'todo') assert.equal(picas.lease_until, undefined, `${t._id} is free but still has a lease\n${logs}`);
  }
}

test('sbatch --array: every token is run by a pilot that ran as an array task and records <array job>_<task>', { skip }, async () => {
  const inputs = Array.from({ length: 12 }, (_, i) => `echo token ${i}; sleep 0.3`);
  const { db, dir, env } = await setup('slurm-array', inputs);
  const job = submit(dir, env, ['--array=0-2']);
  await slurm.waitGone([job]);
  const logs = pilotLogs(dir);
  const ts = await tokens(db);
  assert.deepEqual(ts.map(tokenState), ts.map(() => 'done'), logs);
  for (const t of ts) assert.match(String(t.slurm_job_id), new RegExp(`^${job}_[0-2]$`), `${t._id}: ${t.slurm_job_id}`);
  // Each pilot ran as a Slurm job: Slurm knows the tasks and they completed.
  for (const task of [0, 1, 2]) {
    const info = slurm.jobInfo(`${job}_${task}`);
    assert.equal(info?.JobState, 'COMPLETED', `task ${task}: ${JSON.stringify(info)}\n${logs}`);
  }
  assert.match(logs, new RegExp(`pilot ${job}_0 on `));
  // One CPU per task (the script's #SBATCH default) means one slot.
  assert.match(logs, /running: picas run --work-dir \S+ --slots 1 --grace 3/);
});

test('Slurm\'s time limit hits a running pilot: its token goes back to todo, nothing stays locked, a later array task runs it', { skip }, async () => {
  const marks = tempDir('slurm-marks');
  // The first run marks that it started and then outlives the time limit; a second run ends at once.
  const { db, dir, env } = await setup('slurm-timelimit', [`if [ -e ${marks}/ran ]; then echo second run; else touch ${marks}/ran; sleep 600; fi`]);
  // One task at a time (%1): task 1 starts only after the time limit ended task 0. The early warning
  // (--signal=B:TERM@N) may come up to a minute early; with --time=2 and @10 it comes after the claim.
  const job = submit(dir, env, ['--array=0-1%1', '--time=2', '--signal=B:TERM@10']);
  await waitTokens(db, 'task 0 runs the token', (ts) => tokenState(ts[0]!) === 'locked' && ts[0]!.slurm_job_id === `${job}_0`);
  await slurm.waitGone([job], 240_000);
  const logs = pilotLogs(dir);
  console.log(`time limit: task 0 ended as ${slurm.jobInfo(`${job}_0`)?.JobState}`);
  const [t] = await tokens(db);
  assertNothingLocked([t!], logs);
  assert.equal(tokenState(t!), 'done', logs);
  assert.equal(t!.slurm_job_id, `${job}_1`, logs);
  assert.ok(existsSync(join(marks, 'ran')));
  assert.match(logs, new RegExp(`--- pilot-${job}_0.log[\\s\\S]*t0: interrupted, put back to todo`));
  assert.doesNotMatch(logs, /exit code 1\d\d/);
  assert.deepEqual((t as { error?: unknown[] }).error ?? [], [], 'the interrupted run left no error entry');
});

test('the time limit without the early warning (every process of the job gets SIGTERM at the limit): same outcome, the job ends as TIMEOUT', { skip }, async () => {
  const marks = tempDir('slurm-marks');
  const { db, dir, env } = await setup('slurm-hardlimit', [`if [ -e ${marks}/ran ]; then echo second run; else touch ${marks}/ran; sleep 600; fi`]);
  // A copy of the script without its #SBATCH --signal line.
  const script = join(dir, 'no-warning.sh');
  writeFileSync(script, readFileSync(SCRIPT, 'utf8').split('\n').filter((l) => !l.startsWith('#SBATCH --signal')).join('\n'));
  const job = slurm.sbatch([`--chdir=${dir}`, `--output=${join(dir, 'pilot-%A_%a.log')}`, '--array=0-1%1', '--time=1', script, '--grace', '3'], env);
  await waitTokens(db, 'task 0 runs the token', (ts) => tokenState(ts[0]!) === 'locked' && ts[0]!.slurm_job_id === `${job}_0`);
  await slurm.waitGone([job], 240_000);
  const logs = pilotLogs(dir);
  assert.equal(slurm.jobInfo(`${job}_0`)?.JobState, 'TIMEOUT', logs);
  const [t] = await tokens(db);
  assertNothingLocked([t!], logs);
  assert.equal(tokenState(t!), 'done', logs);
  assert.equal(t!.slurm_job_id, `${job}_1`, logs);
  assert.match(logs, new RegExp(`--- pilot-${job}_0.log[\\s\\S]*DUE TO TIME LIMIT[\\s\\S]*t0: interrupted, put back to todo`));
  assert.deepEqual((t as { error?: unknown[] }).error ?? [], [], 'the interrupted run left no error entry');
});

/** Two tokens whose first run never ends by itself; an array of two pilots holding them; then `stop` is called. */
async function stopRunningArray(label: string, stop: (job: string) => void) {
  const marks = tempDir('slurm-marks');
  const inputs = [0, 1].map((i) => `if [ -e ${marks}/ran-${i} ]; then echo again; else touch ${marks}/ran-${i}; sleep 600; fi`);
  const { db, dir, env } = await setup(label, inputs);
  const job = submit(dir, env, ['--array=0-1']);
  await waitTokens(db, 'both tokens run', (ts) => ts.every((t) => tokenState(t) === 'locked') && existsSync(join(marks, 'ran-0')) && existsSync(join(marks, 'ran-1')));
  stop(job);
  await slurm.waitGone([job]);
  const logs = pilotLogs(dir);
  const ts = await tokens(db);
  assertNothingLocked(ts, logs);
  assert.deepEqual(ts.map(tokenState), ['todo', 'todo'], logs);
  for (const t of ts) {
    assert.deepEqual((t as { error?: unknown[] }).error ?? [], [], `${t._id}: no error recorded\n${logs}`);
    assert.equal(t.exit_code ?? '', '', `${t._id}: no exit code recorded\n${logs}`);
  }
  assert.match(logs, /t0: interrupted, put back to todo/);
  assert.match(logs, /t1: interrupted, put back to todo/);
  assert.doesNotMatch(logs, /exit code/);

  // A later array finds them in todo and runs them.
  const again = submit(dir, env, ['--array=0-1']);
  await slurm.waitGone([again]);
  const done = await tokens(db);
  assert.deepEqual(done.map(tokenState), ['done', 'done'], pilotLogs(dir));
  for (const t of done) assert.match(String(t.slurm_job_id), new RegExp(`^${again}_[01]$`));
}

test('scancel --batch --signal=TERM of a running array (the README\'s stop): the pilots stop their commands, the tokens go back, a later array runs them', { skip }, async () => {
  // Only the batch shells get SIGTERM; each forwards it to its pilot, which stops its command itself.
  await stopRunningArray('slurm-scancel-batch', (job) => {
    const r = slurm.run('scancel', ['--batch', '--signal=TERM', job]);
    assert.equal(r.code, 0, r.stderr);
  });
});

test('plain scancel of a running array: commands killed by Slurm while their pilots stop count as interrupted, tokens go back, a later array runs them', { skip }, async () => {
  // Plain scancel: Slurm signals every process of the jobs (batch shells, pilots, watchdogs, commands).
  await stopRunningArray('slurm-scancel', (job) => {
    const r = slurm.run('scancel', [job]);
    assert.equal(r.code, 0, r.stderr);
  });
});

test('the array script gives each pilot the CPUs of its task as --slots, unless --slots is given; picas run alone keeps one slot', { skip }, async () => {
  const barrier = tempDir('slurm-barrier');
  // Each token waits (bounded) until all three have started: only three at once can all succeed.
  const wait3 = (i: number) => `touch ${barrier}/${i}; for _ in $(seq 300); do [ "$(ls ${barrier} | wc -l)" -ge 3 ] && exit 0; sleep 0.1; done; exit 1`;
  const { db, dir, env } = await setup('slurm-slots', [0, 1, 2].map(wait3));
  const job = submit(dir, env, ['--array=0', '--cpus-per-task=3']);
  await slurm.waitGone([job]);
  const logs = pilotLogs(dir);
  assert.match(logs, /running: picas run --work-dir \S+ --slots 3 --grace 3/);
  assert.deepEqual((await tokens(db)).map(tokenState), ['done', 'done', 'done'], logs);

  // --slots given to the script wins over the allocation; the tokens report their slot folder.
  const where = (i: number) => `echo "slot $(basename "$(dirname "$PWD")")" > ${barrier}/where-${i}`;
  const given = await setup('slurm-slots-given', [0, 1, 2].map(where));
  const job2 = submit(given.dir, given.env, ['--array=0', '--cpus-per-task=3'], ['--slots', '1']);
  await slurm.waitGone([job2]);
  const logs2 = pilotLogs(given.dir);
  assert.match(logs2, /running: picas run --work-dir \S+ --grace 3 --slots 1\n/);
  assert.deepEqual((await tokens(given.db)).map(tokenState), ['done', 'done', 'done'], logs2);
  const slots = new Set([0, 1, 2].map((i) => readFileSync(join(barrier, `where-${i}`), 'utf8').trim()));
  assert.equal(slots.size, 1, `one slot folder only: ${[...slots]}`);

  // picas run itself, in a 3-CPU job without the script: still one slot.
  const plain = await setup('slurm-slots-plain', [3, 4, 5].map(where));
  const job3 = slurm.sbatch([`--chdir=${plain.dir}`, `--output=${join(plain.dir, 'pilot-%j.log')}`, '--cpus-per-task=3', '--wrap', 'picas run --work-dir work'], plain.env);
  await slurm.waitGone([job3]);
  assert.deepEqual((await tokens(plain.db)).map(tokenState), ['done', 'done', 'done'], pilotLogs(plain.dir));
  const plainSlots = new Set([3, 4, 5].map((i) => readFileSync(join(barrier, `where-${i}`), 'utf8').trim()));
  assert.equal(plainSlots.size, 1, `one slot folder only: ${[...plainSlots]}`);
});
