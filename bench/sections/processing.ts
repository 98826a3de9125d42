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
}

export interface CliFigures extends RunFigures {
  /** From the first spawn to the last exit, start-up of every process included. */
  totalS: number;
  startupNote: string;
}

export interface ProcessingResult {
  api: ApiFigures[];
  /** Per pilot count: the batch sizes tried and the best. */
  bestBatch: Record<string, { tried: number[]; best: number; perS: number }>;
  cli: CliFigures[];
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
        const { results, ms } = await pool.runAll((i) => ({ database: run.db.name, execFile: join(run.execDir, `pilot-${i}`), batch, maxS }), (maxS + 120) * 1000);
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
  for (const pilots of pilotCounts) {
    const batch = result.bestBatch[String(pilots)]!.best;
    result.cli.push(await runCliPilots(ctx, pilots, batch, maxS));
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
    const limit = setTimeout(() => child.kill('SIGKILL'), (maxS + 180) * 1000);
    return new Promise<{ code: number | null; stderr: string; summary?: { conflictedClaims?: number } }>((resolve) => child.once('close', (code) => {
      clearTimeout(limit);
      // `--json`: the pilot's summary, its last line on stdout.
      let summary: { conflictedClaims?: number } | undefined;
      try { summary = JSON.parse(stdout.trim().split('\n').pop() ?? ''); } catch { /* a pilot that failed prints none */ }
      resolve({ code, stderr, summary });
    }));
  });
  const ends = await Promise.all(exits);
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
  };
  ctx.log(`processing (picas run): ${pilots} pilots, batch ${batch}: ${f.perS} tokens/s, ${f.executions.duplicates} duplicates, ${f.lost} lost`);
  return f;
}
