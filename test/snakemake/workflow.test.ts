import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import { alive, cliEnv, spawnCli, tempDir, waitFor } from '../helpers/cli.js';
import { heavySkipReason } from '../helpers/heavy.js';
import { buildBundles, runIn } from '../bundle/lone-dir.js';
import type { CouchServer } from '../../src/couch/server.js';
import { ensureDesignDocs, type Token } from '../../src/tokens/index.js';

/**
 * The Snakemake 7 profile for real: examples/snakemake/workflow runs with `snakemake --profile
 * examples/snakemake/v7` while picas pilots process the tokens; `sum` fails once and is submitted again
 * (--restart-times). The profile's scripts call `picas` from PATH: here the one-file build
 * (dist/picas.mjs), as a cluster user would install it.
 */
const snakemake = spawnSync('snakemake', ['--version'], { encoding: 'utf8' });
const skip = heavySkipReason('snakemake') || (snakemake.status === 0 ? false : 'snakemake is not installed (Debian package snakemake; .ci/run installs it)');

let server: TestServer;
let couch: CouchServer;
let dbName: string;
const build = mkdtempSync(join(tmpdir(), 'picas-smk-build-'));

before(async () => {
  if (skip) return;
  buildBundles(build, true);
  server = await testServer();
  couch = server.client();
  dbName = uniqueDbName('smk-flow');
  // As the README says: the database and its views exist before pilots start (picas views).
  await couch.db(dbName).create();
  await ensureDesignDocs(couch.db(dbName));
});
after(async () => {
  if (couch) {
    await couch.db(dbName).destroy().catch(() => {});
    await couch.close();
  }
  rmSync(build, { recursive: true, force: true });
});

test('a workflow with dependencies and a job that fails once runs through picas pilots with the v7 profile', { skip, timeout: 400_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'picas-smk-flow-'));
  cpSync(join(ROOT, 'examples/snakemake/workflow/Snakefile'), join(work, 'Snakefile'));
  const bin = tempDir('smk-bin');
  writeFileSync(join(bin, 'picas'), `#!/bin/sh\nexec "${process.execPath}" "${join(build, 'picas.mjs')}" "$@"\n`);
  chmodSync(join(bin, 'picas'), 0o755);
  const env = cliEnv(server, { PICAS_DATABASE: dbName, PATH: `${bin}:${process.env.PATH}` });

  // Two pilots that wait for work (Snakemake submits jobs as their inputs appear), renewing every 2 s.
  const pilots = [0, 1].map((i) => spawnCli(['run', '--wait', '--poll-interval', '1', '--lease', '6', '--work-dir', join(work, `.pilot-${i}`)], env));
  try {
    const flow = await runIn('snakemake', ['--profile', join(ROOT, 'examples/snakemake/v7'), '--jobs', '4', '--latency-wait', '5', '--nocolor'], { cwd: work, env, timeoutMs: 300_000 });
    assert.equal(flow.code, 0, `snakemake failed:\n${flow.stderr.slice(-4000)}`);
    assert.equal(readFileSync(join(work, 'results/sum.txt'), 'utf8'), '30\n');
    for (const n of [1, 2, 3, 4]) assert.equal(readFileSync(join(work, `squares/${n}.txt`), 'utf8'), `${n * n}\n`);
    assert.match(flow.stderr, /Submitted job \d+ with external jobid 'snakemake_sum_[0-9a-f]{32}'/);
    assert.ok(existsSync(join(work, 'sum.failed-once')));
  } finally {
    for (const p of pilots) p.kill('SIGTERM');
    for (const p of pilots) await p.result;
  }

  // What picas holds: one token per job (4 number, 4 square, 2 tries of sum), the failed try in error.
  const rows = (await couch.db(dbName).allDocs<Token & { properties: { rule: string } }>({ include_docs: true })).rows
    .map((r) => r.doc!).filter((d) => d.type === 'token');
  const byRule = (rule: string) => rows.filter((d) => d.properties.rule === rule);
  assert.equal(byRule('number').length, 4);
  assert.equal(byRule('square').length, 4);
  const sums = byRule('sum');
  assert.equal(sums.length, 2, 'the failed sum job was submitted again as a new token');
  assert.deepEqual(sums.map((t) => Number(t.exit_code)).sort(), [0, 1]);
  for (const t of rows) assert.match(String(t.input), /^#!\/bin\/sh\n# properties = /, 'the job script itself travels in the token');
  rmSync(work, { recursive: true, force: true });
});

test('Ctrl-C in Snakemake calls the v7 profile\'s cancel script: the running job\'s token ends in error "cancelled" and its command is stopped', { skip, timeout: 300_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'picas-smk-cancel-'));
  writeFileSync(join(work, 'Snakefile'), 'rule all:\n    input: "slow.txt"\n\nrule slow:\n    output: "slow.txt"\n    shell: "echo $$ > slow.pid; sleep 300; touch {output}"\n');
  const bin = tempDir('smk-bin2');
  writeFileSync(join(bin, 'picas'), `#!/bin/sh\nexec "${process.execPath}" "${join(build, 'picas.mjs')}" "$@"\n`);
  chmodSync(join(bin, 'picas'), 0o755);
  const env = cliEnv(server, { PICAS_DATABASE: dbName, PATH: `${bin}:${process.env.PATH}` });
  // --lease 3: the pilot checks its tokens every second, so the cancel reaches the command within about that.
  const pilot = spawnCli(['run', '--wait', '--poll-interval', '1', '--lease', '3', '--grace', '2', '--work-dir', join(work, '.pilot')], env);
  try {
    const flow = runIn('snakemake', ['--profile', join(ROOT, 'examples/snakemake/v7'), '--jobs', '1', '--nocolor'], { cwd: work, env, timeoutMs: 200_000 });
    const pidFile = join(work, 'slow.pid');
    assert.ok(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 120_000), 'the job runs on a pilot');
    const shellPid = Number(readFileSync(pidFile, 'utf8'));
    flow.kill('SIGINT');
    const r = await flow;
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, /calls to --cluster-cancel failed/, 'the cancel script ran within Snakemake\'s 2 s');
    assert.ok(await waitFor(() => !alive(shellPid), 30_000), 'the job\'s command was stopped');
    const tokens = (await couch.db(dbName).allDocs<Token & { properties: { rule: string } }>({ include_docs: true })).rows
      .map((row) => row.doc!).filter((d) => d.type === 'token' && d.properties?.rule === 'slow');
    assert.equal(tokens.length, 1);
    assert.equal(tokens[0]!.error.at(-1)?.message, 'cancelled');
    assert.ok(!existsSync(join(work, 'slow.txt')));
  } finally {
    pilot.kill('SIGTERM');
    await pilot.result;
    rmSync(work, { recursive: true, force: true });
  }
});
