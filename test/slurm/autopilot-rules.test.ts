/**
 * `picas autopilot`'s rules and errors, without Slurm: a batch system made of two templates (issue 14:
 * "other batch systems can be driven by two templates"). The submit template appends jobs to a file, the
 * query template prints it; the test changes job states in the file as a scheduler would. Also the
 * library's parsers of token fields, templates and the configuration file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { runCliOn, tempDir } from '../helpers/cli.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';
import { newToken, type Token } from '../../src/tokens/token.js';
import { conditionalMonitor, ensureDesignDocs } from '../../src/tokens/design.js';
import {
  fillTemplate, formatWalltime, loadAutopilotConfig, parseAutopilotConfig, parseJobList, parseMemoryMB, parseWalltimeSeconds,
  shellQuote, TemplateError, AutopilotConfigError, ResourceFieldError, type ViewReport,
} from '../../src/index.js';

let server: TestServer;
let couch: CouchServer;
const created: Database[] = [];
const temps: string[] = [];
before(async () => { server = await testServer(); couch = server.client(); });
after(async () => {
  for (const db of created) await db.destroy().catch(() => {});
  await couch.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** SingleCore tokens (cores 1) and MultiCore tokens (cores 4, 2G, 90 minutes), and a folder for job files. */
async function setup(single: number, multi: number, extra: Record<string, unknown> = {}) {
  const db = couch.db(uniqueDbName('autopilot-rules'));
  created.push(db);
  await db.create();
  await ensureDesignDocs(db, [conditionalMonitor('SingleCore', 'doc.cores == 1'), conditionalMonitor('MultiCore', 'doc.cores == 4')]);
  await db.bulkDocs([
    ...Array.from({ length: single }, (_, i) => newToken({ _id: `s${i}`, cores: 1, input: 'true' })),
    ...Array.from({ length: multi }, (_, i) => newToken({ _id: `m${i}`, cores: 4, memory: '2G', walltime: 90, input: 'true', ...extra })),
  ]);
  const dir = tempDir('autopilot-rules');
  temps.push(dir);
  return { db, dir };
}

/** A batch system of two templates over one job file per view (`<dir>/<job name>.jobs`, lines `<id> <state>`). */
const fileBatch = (dir: string) => [
  '--submit', `for i in $(seq {count}); do echo "{design}-$RANDOM$RANDOM PENDING {cores}" >> ${dir}/{name}.jobs; done`,
  '--query', `cat ${dir}/{name}.jobs 2>/dev/null || true`,
];
const jobLines = (dir: string, name: string) => existsSync(join(dir, `${name}.jobs`)) ? readFileSync(join(dir, `${name}.jobs`), 'utf8').trim().split('\n').filter(Boolean) : [];
const pass = async (db: Database, args: string[]) => {
  const r = await runCliOn(server, ['autopilot', '--database', db.name, '--json', ...args]);
  return { ...r, reports: r.stdout.trim() ? JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ViewReport[] : [] };
};

test('max jobs in flight, never more pending pilots than todo tokens, none without work; sizes from the tokens', async () => {
  const { db, dir } = await setup(5, 2);
  const args = ['--view', 'SingleCore', '--view', 'MultiCore', '--view', 'Monitor', '--max-jobs', '3', ...fileBatch(dir)];
  const first = await pass(db, args);
  assert.equal(first.code, 0, first.stderr);
  // SingleCore: 5 todo, at most 3 jobs. MultiCore: 2 todo, so 2 pilots, under its 3. Monitor: 7 todo, 3 jobs.
  assert.deepEqual(first.reports.map((r) => [r.design, r.todo, r.jobs, r.submitted]), [['SingleCore', 5, 0, 3], ['MultiCore', 2, 0, 2], ['Monitor', 7, 0, 3]]);
  const single = jobLines(dir, `picas-${db.name}-SingleCore`);
  const multi = jobLines(dir, `picas-${db.name}-MultiCore`);
  assert.equal(single.length, 3);
  assert.equal(multi.length, 2);
  // Sizes from the tokens: cores, and MultiCore's 2G and 90 minutes in Slurm's units.
  for (const l of single) assert.match(l, /^SingleCore-\d+ PENDING 1$/);
  for (const l of multi) assert.match(l, /^MultiCore-\d+ PENDING 4$/);
  const sizes = await pass(db, ['--view', 'MultiCore', '--dry-run', '--submit', 'sbatch -c {cores} --mem={memory} --time={walltime} pilot.sh', '--query', 'true']);
  assert.equal(sizes.stdout.split('\n')[0], 'sbatch -c 4 --mem=2048M --time=01:30:00 pilot.sh');
  // Without {count} in the template it would have run once per pilot; with it, once per view.
  assert.equal(first.reports[0]!.commands.length, 1);

  // Nothing changed: every view is at its limit or has as many pending pilots as todo tokens.
  const second = await pass(db, args);
  assert.deepEqual(second.reports.map((r) => [r.jobs, r.pending, r.submitted]), [[3, 3, 0], [2, 2, 0], [3, 3, 0]]);

  // The MultiCore pilots start (not pending any more) but hold no token yet: room for one more (max 3),
  // and 2 todo tokens with 0 pending pilots.
  writeFileSync(join(dir, `picas-${db.name}-MultiCore.jobs`), multi.map((l) => l.replace('PENDING', 'RUNNING')).join('\n') + '\n');
  const third = await pass(db, args);
  assert.deepEqual(third.reports.map((r) => r.submitted), [0, 1, 0]);
  assert.equal(jobLines(dir, `picas-${db.name}-MultiCore`).length, 3);

  // No work: nothing is submitted, whatever the room.
  const empty = await setup(0, 0);
  const none = await pass(empty.db, ['--view', 'SingleCore', '--view', 'MultiCore', ...fileBatch(empty.dir)]);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(none.reports.map((r) => [r.todo, r.submitted, r.commands.length]), [[0, 0, 0], [0, 0, 0]]);
  assert.deepEqual(jobLines(empty.dir, `picas-${empty.db.name}-SingleCore`), []);
});

test('--dry-run prints the commands and runs none; a template without {count} runs once per pilot', async () => {
  const { db, dir } = await setup(2, 0);
  const perPilot = ['--submit', `echo one >> ${dir}/submitted`, '--query', 'true'];
  const dry = await pass(db, ['--view', 'SingleCore', '--dry-run', ...perPilot]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.stdout.trim().split('\n').slice(0, 2), [`echo one >> ${dir}/submitted`, `echo one >> ${dir}/submitted`]);
  assert.ok(!existsSync(join(dir, 'submitted')), 'a dry run submits nothing');
  const real = await pass(db, ['--view', 'SingleCore', ...perPilot]);
  assert.equal(real.code, 0, real.stderr);
  assert.equal(readFileSync(join(dir, 'submitted'), 'utf8'), 'one\none\n');
});

test('the submit command (and so the pilots) gets the server and database given to the autopilot by option', async () => {
  const { db, dir } = await setup(1, 0);
  // runCliOn gives --url and --database as options; the environment has neither.
  const r = await pass(db, ['--view', 'SingleCore', '--submit', `env > ${dir}/env`, '--query', 'true']);
  assert.equal(r.code, 0, r.stderr);
  const env = readFileSync(join(dir, 'env'), 'utf8');
  assert.match(env, new RegExp(`^PICAS_DATABASE=${db.name}$`, 'm'));
  assert.match(env, new RegExp(`^PICAS_HOST_URL=${server.url.replace(/[.]/g, '\\.')}$`, 'm'));
});

test('failures: one clear line, the documented exit code, nothing submitted and no token touched', async () => {
  const { db, dir } = await setup(2, 1, {});
  const before = (await db.allDocs<Token>({ include_docs: true })).rows.map((r) => r.doc!);
  const cases: [string[], number, RegExp][] = [
    [['--view', 'SingleCore', '--submit', 'echo no batch system here >&2; exit 7', '--query', 'true'], 1, /SingleCore: submit failed \(exit 7: no batch system here\)/],
    [['--view', 'SingleCore', '--submit', `touch ${dir}/submitted`, '--query', 'echo cannot reach the scheduler >&2; exit 1'], 1, /SingleCore: query failed \(exit 1: cannot reach the scheduler\)/],
    [['--view', 'SingleCore', '--submit', 'qsub {nodes}', '--query', 'true'], 3, /--view SingleCore: submit: unknown placeholder \{nodes\}; known: \{database\}/],
    [['--view', 'SingleCore', '--max-jobs', 'many'], 2, /--max-jobs must be a number >= 0, not "many"/],
    [['--view', 'SingleCore', '--until-empty'], 2, /--until-empty needs --every <seconds>/],
    [[], 2, /no views: give --view SingleCore --view MultiCore/],
    [['--view', 'SingleCore', '--memory', 'lots'], 3, /memory "lots" is not a size like 4000 \(MB\), 512M or 4G/],
    [['--config', join(dir, 'missing.yml')], 3, /cannot read the autopilot configuration \S+missing\.yml: no such file/],
    [['--view', 'NoSuchDesign', '--submit', 'true', '--query', 'true'], 6, /NoSuchDesign/],
  ];
  for (const [args, code, message] of cases) {
    const r = await pass(db, args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('picas:')).length <= 1, true, r.stderr);
  }
  assert.ok(!existsSync(join(dir, 'submitted')), 'a failed query submits nothing');
  // A token asking for an impossible size fails its view only, saying which token.
  await db.put({ ...newToken({ _id: 'm-bad', cores: 4, walltime: 'soon', input: 'true' }) });
  const bad = await pass(db, ['--view', 'MultiCore', '--view', 'SingleCore', '--submit', `echo {count} >> ${dir}/{design}`, '--query', 'true']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /MultiCore: token m-bad in MultiCore\/todo: walltime "soon" is not a Slurm time/);
  assert.ok(!existsSync(join(dir, 'MultiCore')));
  assert.equal(readFileSync(join(dir, 'SingleCore'), 'utf8'), '2\n');
  const afterDocs = (await db.allDocs<Token>({ include_docs: true })).rows.map((r) => r.doc!).filter((d) => d._id !== 'm-bad');
  assert.deepEqual(afterDocs, before, 'the autopilot only reads tokens');
});

test('library: token fields in Slurm units, templates quote every value, job lists, the configuration file', () => {
  assert.equal(parseMemoryMB('4G', 'x'), 4096);
  assert.equal(parseMemoryMB(4000, 'x'), 4000);
  assert.equal(parseMemoryMB('512M', 'x'), 512);
  assert.throws(() => parseMemoryMB('4 gigs', 't1'), ResourceFieldError);
  assert.equal(parseWalltimeSeconds(90, 'x'), 5400);
  assert.equal(parseWalltimeSeconds('10:30', 'x'), 630);
  assert.equal(parseWalltimeSeconds('01:30:00', 'x'), 5400);
  assert.equal(parseWalltimeSeconds('2-00', 'x'), 172800);
  assert.equal(parseWalltimeSeconds('1-02:03:04', 'x'), 93784);
  assert.throws(() => parseWalltimeSeconds('1h', 'x'), /is not a Slurm time/);
  assert.equal(formatWalltime(93784), '1-02:03:04');
  assert.equal(formatWalltime(5400), '01:30:00');

  assert.equal(shellQuote("it's; rm -rf ~"), `'it'\\''s; rm -rf ~'`);
  assert.equal(fillTemplate('submit {design} {{literal}} -c {cores}', { design: 'a b', cores: 4 }, 't'), "submit 'a b' {literal} -c 4");
  assert.throws(() => fillTemplate('x {memory}', {}, 'submit of V'), (e: Error) => e instanceof TemplateError && /submit of V uses \{memory\}, which has no value here/.test(e.message));

  assert.deepEqual(parseJobList('12_0 PENDING\n12_1 RUNNING\n\n13 CG\n14\n'), [
    { id: '12_0', state: 'PENDING', pending: true }, { id: '12_1', state: 'RUNNING', pending: false },
    { id: '13', state: 'CG', pending: false }, { id: '14', state: '', pending: false },
  ]);

  const shipped = loadAutopilotConfig(join(ROOT, 'examples/slurm/autopilot.yml'));
  assert.deepEqual(shipped.map((v) => [v.design, v.maxJobs, v.walltime, v.pilotArgs]), [
    ['SingleCore', 8, '01:00:00', ['--max-token-time', '3000']], ['MultiCore', 4, '01:00:00', ['--max-token-time', '3000']],
  ]);
  assert.throws(() => parseAutopilotConfig('views:\n  - design: A\n    maxjobs: 3\n', 'f.yml'), (e: Error) => e instanceof AutopilotConfigError && /^f\.yml: views\[0\]: unknown setting "maxjobs"; known: design, view, max_jobs/.test(e.message));
  assert.throws(() => parseAutopilotConfig('max_jobs: 3\n', 'f.yml'), /f\.yml: views must be a list of at least one view/);
  assert.throws(() => parseAutopilotConfig('views: [{design: A, max_jobs: -1}]', 'f.yml'), /views\[0\]: max_jobs must be a whole number >= 0, not -1/);
  assert.throws(() => parseAutopilotConfig('views: [', 'f.yml'), /f\.yml: not valid YAML or JSON/);
});
