import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../helpers/couch.js';
import { alive, tempDir, waitFor } from '../helpers/cli.js';
import { watchdogLaunch } from '../../src/lease/watchdog-launch.js';
import { WATCHDOG_ENV, type WatchdogMessage } from '../../src/lease/watchdog-protocol.js';

/**
 * The watchdog starts as a real entry of the same program (src/lease/watchdog-launch.ts), never as
 * `node -e <function source>`: from the sources, from the package's dist/, and from a one-file bundle,
 * where the bundle itself is run with PICAS_RUN_AS_WATCHDOG=1 and its entry (src/cli/main.ts) runs the
 * watchdog instead of the CLI. (The single executable takes the bundle's path with process.execPath;
 * test/bundle runs a killed pilot in both builds.)
 */

/** A sleeping process carrying `marker` in its environment, in a process group of its own. */
function markedSleeper(marker: string): number {
  const [name, value] = marker.split('=') as [string, string];
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { ...process.env, [name]: value } });
  child.unref();
  return child.pid!;
}

/** Start a watchdog with `command args`, tell it a deadline already past: it must stop the marked process. */
async function deadlinePassed(command: string, args: string[]): Promise<void> {
  const marker = `PICAS_PILOT_ID=pilot_launchtest${process.pid}${Math.random().toString(36).slice(2, 8)}`;
  const sleeper = markedSleeper(marker);
  const wd = spawn(command, args, { env: { ...process.env, [WATCHDOG_ENV]: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  wd.stdout!.on('data', (d) => { output += d; });
  wd.stderr!.on('data', (d) => { output += d; });
  const init: WatchdogMessage = { type: 'init', pilotPid: process.pid, pilotId: 'launchtest', marker, graceMs: 500, deadline: Date.now() - 1 };
  wd.stdin!.write(`${JSON.stringify(init)}\n`);
  try {
    assert.ok(await waitFor(() => !alive(sleeper), 20_000), `the watchdog stopped the marked process\n${output}`);
    assert.match(output, /lease not renewed in time: stopping process group/);
    assert.doesNotMatch(output, /Usage|error: /i, 'the CLI did not run');
    const exited = new Promise((r) => wd.once('exit', r));
    wd.stdin!.end(`${JSON.stringify({ type: 'stop' })}\n`);
    assert.ok(await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]), 'it exits when told to stop');
  } finally {
    if (wd.exitCode === null) wd.kill('SIGKILL');
    try { process.kill(-sleeper, 'SIGKILL'); } catch { /* gone */ }
  }
}

test('from the sources: the small entry module, with the loader the pilot runs under', async () => {
  const launch = watchdogLaunch();
  assert.equal(launch.how, 'entry-module');
  assert.equal(launch.args.at(-1), join(ROOT, 'src/lease/watchdog-entry.ts'));
  assert.ok(launch.args.includes('--import'), `tsx is passed on: ${launch.args.join(' ')}`);
  await deadlinePassed(launch.command, launch.args);
});

test('from the package (dist/): node dist/lease/watchdog-entry.js, nothing of the CLI', { skip: existsSync(join(ROOT, 'dist/lease/watchdog-launch.js')) ? false : 'no build in dist/ (npm test builds first)' }, async () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    `import { watchdogLaunch } from ${JSON.stringify(join(ROOT, 'dist/lease/watchdog-launch.js'))}; console.log(JSON.stringify(watchdogLaunch()));`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const launch = JSON.parse(r.stdout) as ReturnType<typeof watchdogLaunch>;
  assert.equal(launch.how, 'entry-module');
  assert.deepEqual(launch.args, [join(ROOT, 'dist/lease/watchdog-entry.js')]);
  await deadlinePassed(launch.command, launch.args);
});

test('from a one-file bundle of the CLI: the bundle itself, run with PICAS_RUN_AS_WATCHDOG=1', { timeout: 120_000 }, async () => {
  const dir = tempDir('wd-bundle');
  const file = join(dir, 'picas.mjs');
  // The real one-file build (npm run bundle), the ES module only.
  const made = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--mjs-only', '--out-dir', dir], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  // What the bundled code itself decides (the same function, compiled into the one file).
  const probe = join(dir, 'probe.mjs');
  await build({
    stdin: { contents: `import { watchdogLaunch } from ${JSON.stringify(join(ROOT, 'src/lease/watchdog-launch.ts'))}; console.log(JSON.stringify(watchdogLaunch()));`, resolveDir: ROOT, loader: 'ts' },
    bundle: true, platform: 'node', format: 'esm', outfile: probe, logLevel: 'silent',
  });
  const r = spawnSync(process.execPath, [probe], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const launch = JSON.parse(r.stdout) as ReturnType<typeof watchdogLaunch>;
  assert.equal(launch.how, 'bundle');
  assert.deepEqual(launch.args, [probe], 'the one file runs itself');
  await deadlinePassed(process.execPath, [file]);
});
