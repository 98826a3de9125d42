// Completed tokens per second with P picas pilot processes: no-op tasks through the API
// (bench/pilot-process.ts, runPilot) at several claim batch sizes, and a real `true` command through
// `picas run` at the batch size that did best through the API.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildPool, ROOT } from '../lib/children.js';
import { round, type BenchContext } from '../lib/context.js';
import { finishRun, prepareRun, sum, type RunFigures } from '../lib/pilot-run.js';
import { ProcWatcher } from '../lib/proc.js';
import { WatchdogWatch } from '../lib/watchdogs.js';
import { readStats, statsPerToken, type StatCounts } from '../lib/couch-stats.js';
import type { PilotJob } from '../pilot-process.js';
import type { PilotSummary } from '../../src/worker/run-pilot.js';

interface PilotReport {
  summary: PilotSummary;
  http: { requests: number; bytesOut: number; bytesIn: number };
  cpuS: number;
  maxRssMb: number;
  idleRssMb: number;
}

export interface ApiFigures extends RunFigures {
  /** RSS of a pilot process with its modules loaded, before any work (node + tsx). */
  pilotIdleRssMb: number;
  conflictRounds: number;
  /** Claim writes refused (another pilot won the token): the wasted claim attempts. */
  conflictedClaims: number;
  staleResults: number;
  /** CouchDB's own counters per completed token (`_node/_local/_stats`), where the server offers them. */
  serverStatsPerToken?: StatCounts;
}

export interface CliFigures extends RunFigures {
  /** From the first spawn to the last exit, start-up of every process included. */
  totalS: number;
  startupNote: string;
  /** CPU of the pilots themselves (not their commands, not the watchdogs), s. */
  pilotSelfCpuS?: number;
  /** CPU of the pilots' watchdogs, s (watchdogs found / pilots in the note). */
  watchdogCpuS?: number;
  watchdogsFound?: number;
  /** (pilot self + watchdog CPU - pilots x one pilot's start-up and exit on an empty database) per done token, ms. */
  overheadMsPerToken?: number;
}

/** CPU of one `picas run` that starts, finds nothing and ends (pilot + watchdog): a pilot's fixed cost. */
export interface StartupCost { pilotS: number; watchdogS: number }

export interface ProcessingResult {
  api: ApiFigures[];
  /** Per pilot count: the batch sizes tried and the best. */
  bestBatch: Record<string, { tried: number[]; best: number; perS: number }>;
  cli: CliFigures[];
  startup?: StartupCost;
}

export async function processingSection(ctx: BenchContext, pilotCounts: number[], batches: number[]): Promise<ProcessingResult> {
  const maxS = ctx.short ? 10 : 30;
  const result: ProcessingResult = { api: [], bestBatch: {}, cli: [] };
  for (const pilots of pilotCounts) {
    const pool = new ChildPool<PilotJob, PilotReport>('pilot-process.ts', pilots, ctx.server.env(''));
    try {
      await pool.ready();
      for (const batch of batches) {
        const tokens = ctx.short ? 300 : pilots === 1 && batch === 1 ? 3000 : 10_000;
        const run = await prepareRun(ctx, `api-p${pilots}-b${batch}`, tokens);
        const stats0 = await readStats(ctx.couch);
        const { results, ms } = await pool.runAll((i) => ({ database: run.db.name, execFile: join(run.execDir, `pilot-${i}`), batch, maxS }), (maxS + 120) * 1000);
        const stats1 = await readStats(ctx.couch);
        const fig = await finishRun(ctx, run, pilots, ms / 1000);
        const requests = sum(results.map((r) => r.http.requests));
        const bytes = sum(results.map((r) => r.http.bytesIn + r.http.bytesOut));
        const conflicts = sum(results.map((r) => r.summary.conflicts));
        // A wasted claim attempt: a token's claim write refused because another pilot won it first.
        const conflictedClaims = sum(results.map((r) => r.summary.conflictedClaims ?? 0));
        const f: ApiFigures = {
          ...fig, batch,
          conflictRounds: conflicts,
          conflictedClaims,
          staleResults: sum(results.map((r) => r.summary.staleResults)),
          wastedPerToken: round(conflictedClaims / Math.max(1, fig.completed), 3),
          requestsPerToken: round(requests / Math.max(1, fig.completed), 2),
          bytesPerToken: round(bytes / Math.max(1, fig.completed), 0),
          pilotCpuS: round(sum(results.map((r) => r.cpuS)), 2),
          pilotMaxRssMb: round(Math.max(...results.map((r) => r.maxRssMb))),
          pilotIdleRssMb: round(Math.max(...results.map((r) => r.idleRssMb))),
          serverStatsPerToken: statsPerToken(stats0, stats1, fig.completed),
        };
        if (fig.states.todo > 0) f.notes.push(`${fig.states.todo} tokens still todo when the ${maxS} s limit stopped the pilots`);
        ctx.log(`processing (API): ${pilots} pilots, batch ${batch}: ${f.perS} tokens/s, ${f.wastedPerToken} wasted/token, ${f.executions.duplicates} duplicates, ${f.lost} lost`);
        result.api.push(f);
      }
    } finally {
      await pool.close();
    }
    const mine = result.api.filter((f) => f.pilots === pilots);
    const best = mine.reduce((a, b) => (b.perS > a.perS ? b : a));
    result.bestBatch[String(pilots)] = { tried: batches, best: best.batch!, perS: best.perS };
  }
  result.startup = await measureStartup(ctx);
  ctx.log(`processing: one \`picas run\` on an empty database costs ${result.startup.pilotS} s (pilot) + ${result.startup.watchdogS} s (watchdog) of CPU`);
  for (const pilots of pilotCounts) {
    const batch = result.bestBatch[String(pilots)]!.best;
    const f = await runCliPilots(ctx, pilots, batch, maxS);
    const fixed = pilots * (result.startup.pilotS + (f.watchdogsFound ? result.startup.watchdogS : 0));
    f.overheadMsPerToken = round((((f.pilotSelfCpuS ?? 0) + (f.watchdogCpuS ?? 0) - fixed) * 1000) / Math.max(1, f.completed), 3);
    result.cli.push(f);
  }
  return result;
}

/**
 * P `picas run` processes on tokens whose input is `true` plus a per-execution record (an `echo` into a
 * shared append-only file, a shell builtin). Node and tsx start-up is not part of the timed window: it
 * starts when the first execution is recorded.
 */
async function runCliPilots(ctx: BenchContext, pilots: number, batch: number, maxS: number): Promise<CliFigures> {
  const tokens = ctx.short ? 200 : 4000;
  const run = await prepareRun(ctx, `cli-p${pilots}`, tokens, (id, dir) => `true; echo ${id} >> ${join(dir, 'executions')}`);
  const workDir = mkdtempSync(join(tmpdir(), 'picas-bench-work-'));
  const execFile = join(run.execDir, 'executions');
  const t0 = performance.now();
  let firstExec: number | undefined;
  const poll = setInterval(() => {
    if (firstExec === undefined) {
      try { if (statSync(execFile).size > 0) firstExec = performance.now(); } catch { /* not yet */ }
    }
  }, 20);
  const watchers: ProcWatcher[] = [];
  const pids: number[] = [];
  // The command as users run it: the compiled build when there is one (no TypeScript loader in the pilot).
  const built = join(ROOT, 'dist/cli/main.js');
  const picas = existsSync(built) ? [built] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
  const exits = Array.from({ length: pilots }, () => {
    const child = spawn(process.execPath, [...picas, 'run', '-q', '--json',
      '--batch', String(batch), '--max-total-time', String(maxS), '--work-dir', workDir], {
      cwd: ROOT, env: ctx.server.env(run.db.name), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    child.stdout!.on('data', (d: Buffer) => { stdout = (stdout + d.toString()).slice(-4000); });
    watchers.push(new ProcWatcher(child.pid!));
    pids.push(child.pid!);
    const limit = setTimeout(() => child.kill('SIGKILL'), (maxS + 180) * 1000);
    return new Promise<{ code: number | null; stderr: string; summary?: { conflictedClaims?: number } }>((resolve) => child.once('close', (code) => {
      clearTimeout(limit);
      // `--json`: the pilot's summary, its last line on stdout.
      let summary: { conflictedClaims?: number } | undefined;
      try { summary = JSON.parse(stdout.trim().split('\n').pop() ?? ''); } catch { /* a pilot that failed prints none */ }
      resolve({ code, stderr, summary });
    }));
  });
  const watchdogs = new WatchdogWatch(pids);
  const ends = await Promise.all(exits);
  watchdogs.stop();
  const end = performance.now();
  clearInterval(poll);
  for (const w of watchers) w.stop();
  rmSync(workDir, { recursive: true, force: true });
  const failed = ends.filter((e) => e.code !== 0);
  const notes = failed.length ? [`${failed.length} picas run process(es) failed: ${failed[0]!.stderr.trim().split('\n').pop()}`] : [];
  const windowS = ((end - (firstExec ?? t0)) / 1000);
  const fig = await finishRun(ctx, run, pilots, windowS, notes);
  if (fig.states.todo > 0) fig.notes.push(`${fig.states.todo} tokens still todo when the ${maxS} s limit stopped the pilots`);
  const f: CliFigures = {
    ...fig, batch,
    totalS: round((end - t0) / 1000, 2),
    startupNote: `timed from the first recorded execution to the last pilot's exit; start-up (${existsSync(built) ? 'node, compiled build' : 'node+tsx'}) is outside`,
    pilotCpuS: round(sum(watchers.map((w) => (w.cpu?.self ?? 0) + (w.cpu?.children ?? 0))), 2),
    pilotMaxRssMb: round(Math.max(...watchers.map((w) => w.peakMb))),
    wastedPerToken: round(sum(ends.map((e) => e.summary?.conflictedClaims ?? 0)) / Math.max(1, fig.completed), 3),
    pilotSelfCpuS: round(sum(watchers.map((w) => w.cpu?.self ?? 0)), 2),
    watchdogCpuS: round(watchdogs.cpuS(), 2),
    watchdogsFound: watchdogs.watchers.size,
  };
  ctx.log(`processing (picas run): ${pilots} pilots, batch ${batch}: ${f.perS} tokens/s, ${f.executions.duplicates} duplicates, ${f.lost} lost`);
  return f;
}

/** The command users run: the compiled build when there is one (no TypeScript loader in the pilot). */
export function picasCommand(): string[] {
  const built = join(ROOT, 'dist/cli/main.js');
  return existsSync(built) ? [built] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
}

/** Start-up and exit of one `picas run` on an empty database, pilot and watchdog CPU: subtracted per pilot. */
async function measureStartup(ctx: BenchContext): Promise<StartupCost> {
  const run = await prepareRun(ctx, 'cli-startup', 0);
  const workDir = mkdtempSync(join(tmpdir(), 'picas-bench-work-'));
  const child = spawn(process.execPath, [...picasCommand(), 'run', '-q', '--work-dir', workDir], {
    cwd: ROOT, env: ctx.server.env(run.db.name), stdio: ['ignore', 'ignore', 'ignore'],
  });
  const pilot = new ProcWatcher(child.pid!, 20);
  const watchdogs = new WatchdogWatch([child.pid!], 20);
  await new Promise((r) => child.once('close', r));
  pilot.stop(); watchdogs.stop();
  await finishRun(ctx, run, 1, 1);
  rmSync(workDir, { recursive: true, force: true });
  return { pilotS: round(pilot.cpu?.self ?? 0, 2), watchdogS: round(watchdogs.cpuS(), 2) };
}
