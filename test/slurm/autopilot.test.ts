/**
 * `picas autopilot` on a real one-node Slurm (issue 14): tokens of two core classes, selected by the
 * SingleCore/MultiCore design documents (REFERENCE.md), are fed pilots of the right size until the views
 * are drained, and then nothing more is submitted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { tempDir as makeTempDir } from '../helpers/cli.js';
import { run } from '../examples/run.js';
import { heavySkipReason } from '../helpers/heavy.js';
import { startSlurm, type SlurmCluster } from '../helpers/slurm.js';
import { exampleEnv } from '../examples/shim.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { newToken, type Token } from '../../src/tokens/token.js';
import { tokenState } from '../../src/tokens/state.js';
import { conditionalMonitor, ensureDesignDocs } from '../../src/tokens/design.js';
import { countStates } from '../../src/tokens/status.js';
import type { ViewReport } from '../../src/autopilot/cycle.js';

const heavy = heavySkipReason('slurm');
const started = heavy ? { skip: heavy } : await startSlurm();
const skip = started.skip ?? false;
if (skip) console.log(`skipped: ${skip}`);
const slurm = started.cluster as SlurmCluster;

let server: TestServer;
let couch: CouchServer;
const created: Database[] = [];
const temps: string[] = [];
const tempDir = (label: string) => { const d = makeTempDir(label); temps.push(d); return d; };

before(async () => { if (!skip) { server = await testServer(); couch = server.client(); } });
after(async () => {
  for (const db of created) await db.destroy().catch(() => {});
  await couch?.close();
  await started.cluster?.stop();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}\n${slurm.logs()}`);
    await sleep(300);
  }
}

test('autopilot feeds SingleCore and MultiCore pilots of the right size until the views are drained, then submits nothing', { skip, timeout: 600_000 }, async () => {
  const db = couch.db(uniqueDbName('autopilot'));
  created.push(db);
  await db.create();
  await ensureDesignDocs(db, [conditionalMonitor('SingleCore', 'doc.cores == 1'), conditionalMonitor('MultiCore', 'doc.cores == 4')]);
  const marks = tempDir('autopilot-marks');
  const go = join(marks, 'go');
  // Each command notes the CPUs of its Slurm allocation, then waits (bounded) for the test's go-ahead, so
  // that the autopilot's second pass sees a settled queue.
  const input = `echo "$SLURM_CPUS_PER_TASK $SLURM_JOB_NAME" > ${marks}/$PICAS_TOKEN_ID; for _ in $(seq 600); do [ -e ${go} ] && exit 0; sleep 0.2; done; exit 1`;
  await db.bulkDocs([
    ...Array.from({ length: 6 }, (_, i) => newToken({ _id: `single-${i}`, cores: 1, input })),
    ...Array.from({ length: 3 }, (_, i) => newToken({ _id: `multi-${i}`, cores: 4, memory: '100M', walltime: '10:00', input })),
  ]);
  const dir = tempDir('autopilot');
  const config = join(dir, 'autopilot.yml');
  writeFileSync(config, [
    'pilot_args: [--grace, 3]',
    'views:',
    '  - design: SingleCore',
    '    max_jobs: 4',
    '  - design: MultiCore',
    '    max_jobs: 5',
    '',
  ].join('\n'));
  const env = slurm.env(exampleEnv(server, db.name, { TMPDIR: dir }));
  const autopilot = async (...args: string[]) => {
    // `picas` from PATH (this checkout's CLI), run in the submitting folder as a user would.
    const r = await run('picas', ['autopilot', '--config', config, ...args], { cwd: dir, env, timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r;
  };
  const reports = (stdout: string): ViewReport[][] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

  // --dry-run: the commands it would run, nothing submitted.
  const dry = await autopilot('--dry-run');
  const [singleCmd, multiCmd] = dry.stdout.trim().split('\n');
  assert.match(singleCmd!, new RegExp(`^sbatch --parsable --job-name=picas-${db.name}-SingleCore --array=0-3 --cpus-per-task=1 \\S+/examples/slurm/picas-array.sh --design-doc SingleCore --view todo --slots 1 --grace 3$`));
  assert.match(multiCmd!, new RegExp(`^sbatch --parsable --job-name=picas-${db.name}-MultiCore --array=0-2 --cpus-per-task=4 --mem=100M --time=00:10:00 \\S+ --design-doc MultiCore`));
  assert.deepEqual(slurm.queue(), []);

  // One pass: SingleCore gets its 4 (max_jobs), MultiCore 3 (no more pilots than todo tokens, under its 5).
  const first = reports((await autopilot('--json')).stdout)[0]!;
  assert.deepEqual(first.map((r) => [r.design, r.todo, r.jobs, r.submitted]), [['SingleCore', 6, 0, 4], ['MultiCore', 3, 0, 3]]);
  const [singleJob, multiJob] = first.map((r) => r.jobIds[0]!);
  const multiInfo = slurm.jobInfo(`${multiJob}_0`)!;
  assert.equal(multiInfo.JobName, `picas-${db.name}-MultiCore`);
  assert.equal(multiInfo.NumCPUs, '4');
  assert.equal(multiInfo.TimeLimit, '00:10:00');
  assert.equal(multiInfo.MinMemoryNode, '100M');
  assert.equal(slurm.jobInfo(`${singleJob}_0`)!.NumCPUs, '1');

  // All seven pilots hold a token (16 CPUs: 4 x 1 + 3 x 4); a second pass then submits nothing: SingleCore
  // is at its 4 jobs, MultiCore has no todo token left.
  await until('seven pilots run', async () => {
    const [s, m] = [await countStates(db, 'SingleCore'), await countStates(db, 'MultiCore')];
    return s.locked === 4 && m.locked === 3;
  });
  const second = reports((await autopilot('--json')).stdout)[0]!;
  assert.deepEqual(second.map((r) => [r.design, r.todo, r.jobs, r.pending, r.submitted]), [['SingleCore', 2, 4, 0, 0], ['MultiCore', 0, 3, 0, 0]]);

  // Let the work finish; in a loop the autopilot feeds what is left and stops when the views are drained.
  writeFileSync(go, '');
  const loop = await autopilot('--every', '2', '--until-empty', '--json');
  const passes = reports(loop.stdout);
  assert.deepEqual(passes.at(-1)!.map((r) => [r.todo, r.locked, r.jobs, r.submitted]), [[0, 0, 0, 0], [0, 0, 0, 0]]);
  assert.deepEqual(slurm.queue(), []);
  const tokens = (await db.allDocs<Token>({ include_docs: true })).rows.map((r) => r.doc!).filter((d) => d.type === 'token');
  assert.deepEqual(tokens.map(tokenState), tokens.map(() => 'done'));
  // Every token ran in a pilot of its class, with the CPUs it asked for.
  for (const t of tokens) {
    const [cpus, name] = readFileSync(join(marks, t._id), 'utf8').trim().split(' ');
    assert.deepEqual([cpus, name], t._id.startsWith('multi') ? ['4', `picas-${db.name}-MultiCore`] : ['1', `picas-${db.name}-SingleCore`], t._id);
  }
  // The pilots' logs are where the script's #SBATCH --output puts them: the submitting folder.
  assert.ok(readdirSync(dir).some((f) => /^picas-pilot-\d+_\d+\.log$/.test(f)));

  // No work: a pass submits nothing.
  const last = reports((await autopilot('--json')).stdout)[0]!;
  assert.deepEqual(last.map((r) => r.submitted), [0, 0]);
  assert.deepEqual(slurm.queue(), []);
});
