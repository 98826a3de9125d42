/**
 * Every command line in README.md and examples/*\/README.md runs here, as written.
 *
 * The convention, for everyone who adds README lines:
 * - Commands go in fenced code blocks marked ```sh (or bash, shell, console), one command per line; a line
 *   ending in `\` goes on with the next; comment-only lines are not run.
 * - The lines of one block run in order in one bash (`cd` and `export` carry over to the next line, not to
 *   the next block; `set -o pipefail`), the blocks of one README in order, all from the top of a scratch copy
 *   of the checkout (examples/, scripts/ and dist/ copied, everything else linked), with this checkout's
 *   `picas` first on PATH. A line fails the test when it exits non-zero.
 * - The only substitutions, made by this test: the server (PICAS_HOST_URL, PICAS_USERNAME, PICAS_PASSWORD
 *   in the environment); database names (`PICAS_DATABASE=<name>`, `--database <name>`, `--db <name>` and
 *   the default database become a unique name per README); temporary paths (the scratch copy, HOME,
 *   PICAS_CONFIG_DIR); reduced sizes (the fractals example's own FRACTALS_D and FRACTALS_M).
 * - A line may start a background process (`... &`): it is stopped (SIGTERM to the block's process group)
 *   when its block ends.
 * - A line that cannot run here (a global install, the package registry, a site's cluster, a remote host, a
 *   real account's password) ends with a comment `# not run: <reason>`. The test lists what it skipped.
 * - Each examples/<name>/README.md uses a database of its own, set in the README (`export
 *   PICAS_DATABASE=<name>` first, or `--database <name>` on its picas lines).
 * - Tools a README line needs beyond bash, coreutils and picas must be installed by .ci/run (the line of
 *   your area).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName } from '../helpers/couch.js';
import { tempDir } from '../helpers/cli.js';
import { heavySkipReason } from '../helpers/heavy.js';
import { picasOnPath } from './shim.js';
import { readmeBlocks, withDatabases, type CodeBlock } from './readme-commands.js';

const READMES = ['README.md', ...readdirSync(join(ROOT, 'examples')).sort()
  .filter((name) => existsSync(join(ROOT, 'examples', name, 'README.md')))
  .map((name) => `examples/${name}/README.md`)];

/**
 * A scratch copy of the checkout (without .git): README lines may write anywhere in it. Only node_modules
 * is linked, not copied, which is why a line that installs packages must be marked not run (an install
 * would replace the checkout's own packages through the link).
 */
function scratchCheckout(): string {
  const copy = tempDir('readme');
  for (const entry of readdirSync(ROOT)) {
    if (entry === '.git' || entry === 'picas-work' || entry === 'picas-data') continue;
    if (entry === 'node_modules') symlinkSync(join(ROOT, entry), join(copy, entry));
    // (A single executable built into dist/ is ~100 MB and no README line here needs it.)
    else cpSync(join(ROOT, entry), join(copy, entry), { recursive: true, filter: (from) => !from.endsWith(join('dist', 'picas')) });
  }
  return copy;
}

/** Installing packages needs the registry, and would go through the node_modules link: never run here. */
const INSTALLS = /\b(npm|pnpm|yarn)\s+(ci|install|i|add|update|uninstall|rm)\b/;

interface LineResult { file: string; line: number; text: string; code: number | undefined; output: string }

/** Run one block's lines in one bash; the result of each line that ran, with its output. */
async function runBlock(block: CodeBlock, cwd: string, env: NodeJS.ProcessEnv, rename: (db: string) => string): Promise<LineResult[]> {
  const runnable = block.commands.filter((c) => !c.notRun);
  let script = `set -o pipefail\ncd ${JSON.stringify(cwd)}\n`;
  for (const c of runnable) {
    script += `echo "::readme-line ${c.line}"\n${withDatabases(c.text, rename)}\n__rc=$?; echo "::readme-rc ${c.line} $__rc"; [ $__rc -eq 0 ] || exit $__rc\n`;
  }
  // A process group of its own: whatever a line left running in the background is stopped with the block.
  const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const group = (sig: NodeJS.Signals) => { try { process.kill(-child.pid!, sig); } catch { /* gone */ } };
  const guard = setTimeout(() => group('SIGKILL'), 300_000);
  await new Promise((resolve) => child.on('exit', resolve));
  clearTimeout(guard);
  // Output still in the pipes, then the background processes of the block (they may hold the pipes open).
  await new Promise((resolve) => setTimeout(resolve, 300));
  group('SIGTERM');
  child.stdout.destroy();
  child.stderr.destroy();
  return runnable.map((c) => {
    const start = out.indexOf(`::readme-line ${c.line}\n`);
    const rc = new RegExp(`::readme-rc ${c.line} (\\d+)`).exec(out);
    const end = rc ? out.indexOf(rc[0]) : out.length;
    return { file: c.file, line: c.line, text: c.text, code: rc ? Number(rc[1]) : undefined, output: start < 0 ? '' : out.slice(start, end).replace(/^::readme-line \d+\n/, '') };
  });
}

/** What a README's lines must have left behind, beyond exiting 0. */
const CHECKS: Record<string, (copy: string, results: LineResult[]) => void> = {
  'README.md': (copy) => {
    // The fractals line, run as written: the 24 images in the folder where the pilot ran.
    const images = readdirSync(join(copy, 'examples/fractals')).filter((f) => f.endsWith('.ppm'));
    assert.equal(images.length, 24, `24 images in examples/fractals: ${images.join(' ')}`);
  },
  'examples/fractals/README.md': (copy) => {
    assert.equal(readdirSync(join(copy, 'examples/fractals/images')).filter((f) => f.endsWith('.ppm')).length, 24);
    const csv = readFileSync(join(copy, 'examples/fractals/fractals.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 25, 'a header and 24 rows');
  },
  'examples/wordcount/README.md': (_copy, results) => {
    const out = results.find((r) => r.text.includes('jq'))!.output;
    assert.doesNotMatch(out, /\\n/, 'no literal \\n after the counts');
    for (const [file, count] of [['fox.txt', 9], ['hamlet.txt', 18], ['picas.txt', 18]] as const) {
      assert.match(out, new RegExp(`/${file.replace('.', '\\.')}\\t${count}$`, 'm'));
    }
  },
  'examples/quick/README.md': (_copy, results) => {
    assert.match(results.find((r) => r.text.startsWith('picas status'))!.output, /done\D+3/);
  },
};

test('the README commands: every line runs as written (or is marked "# not run: <reason>")', { timeout: 1_800_000, skip: heavySkipReason('README commands') }, async (t) => {
  const server = await testServer();
  const couch = server.client();
  const created = new Set<string>();
  const skipped: string[] = [];
  const databases = new Map<string, string>(); // README -> its example database name as written
  try {
    for (const readme of READMES) {
      const blocks = readmeBlocks(join(ROOT, readme), readme);
      for (const c of blocks.flatMap((b) => b.commands)) if (c.notRun) skipped.push(`${readme}:${c.line}: ${c.text.split('\n')[0]!.replace(/\s+#.*$/, '')} (${c.notRun})`);
      if (blocks.every((b) => b.commands.every((c) => c.notRun))) continue;
      await t.test(readme, async () => {
        // Checked before anything runs: an unmarked install would replace this checkout's own packages.
        const installs = blocks.flatMap((b) => b.commands).filter((c) => !c.notRun && INSTALLS.test(c.text));
        assert.deepEqual(installs.map((c) => `${c.file}:${c.line}: ${c.text}`), [], 'a line that installs packages needs the registry: mark it "# not run: <reason>"');
        const names = new Map<string, string>();
        const rename = (name: string) => {
          if (name.startsWith('$')) return name;
          if (!names.has(name)) { const u = uniqueDbName(`readme-${name}`); names.set(name, u); created.add(u); }
          return names.get(name)!;
        };
        const copy = scratchCheckout();
        const home = tempDir('readme-home');
        mkdirSync(join(home, '.config'), { recursive: true });
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          PATH: `${picasOnPath()}:${process.env.PATH}`,
          HOME: home,
          PICAS_CONFIG_DIR: join(home, '.config', 'picas'),
          PICAS_HOST_URL: server.url,
          PICAS_USERNAME: server.username,
          PICAS_PASSWORD: server.password,
          PICAS_DATABASE: rename('mypicasdb'),
          FRACTALS_D: '24,32,40,48',
          FRACTALS_M: '20,40,60',
        };
        delete env.PICAS_TEST_COUCHDB_URL;
        const results: LineResult[] = [];
        for (const block of blocks) {
          const ran = await runBlock(block, copy, env, rename);
          results.push(...ran);
          const failed = ran.find((r) => r.code !== 0);
          assert.equal(failed, undefined, failed && `${failed.file}:${failed.line}: \`${failed.text}\` ${failed.code === undefined ? 'did not run (an earlier line ended the block)' : `exited with ${failed.code}`}\n${failed.output}`);
        }
        CHECKS[readme]?.(copy, results);
        const own = [...names.keys()].filter((n) => n !== 'mypicasdb');
        if (readme.startsWith('examples/')) {
          assert.ok(own.length > 0, `${readme} sets a database of its own (export PICAS_DATABASE=<name> or --database <name>)`);
          for (const n of own) {
            const other = [...databases.entries()].find(([file, db]) => db === n && file.startsWith('examples/'));
            assert.equal(other, undefined, `${readme} and ${other?.[0]} share the database ${n}`);
            databases.set(readme, n);
          }
        }
      });
    }
    // What could not run here, and why: listed in the test's output.
    for (const line of skipped) t.diagnostic(`not run: ${line}`);
  } finally {
    for (const name of created) await couch.db(name).destroy().catch(() => {});
    await couch.close();
  }
});
