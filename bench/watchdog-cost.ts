// What a pilot's watchdog costs while it waits, and how fast it frees a dead pilot's tokens.
//
//   npx tsx bench/watchdog-cost.ts [--seconds 10] [--slots 2] [--from dist|src]
//
// Starts an embedded server, one `picas run --slots N` over N tokens that sleep, and measures over a
// window while the commands sleep: CPU per second of the pilot and of its watchdog (from /proc, 10 ms
// ticks), the watchdog's RSS; then the cost of one full /proc scan (what the old watchdog did five times a
// second, on every tick); then SIGKILLs the pilot and times how long until its tokens are free again and
// the watchdog's peak RSS while it puts them back. `--from dist` (default when built) runs the CLI from
// dist/, as users do; `--from src` through tsx (the watchdog then also loads tsx).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnEmbeddedServer, ROOT } from '../test/helpers/couch.js';
import { CouchServer } from '../src/couch/server.js';
import { ensureDesignDocs, newToken, countStates } from '../src/tokens/index.js';
import { markedGroups } from '../src/lease/watchdog-scan.js';
import { cpuSeconds, memoryMb } from './lib/proc.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const seconds = Number(arg('seconds', '10'));
const slots = Number(arg('slots', '2'));
const from = arg('from', existsSync(join(ROOT, 'dist/cli/main.js')) ? 'dist' : 'src');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function watchdogOf(pilotPid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pilotPid) continue;
      if (readFileSync(`/proc/${name}/environ`).includes(Buffer.from('PICAS_RUN_AS_WATCHDOG=1\0'))) return Number(name);
    } catch { /* gone */ }
  }
  return undefined;
}

const server = await spawnEmbeddedServer();
const couch = new CouchServer({ url: server.url, username: server.username, password: server.password });
const db = couch.db(`watchdog-cost-${Date.now()}`);
try {
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(Array.from({ length: slots }, (_, i) => newToken({ _id: `sleep${i}`, input: 'sleep 600' })));
  const cli = from === 'dist' ? [join(ROOT, 'dist/cli/main.js')] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
  const pilot = spawn(process.execPath, [...cli, 'run', '--slots', String(slots), '--lease', '60', '--grace', '1', '--work-dir', `/tmp/picas-watchdog-cost-${process.pid}`], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PICAS_HOST_URL: server.url, PICAS_USERNAME: server.username, PICAS_PASSWORD: server.password, PICAS_DATABASE: db.name },
  });
  let stderr = '';
  pilot.stderr!.on('data', (d) => { stderr += d; });
  let wd: number | undefined;
  for (let i = 0; i < 300 && (!wd || (await countStates(db)).locked < slots); i++) { await sleep(100); wd ??= watchdogOf(pilot.pid!); }
  if (!wd) throw new Error(`no watchdog found\n${stderr}`);
  await sleep(2_000); // past start-up
  const p0 = cpuSeconds(pilot.pid!)!.self;
  const w0 = cpuSeconds(wd)!.self;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const span = (performance.now() - t0) / 1000;
  const pilotMsPerS = ((cpuSeconds(pilot.pid!)!.self - p0) * 1000) / span;
  const wdMsPerS = ((cpuSeconds(wd)!.self - w0) * 1000) / span;
  const wdRss = memoryMb(wd)!;
  const pilotRss = memoryMb(pilot.pid!)!;

  // The floor: node itself, doing nothing but wait on a pipe.
  const bare = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
  await sleep(1_000);
  const bareNodeRss = memoryMb(bare.pid!)?.rss ?? 0;
  bare.kill();

  // One full scan of every process's environment: what the old watchdog did on every 200 ms tick.
  const processes = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  const scans = 50;
  const c0 = process.cpuUsage();
  for (let i = 0; i < scans; i++) markedGroups('PICAS_PILOT_ID=none');
  const c = process.cpuUsage(c0);
  const scanMs = (c.user + c.system) / 1000 / scans;

  // Death of the pilot: how long until its tokens are free again (the watchdog puts them back).
  let peakWdRss = wdRss.rss;
  const killedAt = performance.now();
  pilot.kill('SIGKILL');
  let freedMs: number | undefined;
  for (let i = 0; i < 600; i++) {
    const m = memoryMb(wd);
    if (m) peakWdRss = Math.max(peakWdRss, m.peak);
    if ((await countStates(db)).todo === slots) { freedMs = performance.now() - killedAt; break; }
    await sleep(20);
  }

  const row = (k: string, v: string) => console.log(`| ${k} | ${v} |`);
  console.log(`\nwatchdog cost (${from}, ${slots} sleeping commands, ${span.toFixed(1)} s window, ${processes} processes on the machine)\n`);
  console.log('| figure | value |\n| --- | --- |');
  // /proc counts CPU in 10 ms ticks: no tick in the window means less than 10 ms over all of it.
  const perS = (v: number) => (v === 0 ? `< ${(10 / span).toFixed(1)} ms/s (no 10 ms CPU tick in the window)` : `${v.toFixed(2)} ms/s`);
  row('pilot CPU while its commands sleep', perS(pilotMsPerS));
  row('watchdog CPU while waiting', perS(wdMsPerS));
  row('pilot + watchdog (target <= 5 ms/s)', perS(pilotMsPerS + wdMsPerS));
  row('watchdog RSS while waiting', `${wdRss.rss.toFixed(1)} MB (pilot: ${pilotRss.rss.toFixed(1)} MB; a bare node process waiting on stdin: ${bareNodeRss.toFixed(1)} MB)`);
  row('watchdog peak RSS, including putting tokens back', `${peakWdRss.toFixed(1)} MB`);
  row('one full /proc environment scan', `${scanMs.toFixed(2)} ms CPU; at 5 per second (the old watchdog): ${(scanMs * 5).toFixed(1)} ms/s`);
  row('pilot SIGKILLed -> its tokens free again', freedMs === undefined ? 'not within 12 s' : `${Math.round(freedMs)} ms`);
} finally {
  await db.destroy().catch(() => {});
  await couch.close();
  await server.stop();
}
