// The targets of issue 7, each computed from one run's figures: the ratio, the bar, met or NOT met.
import type { RawResult } from './sections/raw.js';
import type { BaselineFigures } from './sections/baseline.js';
import type { PushFigures } from './sections/push.js';
import type { ProcessingResult } from './sections/processing.js';
import type { ScaleStep } from './sections/scale.js';
import type { WaitingResult } from './sections/waiting.js';

export interface BenchResults {
  raw?: RawResult;
  baseline?: BaselineFigures[];
  push?: PushFigures[];
  processing?: ProcessingResult;
  scale?: ScaleStep[];
  waiting?: WaitingResult;
}

export interface TargetVerdict {
  target: string;
  figure: string;
  met: boolean | null;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

export function judgeTargets(res: BenchResults): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  const na = (target: string, why: string) => out.push({ target, figure: `not measured (${why})`, met: null });
  const api = res.processing?.api ?? [];
  const maxP = api.length ? Math.max(...api.map((f) => f.pilots)) : 0;
  const bestAt = (p: number) => api.filter((f) => f.pilots === p).reduce<typeof api[number] | undefined>((a, b) => (!a || b.perS > a.perS ? b : a), undefined);
  const best = bestAt(maxP);
  const base = res.baseline?.find((b) => b.pilots === maxP);

  const t1 = `picas >= 10x the original's throughput with ${maxP || 32} pilots, 0 duplicate runs`;
  if (best && base) {
    const ratio = best.perS / Math.max(base.perS, 1e-9);
    out.push({ target: t1, met: ratio >= 10 && best.executions.duplicates === 0,
      figure: `${r2(ratio)}x (${best.perS}/s batch ${best.batch} vs ${base.perS}/s); picas duplicates ${best.executions.duplicates}, original's ${base.executions.duplicates} of ${base.executions.executions} runs` });
  } else na(t1, 'needs the processing and baseline sections with the same pilot count');

  const bulk = res.raw?.bulk.perS;
  const ceiling = bulk ? bulk / 2 : undefined;
  const t2 = `no-op with ${maxP || 32} pilots >= 50% of (raw _bulk_docs rate / 2)`;
  if (best && ceiling) out.push({ target: t2, met: best.perS >= 0.5 * ceiling, figure: `${r2(best.perS / ceiling * 100)}% (${best.perS}/s of ceiling ${r2(ceiling)}/s)` });
  else na(t2, 'needs the processing and raw sections');
  const one = bestAt(1);
  const t3 = 'no-op with 1 pilot >= 25% of (raw _bulk_docs rate / 2)';
  if (one && ceiling) out.push({ target: t3, met: one.perS >= 0.25 * ceiling, figure: `${r2(one.perS / ceiling * 100)}% (${one.perS}/s batch ${one.batch} of ceiling ${r2(ceiling)}/s)` });
  else na(t3, 'needs the processing and raw sections');

  const push = res.push ?? [];
  // Speed at 100,000 tokens (the issue's figure) where measured, else the largest push.
  const speedPush = push.find((p) => p.tokens === 100_000) ?? push[push.length - 1];
  const t4 = 'push >= 90% of the raw _bulk_docs rate';
  // Against the raw rate measured beside the push where there is one (push.ts), else the raw section's.
  const yardstick = speedPush?.adjacentRawBulkPerS ?? bulk;
  const which = speedPush?.adjacentRawBulkPerS ? `raw _bulk_docs of the same tokens just before and after; raw section ${bulk}/s` : 'raw section';
  if (speedPush && yardstick) out.push({ target: t4, met: speedPush.perS >= 0.9 * yardstick, figure: `${r2(speedPush.perS / yardstick * 100)}% (${speedPush.perS}/s for ${speedPush.tokens} tokens vs ${yardstick}/s, ${which})` });
  else na(t4, 'needs the push and raw sections');
  const t5 = 'push memory flat in the number of tokens (peak RSS at N within 1.25x of that at N/10)';
  if (push.length >= 2) {
    const [small, large] = push.slice(-2) as [typeof push[0], typeof push[0]];
    const growth = large.peakRssMb / Math.max(small.peakRssMb, 1e-9);
    out.push({ target: t5, met: growth <= 1.25, figure: `${r2(growth)}x (${small.peakRssMb} MB at ${small.tokens}, ${large.peakRssMb} MB at ${large.tokens})` });
  } else na(t5, 'needs the push section');

  const t6 = `<= 0.05 wasted claim attempts per completed token at ${maxP || 32} pilots; 0 lost`;
  if (best) out.push({ target: t6, met: (best.wastedPerToken ?? Infinity) <= 0.05 && best.lost === 0, figure: `${best.wastedPerToken} per token (${best.conflictedClaims} refused claim writes / ${best.completed} done; ${best.conflictRounds} rounds lost whole), ${best.lost} lost (batch ${best.batch})` });
  else na(t6, 'needs the processing section');

  // Issue 16's bars: no-op share of bulk/2 at 8 and 32 pilots.
  for (const [p, bar] of [[8, 0.24], [32, 0.19]] as const) {
    const b = bestAt(p);
    const t = `no-op with ${p} pilots >= ${bar * 100}% of (raw _bulk_docs rate / 2)`;
    if (b && ceiling) out.push({ target: t, met: b.perS >= bar * ceiling, figure: `${r2(b.perS / ceiling * 100)}% (${b.perS}/s batch ${b.batch} of ceiling ${r2(ceiling)}/s)` });
    else na(t, `needs the processing section with ${p} pilots and the raw section`);
  }

  // Issue 16: a pilot costs nothing measurable beyond its commands.
  const floor = res.waiting?.floor.cpuMsPerSpawn;
  for (const c of res.processing?.cli ?? []) {
    const t = `\`picas run\` CPU (pilot + watchdog, start-up taken out) per \`true\` token <= 2x the spawn floor, ${c.pilots} pilots`;
    if (floor && c.overheadMsPerToken !== undefined) {
      out.push({ target: t, met: c.overheadMsPerToken <= 2 * floor,
        figure: `${r2(c.overheadMsPerToken / floor)}x (${c.overheadMsPerToken} ms/token: pilots ${c.pilotSelfCpuS} s + ${c.watchdogsFound} watchdogs ${c.watchdogCpuS} s over ${c.completed} tokens; floor ${floor} ms per spawn)` });
    } else na(t, 'needs the processing and waiting sections');
  }
  const cli8 = res.processing?.cli.find((c) => c.pilots === 8);
  const cli32 = res.processing?.cli.find((c) => c.pilots === 32);
  const t9 = '`picas run` with 32 pilots at least as fast as with 8';
  if (cli8 && cli32) out.push({ target: t9, met: cli32.perS >= cli8.perS, figure: `${cli32.perS}/s at 32 vs ${cli8.perS}/s at 8` });
  else na(t9, 'needs the processing section with 8 and 32 pilots');
  const sl = res.waiting?.sleeping;
  const t10 = 'a pilot waiting on sleeping commands <= 5 ms CPU per second (pilot + watchdog)';
  if (sl) out.push({ target: t10, met: sl.totalMsPerS <= 5, figure: `${sl.totalMsPerS} ms/s (pilot ${sl.pilotMsPerS}, watchdog ${sl.watchdogMsPerS}; ${sl.slots} sleeping commands, ${sl.windowS} s window, /proc's 10 ms ticks)` });
  else na(t10, 'needs the waiting section');
  const w = res.waiting?.waiting;
  const t11 = `a waiting pilot (--wait, ${w?.pilots ?? 32} on an empty database) <= 0.05 requests/s`;
  const t12 = 'work pushed to an idle farm claimed within 2 s';
  if (w) {
    out.push({ target: t11, met: w.perPilotPerS <= 0.05, figure: `${w.perPilotPerS} requests/s per pilot (${w.requests} requests from ${w.pilots} pilots in ${w.windowS} s)` });
    const worst = w.pushToClaimMs.some((m) => m === null) ? null : Math.max(...(w.pushToClaimMs as number[]));
    out.push({ target: t12, met: worst !== null && worst <= 2000, figure: `${w.pushToClaimMs.map((m) => (m === null ? 'not claimed in 30 s' : `${m} ms`)).join(', ')} (3 pushes)` });
  } else { na(t11, 'needs the waiting section'); na(t12, 'needs the waiting section'); }

  const steps = (res.scale ?? []).filter((s) => !s.skipped);
  const t7 = 'claim latency at the largest size within 2x of that at the smallest';
  if (steps.length >= 2) {
    const first = steps[0]!; const last = steps[steps.length - 1]!;
    const ratio = last.claimMedianMs! / Math.max(first.claimMedianMs!, 1e-9);
    out.push({ target: t7, met: ratio <= 2, figure: `${r2(ratio)}x (${last.claimMedianMs} ms at ${last.tokens} vs ${first.claimMedianMs} ms at ${first.tokens})` });
  } else na(t7, 'needs the scale section with two sizes');

  const t8 = 'pilot RSS under 100 MB';
  // Judged on `picas run` pilots, the process users start (compiled, with its own heap settings); the API
  // pilots are bench harness processes (node + tsx + the bench's code), shown beside for information.
  const cliRss = (res.processing?.cli ?? []).map((f) => f.pilotMaxRssMb ?? 0);
  const apiRss = api.map((f) => f.pilotMaxRssMb ?? 0);
  if (cliRss.length) {
    out.push({ target: t8, met: Math.max(...cliRss) < 100, figure: `${Math.max(...cliRss)} MB peak of \`picas run\` pilots (1-32 at once)${apiRss.length ? `; API pilots under tsx: ${Math.max(...apiRss)} MB` : ''}` });
  } else if (apiRss.length) {
    out.push({ target: t8, met: Math.max(...apiRss) < 100, figure: `${Math.max(...apiRss)} MB peak (API pilots under tsx; no \`picas run\` pilots measured)` });
  } else na(t8, 'needs the processing section');
  return out;
}
