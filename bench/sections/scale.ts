// Scale: one database grows through the sizes (90% of its tokens done, as in a long campaign). At each
// size: the time to write the new tokens, to bring the views up to date, the claim latency of one pilot
// (claimTokens, one token at a time), and `picas status` time (the CLI process, and the library call
// alone). A size whose projected preparation exceeds the budget is skipped and says so.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { claimTokens } from '../../src/claim/claim.js';
import { CandidateReader } from '../../src/claim/candidates.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { countStates } from '../../src/tokens/status.js';
import { ROOT } from '../lib/children.js';
import { metered, round, type BenchContext } from '../lib/context.js';
import { memoryMb } from '../lib/proc.js';
import { dropDb, fillTokens, freshDb, warmViews } from '../lib/tokens.js';

export interface ScaleStep {
  tokens: number;
  skipped?: string;
  insertS?: number;
  insertPerS?: number;
  indexS?: number;
  indexPerS?: number;
  indexServerCpuS?: number | null;
  claimMedianMs?: number;
  claimP90Ms?: number;
  statusCliMs?: number;
  statusCallMs?: number;
  serverRssMb?: number | null;
}

const median = (xs: number[]) => { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const p90 = (xs: number[]) => { const s = xs.slice().sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]!; };

function timeStatusCli(ctx: BenchContext, database: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'status', '--json', '--timeout', '600'], {
    cwd: ROOT, env: ctx.server.env(database), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const limit = setTimeout(() => child.kill('SIGKILL'), 900_000);
  return new Promise((resolve, reject) => child.once('exit', (code) => {
    clearTimeout(limit);
    if (code === 0) resolve(performance.now() - t0);
    else reject(new Error(`picas status failed (exit ${code}): ${stderr.trim()}`));
  }));
}

export async function scaleSection(ctx: BenchContext, sizes: number[], budgetS: number): Promise<ScaleStep[]> {
  const db = await freshDb(ctx.couch, 'scale');
  const steps: ScaleStep[] = [];
  const pilot = pilotIdentity();
  let have = 0;
  let insertSPerDoc: number | undefined;
  let indexSPerDoc: number | undefined;
  try {
    for (const size of sizes) {
      const add = size - have;
      if (add <= 0) continue;
      if (insertSPerDoc !== undefined && indexSPerDoc !== undefined) {
        const projected = add * (insertSPerDoc + indexSPerDoc);
        if (projected > budgetS) {
          steps.push({ tokens: size, skipped: `projected ${Math.round(projected)} s to write and index ${add} more tokens (measured rates of the previous size) > budget ${budgetS} s` });
          ctx.log(`scale: ${size} skipped (projected ${Math.round(projected)} s)`);
          continue;
        }
      }
      const ins = await metered(ctx, () => fillTokens(db, add, { from: have, doneShare: 0.9 }));
      const idx = await metered(ctx, () => warmViews(db));
      have = size;
      insertSPerDoc = ins.s / add;
      indexSPerDoc = idx.s / add;
      const claims: number[] = [];
      // One reader for the pilot's claims, as runPilot keeps one: it learns the view's key range once.
      const candidates = new CandidateReader(db);
      await claimTokens(db, { pilot, batchSize: 1, candidates });
      for (let i = 0; i < (ctx.short ? 10 : 30); i++) {
        const t0 = performance.now();
        const got = await claimTokens(db, { pilot, batchSize: 1, candidates });
        claims.push(performance.now() - t0);
        if (got.length === 0) throw new Error(`scale: no token to claim at ${size} tokens`);
      }
      const calls: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await countStates(db);
        calls.push(performance.now() - t0);
      }
      const cli: number[] = [];
      for (let i = 0; i < 3; i++) cli.push(await timeStatusCli(ctx, db.name));
      const step: ScaleStep = {
        tokens: size, insertS: round(ins.s, 1), insertPerS: round(add / ins.s), indexS: round(idx.s, 1), indexPerS: round(add / idx.s),
        indexServerCpuS: idx.serverCpuS, claimMedianMs: round(median(claims), 1), claimP90Ms: round(p90(claims), 1),
        statusCliMs: round(median(cli), 0), statusCallMs: round(median(calls), 1),
        serverRssMb: ctx.server.pid ? round(memoryMb(ctx.server.pid)?.rss ?? 0) : null,
      };
      ctx.log(`scale: ${size} tokens: claim ${step.claimMedianMs} ms median, status ${step.statusCliMs} ms (CLI) / ${step.statusCallMs} ms (call), index ${step.indexPerS} docs/s`);
      steps.push(step);
    }
  } finally {
    await dropDb(db);
  }
  return steps;
}
