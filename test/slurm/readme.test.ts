/**
 * examples/slurm/README.md on a real one-node Slurm: every line of it runs here in order, as written,
 * except those marked `# not run:` for another reason than Slurm (a site's modules, account, partition, a
 * real account's password, the registry). The lines marked "needs a Slurm cluster; test/slurm/readme.test.ts
 * runs it" are left out of the README commands test (test/examples/readme-commands.test.ts, no Slurm
 * there) and run here; the rest run in both. Same rules as there: one bash per block, the database names
 * made unique, the server given in PICAS_* variables.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName } from '../helpers/couch.js';
import { tempDir } from '../helpers/cli.js';
import { heavySkipReason } from '../helpers/heavy.js';
import { startSlurm } from '../helpers/slurm.js';
import { picasOnPath } from '../examples/shim.js';
import { readmeBlocks, withDatabases } from '../examples/readme-commands.js';
import type { Token } from '../../src/tokens/token.js';
import { tokenState } from '../../src/tokens/state.js';

const README = 'examples/slurm/README.md';
const HERE = /test\/slurm\/readme\.test\.ts/;
const heavy = heavySkipReason('slurm');
const started = heavy ? { skip: heavy } : await startSlurm();
const skip = started.skip ?? false;
if (skip) console.log(`skipped: ${skip}`);
const temps: string[] = [];
after(async () => {
  await started.cluster?.stop();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

test(`${README}: its Slurm lines run on a real Slurm, in order, as written`, { skip, timeout: 600_000 }, async (t) => {
  const slurm = started.cluster!;
  const server = await testServer();
  const couch = server.client();
  const names = new Map<string, string>();
  const rename = (name: string) => {
    if (name.startsWith('$')) return name;
    if (!names.has(name)) names.set(name, uniqueDbName(`slurm-readme-${name}`));
    return names.get(name)!;
  };
  // The README's paths are relative to the top of a checkout; sbatch writes the pilots' logs here.
  const work = tempDir('slurm-readme');
  temps.push(work);
  symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
  const home = join(work, 'home');
  mkdirSync(join(home, '.config'), { recursive: true });
  const env = slurm.env({
    ...process.env,
    PATH: `${picasOnPath()}:${process.env.PATH}`,
    HOME: home,
    TMPDIR: work,
    PICAS_CONFIG_DIR: join(home, '.config', 'picas'),
    PICAS_HOST_URL: server.url,
    PICAS_USERNAME: server.username,
    PICAS_PASSWORD: server.password,
    PICAS_DATABASE: rename('mypicasdb'),
  });
  delete env.PICAS_TEST_COUCHDB_URL;
  const outputs: Record<number, string> = {};
  let ranHere = 0;
  try {
    for (const block of readmeBlocks(join(ROOT, README), README)) {
      const lines = block.commands.filter((c) => !c.notRun || HERE.test(c.notRun));
      ranHere += lines.filter((c) => c.notRun).length;
      if (lines.length === 0) continue;
      let script = 'set -o pipefail\n';
      for (const c of lines) script += `echo "::line ${c.line}"\n${withDatabases(c.text, rename)}\n__rc=$?; echo "::rc ${c.line} $__rc"; [ $__rc -eq 0 ] || exit $__rc\n`;
      const child = spawn('bash', ['-c', script], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      const guard = setTimeout(() => child.kill('SIGKILL'), 300_000);
      await new Promise((resolve) => child.on('close', resolve));
      clearTimeout(guard);
      for (const c of lines) {
        const rc = new RegExp(`::rc ${c.line} (\\d+)`).exec(out);
        const start = out.indexOf(`::line ${c.line}\n`);
        outputs[c.line] = start < 0 ? '' : out.slice(start, rc ? out.indexOf(rc[0]) : out.length);
        assert.equal(rc?.[1], '0', `${README}:${c.line}: \`${c.text}\` ${rc ? `exited with ${rc[1]}` : 'did not run'}\n${out}\n${slurm.logs()}`);
      }
    }
    assert.ok(ranHere >= 5, `the README's Slurm lines ran here (${ranHere})`);
    t.diagnostic(`${ranHere} Slurm lines of ${README} ran`);

    const tokens = async (name: string) => (await couch.db(rename(name)).allDocs<Token>({ include_docs: true })).rows.map((r) => r.doc!).filter((d) => d.type === 'token');
    // The demonstration: six tokens, run by the array's tasks.
    const demo = await tokens('slurmdemo');
    assert.equal(demo.length, 6);
    for (const tok of demo) {
      assert.equal(tokenState(tok), 'done');
      assert.match(String(tok.slurm_job_id), /^\d+_[0-2]$/);
    }
    assert.match(Object.values(outputs).join('\n'), /pilot \d+_0 on /);
    // The autopilot: its dry run shows the MultiCore pilots' size from the tokens, and the loop drained both views.
    const cores = await tokens('slurmcores');
    assert.deepEqual(cores.map(tokenState), cores.map(() => 'done'));
    assert.match(Object.values(outputs).join('\n'), /sbatch --parsable --job-name=picas-\S+-MultiCore --array=0-1 --cpus-per-task=4 --mem=1024M --time=00:30:00 /);
    assert.deepEqual(slurm.queue(), []);
  } finally {
    for (const name of names.values()) await couch.db(name).destroy().catch(() => {});
    await couch.close();
  }
});
