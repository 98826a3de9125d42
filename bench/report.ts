// The printed report: one table per section, then the targets.
import { table } from './lib/table.js';
import type { BenchResults, TargetVerdict } from './targets.js';

export function formatReport(res: BenchResults, targets: TargetVerdict[]): string {
  const parts: string[] = [];
  if (res.raw) {
    parts.push('### raw limits', table(['operation', 'docs', 'docs/s', 'server CPU s', 'bench CPU s'], [
      ...res.raw.put.map((p) => [`PUT one doc, concurrency ${p.concurrency}`, p.docs, p.perS, p.serverCpuS, p.benchCpuS]),
      [`_bulk_docs, ${res.raw.bulk.batch}-doc batches`, res.raw.bulk.docs, res.raw.bulk.perS, res.raw.bulk.serverCpuS, res.raw.bulk.benchCpuS],
      ['Monitor/todo index build', res.raw.viewIndex.docs, res.raw.viewIndex.perS, res.raw.viewIndex.serverCpuS, null],
    ]), table(['read (index up to date)', 'median ms', 'server CPU ms per call'], (res.raw.reads ?? []).map((r) => [r.what, r.medianMs, r.serverCpuMsPerCall])));
  }
  const runHeader = ['who', 'pilots', 'batch', 'tokens', 's', 'done/s', 'runs', 'duplicates', 'lost (locked)', 'todo left', 'wasted/token', 'req/token', 'bytes/token', 'pilot CPU s', 'server CPU s', 'pilot RSS MB', 'notes'];
  const runRows: (string | number | null | undefined)[][] = [];
  for (const b of res.baseline ?? []) {
    runRows.push(['original protocol', b.pilots, '—', b.tokens, b.s, b.perS, b.executions.executions, b.executions.duplicates, b.lost, b.states.todo, b.wastedPerToken, b.requestsPerToken, b.bytesPerToken, b.pilotCpuS, b.serverCpuS, b.pilotMaxRssMb,
      [`${b.lockConflicts} lock conflicts, ${b.resultsDropped} results dropped`, ...b.notes].join('; ')]);
  }
  for (const a of res.processing?.api ?? []) {
    runRows.push(['picas API no-op', a.pilots, a.batch, a.tokens, a.s, a.perS, a.executions.executions, a.executions.duplicates, a.lost, a.states.todo, a.wastedPerToken, a.requestsPerToken, a.bytesPerToken, a.pilotCpuS, a.serverCpuS, a.pilotMaxRssMb,
      [`${a.conflictedClaims} refused claim writes, ${a.conflictRounds} rounds lost whole; idle pilot RSS ${a.pilotIdleRssMb} MB${a.staleResults ? `, ${a.staleResults} stale results` : ''}`, ...a.notes].join('; ')]);
  }
  for (const c of res.processing?.cli ?? []) {
    runRows.push(['picas run `true`', c.pilots, c.batch, c.tokens, c.s, c.perS, c.executions.executions, c.executions.duplicates, c.lost, c.states.todo, c.wastedPerToken ?? null, null, null, c.pilotCpuS, c.serverCpuS, c.pilotMaxRssMb,
      [`${c.totalS} s with start-up; pilot CPU includes start-up and the shells; pilots alone ${c.pilotSelfCpuS} s, ${c.watchdogsFound} watchdogs ${c.watchdogCpuS} s, ${c.overheadMsPerToken} ms per token net of start-up`, ...c.notes].join('; ')]);
  }
  if (runRows.length) parts.push('### processing (original protocol and picas, same server)', table(runHeader, runRows));
  if (res.processing) {
    parts.push(`batch sizes tried: ${Object.entries(res.processing.bestBatch).map(([p, b]) => `${p} pilots: ${b.tried.join(', ')} → best ${b.best} (${b.perS}/s)`).join('; ')}`);
  }
  if (res.push) {
    parts.push('### push (text file → push API)', table(['tokens', 'added', 'tokens/s', 'raw _bulk_docs/s beside it', 'RSS before MB', 'peak RSS MB', 'push CPU s', 'server CPU s', 'requests'],
      res.push.map((p) => [p.tokens, p.added, p.perS, p.adjacentRawBulkPerS ?? null, p.rssBeforeMb, p.peakRssMb, p.pushCpuS, p.serverCpuS, p.requests])));
  }
  const withStats = (res.processing?.api ?? []).filter((a) => a.serverStatsPerToken);
  if (withStats.length) {
    const keys = Object.keys(withStats[0]!.serverStatsPerToken!);
    parts.push('### where the server\'s time goes (CouchDB `_node/_local/_stats`, per completed token; query-server times in ms)',
      table(['counter', ...withStats.map((a) => `${a.pilots}p b${a.batch}`)], keys.map((k) => [k, ...withStats.map((a) => a.serverStatsPerToken![k] ?? null)])));
  }
  if (res.processing?.startup) {
    parts.push(`one \`picas run\` on an empty database (start-up and exit, taken out per pilot above): pilot ${res.processing.startup.pilotS} s, watchdog ${res.processing.startup.watchdogS} s of CPU`);
  }
  if (res.waiting) {
    const w = res.waiting;
    const rows: (string | number | null)[][] = [
      ['floor: CPU of a bare node process per spawn of `bash -c true` (awaited)', `${w.floor.cpuMsPerSpawn} ms (${w.floor.spawns} spawns, ${w.floor.wallMsPerSpawn} ms wall each)`],
    ];
    if (w.sleeping) rows.push([`a pilot with ${w.sleeping.slots} sleeping commands, CPU per second`, `${w.sleeping.totalMsPerS} ms/s (pilot ${w.sleeping.pilotMsPerS}, watchdog ${w.sleeping.watchdogMsPerS}; ${w.sleeping.windowS} s)`]);
    if (w.waiting) {
      rows.push([`${w.waiting.pilots} pilots with --wait on an empty database: requests/s per pilot`, `${w.waiting.perPilotPerS} (${w.waiting.requests} in ${w.waiting.windowS} s)`]);
      for (const [k, n] of Object.entries(w.waiting.byKind).sort((a, b) => b[1] - a[1])) rows.push([`  ${k}`, n]);
      rows.push(['push -> claim by the idle farm', w.waiting.pushToClaimMs.map((m) => (m === null ? '> 30 s' : `${m} ms`)).join(', ')]);
    }
    parts.push('### waiting pilots and the floor', table(['figure', 'value'], rows));
  }
  if (res.scale) {
    parts.push('### scale (90% of tokens done)', table(['tokens', 'write s', 'write/s', 'index s', 'index docs/s', 'index server CPU s', 'claim median ms', 'claim p90 ms', 'picas status ms (CLI)', 'status call ms', 'server RSS MB', 'skipped'],
      res.scale.map((s) => [s.tokens, s.insertS, s.insertPerS, s.indexS, s.indexPerS, s.indexServerCpuS, s.claimMedianMs, s.claimP90Ms, s.statusCliMs, s.statusCallMs, s.serverRssMb, s.skipped])));
  }
  parts.push('### targets', table(['target', 'verdict', 'figure'], targets.map((t) => [t.target, t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met', t.figure])));
  return parts.join('\n\n');
}
