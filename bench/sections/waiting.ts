// What pilots cost while they have nothing to do, and how fast an idle farm starts new work:
// - the floor: CPU of a bare Node process to spawn `bash -c true` and await it (lib/spawn-floor.ts);
// - a pilot whose commands sleep: CPU per second of the pilot and its watchdog;
// - P pilots with `--wait` (default --poll-interval) on an empty database, through a counting relay:
//   requests per second per pilot over a window that spans a whole fallback poll interval, then the delay
//   from a push to the token's claim.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lib/children.js';
import { round, type BenchContext } from '../lib/context.js';
import { cpuSeconds } from '../lib/proc.js';
import { startRequestCensus } from '../lib/request-census.js';
import { measureSpawnFloor, type SpawnFloor } from '../lib/spawn-floor.js';
import { watchdogsOf } from '../lib/watchdogs.js';
import { dropDb, fillTokens, freshDb } from '../lib/tokens.js';
import { picasCommand } from './processing.js';
import { countStates } from '../../src/tokens/status.js';
import { newToken, type Token } from '../../src/tokens/index.js';

export interface SleepingFigures { slots: number; windowS: number; pilotMsPerS: number; watchdogMsPerS: number; totalMsPerS: number }
export interface WaitingPilotsFigures {
  pilots: number;
  windowS: number;
  requests: number;
  perPilotPerS: number;
  byKind: Record<string, number>;
  /** ms from a token's push to its claim (lock set), one per push. */
  pushToClaimMs: (number | null)[];
}
export interface WaitingResult { floor: SpawnFloor; sleeping?: SleepingFigures; waiting?: WaitingPilotsFigures }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitingSection(ctx: BenchContext, pilots: number, windowS: number): Promise<WaitingResult> {
  const floor = await measureSpawnFloor(ctx.short ? 50 : 300);
  ctx.log(`waiting: floor ${floor.cpuMsPerSpawn} ms CPU per spawn of bash -c true (${floor.spawns} spawns)`);
  const res: WaitingResult = { floor };
  res.sleeping = await sleepingPilot(ctx, ctx.short ? 3 : 30);
  ctx.log(`waiting: a pilot with 2 sleeping commands: ${res.sleeping.pilotMsPerS} + ${res.sleeping.watchdogMsPerS} (watchdog) ms CPU/s`);
  res.waiting = await waitingPilots(ctx, pilots, windowS);
  ctx.log(`waiting: ${pilots} pilots with --wait: ${res.waiting.perPilotPerS} requests/s each; push to claim ${res.waiting.pushToClaimMs.join(', ')} ms`);
  return res;
}

function startPilot(ctx: BenchContext, env: NodeJS.ProcessEnv, args: string[], workDir: string): ChildProcess {
  return spawn(process.execPath, [...picasCommand(), 'run', '-q', '--work-dir', workDir, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'ignore'] });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const kill = setTimeout(() => c.kill('SIGKILL'), 30_000);
    c.once('close', () => { clearTimeout(kill); resolve(); });
    c.kill('SIGTERM');
  })));
}

async function sleepingPilot(ctx: BenchContext, windowS: number): Promise<SleepingFigures> {
  const slots = 2;
  const db = await freshDb(ctx.couch, 'sleeping');
  await fillTokens(db, slots, { input: () => 'sleep 600' });
  const workDir = mkdtempSync(join(tmpdir(), 'picas-bench-work-'));
  const pilot = startPilot(ctx, ctx.server.env(db.name), ['--slots', String(slots), '--grace', '1'], workDir);
  try {
    let wd: number | undefined;
    for (let i = 0; i < 600 && (!wd || (await countStates(db)).locked < slots); i++) { await sleep(100); wd ??= watchdogsOf(new Set([pilot.pid!])).get(pilot.pid!); }
    if (!wd) throw new Error('sleeping pilot: no watchdog found');
    await sleep(5_000); // past start-up and the first heartbeat (a 10 s window after 2 s read 1-6 ms/s from run to run)
    const p0 = cpuSeconds(pilot.pid!)!.self; const w0 = cpuSeconds(wd)!.self; const t0 = performance.now();
    await sleep(windowS * 1000);
    const span = (performance.now() - t0) / 1000;
    const p = ((cpuSeconds(pilot.pid!)!.self - p0) * 1000) / span;
    const w = ((cpuSeconds(wd)!.self - w0) * 1000) / span;
    return { slots, windowS: round(span, 1), pilotMsPerS: round(p, 2), watchdogMsPerS: round(w, 2), totalMsPerS: round(p + w, 2) };
  } finally {
    await stopAll([pilot]);
    rmSync(workDir, { recursive: true, force: true });
    await dropDb(db);
  }
}

async function waitingPilots(ctx: BenchContext, count: number, windowS: number): Promise<WaitingPilotsFigures> {
  const db = await freshDb(ctx.couch, 'waiting');
  const census = await startRequestCensus(ctx.server.url);
  const env = { ...ctx.server.env(db.name), PICAS_HOST_URL: census.url.replace(/\/$/, '') };
  const workDir = mkdtempSync(join(tmpdir(), 'picas-bench-work-'));
  const children = Array.from({ length: count }, (_, i) => startPilot(ctx, env, ['--wait'], join(workDir, `p${i}`)));
  const total = () => [...census.counts.values()].reduce((a, b) => a + b, 0);
  // Feeds held open (`heartbeat`): each waiting pilot holds two, its wait for work and its follow watcher.
  const openFeeds = () => [...census.counts].filter(([k]) => k.includes('_changes') && k.includes('heartbeat')).reduce((a, [, n]) => a + n, 0);
  try {
    // Every pilot waiting on the feed (or, on a server without it, two minutes for start-up).
    for (let i = 0; i < 1200 && openFeeds() < 2 * count; i++) await sleep(100);
    await sleep(1_000);
    const c0 = total(); const before = new Map(census.counts); const t0 = performance.now();
    await sleep(windowS * 1000);
    const span = (performance.now() - t0) / 1000;
    const requests = total() - c0;
    const byKind: Record<string, number> = {};
    for (const [k, n] of census.counts) if (n - (before.get(k) ?? 0) > 0) byKind[k] = n - (before.get(k) ?? 0);
    const pushToClaimMs: (number | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const id = `wake-${i}`;
      const t = performance.now();
      await db.put(newToken({ _id: id, input: 'true' }));
      let ms: number | null = null;
      for (let j = 0; j < 1200; j++) {
        const doc = await db.get<Token>(id);
        if (doc.lock > 0) { ms = round(performance.now() - t, 0); break; }
        await sleep(25);
      }
      pushToClaimMs.push(ms);
      await sleep(2_000);
    }
    return { pilots: count, windowS: round(span, 1), requests, perPilotPerS: round(requests / span / count, 4), byKind, pushToClaimMs };
  } finally {
    await stopAll(children);
    await census.close();
    rmSync(workDir, { recursive: true, force: true });
    await dropDb(db);
  }
}
