// The original's protocol (bench/baseline-pilot.ts) with P pilot processes on the same server.
import { join } from 'node:path';
import { ChildPool } from '../lib/children.js';
import { round, type BenchContext } from '../lib/context.js';
import { finishRun, prepareRun, sum, type RunFigures } from '../lib/pilot-run.js';
import type { BaselineJob } from '../baseline-pilot.js';

interface BaselineReport {
  done: number; lockConflicts: number; resultsDropped: number; gaveUp: boolean;
  http: { requests: number; bytesOut: number; bytesIn: number }; cpuS: number; maxRssMb: number;
}

export interface BaselineFigures extends RunFigures {
  lockConflicts: number;
  resultsDropped: number;
  pilotsGaveUp: number;
}

export async function baselineSection(ctx: BenchContext, pilotCounts: number[]): Promise<BaselineFigures[]> {
  const out: BaselineFigures[] = [];
  const maxS = ctx.short ? 20 : 90;
  for (const pilots of pilotCounts) {
    const tokens = ctx.short ? 150 : pilots === 1 ? 1000 : 2000;
    const pool = new ChildPool<BaselineJob, BaselineReport>('baseline-pilot.ts', pilots, ctx.server.env(''));
    try {
      await pool.ready();
      const run = await prepareRun(ctx, `baseline-p${pilots}`, tokens);
      const { results, ms } = await pool.runAll((i) => ({ database: run.db.name, execFile: join(run.execDir, `pilot-${i}`), maxS }), (maxS + 120) * 1000);
      const gaveUp = results.filter((r) => r.gaveUp).length;
      const fig = await finishRun(ctx, run, pilots, ms / 1000, gaveUp ? [`${gaveUp} pilot(s) gave up after 10 conflicts in a row`] : []);
      const requests = sum(results.map((r) => r.http.requests));
      const bytes = sum(results.map((r) => r.http.bytesIn + r.http.bytesOut));
      const f: BaselineFigures = {
        ...fig,
        lockConflicts: sum(results.map((r) => r.lockConflicts)),
        resultsDropped: sum(results.map((r) => r.resultsDropped)),
        pilotsGaveUp: gaveUp,
        wastedPerToken: round(sum(results.map((r) => r.lockConflicts)) / Math.max(1, fig.completed), 3),
        requestsPerToken: round(requests / Math.max(1, fig.completed), 2),
        bytesPerToken: round(bytes / Math.max(1, fig.completed), 0),
        pilotCpuS: round(sum(results.map((r) => r.cpuS)), 2),
        pilotMaxRssMb: round(Math.max(...results.map((r) => r.maxRssMb))),
      };
      ctx.log(`baseline: ${pilots} pilots: ${f.perS} tokens/s, ${f.executions.duplicates} duplicate runs, ${f.lost} lost`);
      out.push(f);
    } finally {
      await pool.close();
    }
  }
  return out;
}
