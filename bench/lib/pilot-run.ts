// One measured run of P pilots on a fresh database of N tokens, shared by the baseline and processing
// sections: prepare the database (tokens written and views indexed before the clock starts), run, then
// read the outcome from the database (states) and from the per-execution records (duplicates).
import type { Database } from '../../src/couch/database.js';
import { countStates, type StateCounts } from '../../src/tokens/status.js';
import { cpuSeconds } from './proc.js';
import { round, type BenchContext } from './context.js';
import { countExecutions, executionDir, removeDir, type ExecutionCount } from './executions.js';
import { dropDb, fillTokens, freshDb, warmViews } from './tokens.js';

export interface RunFigures {
  pilots: number;
  tokens: number;
  batch?: number;
  s: number;
  /** Tokens done at the end (the Monitor/done view). */
  completed: number;
  perS: number;
  executions: ExecutionCount;
  states: StateCounts;
  /** Tokens still locked at the end: claimed and never finished (lost). */
  lost: number;
  /** Claim rounds lost to other pilots, per completed token. */
  wastedPerToken?: number;
  requestsPerToken?: number;
  bytesPerToken?: number;
  pilotCpuS?: number;
  serverCpuS: number | null;
  pilotMaxRssMb?: number;
  notes: string[];
}

export interface PreparedRun {
  db: Database;
  execDir: string;
  tokens: number;
  serverCpu0: number | null;
}

export async function prepareRun(ctx: BenchContext, label: string, tokens: number, input?: (id: string, execDir: string) => string): Promise<PreparedRun> {
  const db = await freshDb(ctx.couch, label);
  const execDir = executionDir(label);
  await fillTokens(db, tokens, input ? { input: (id) => input(id, execDir) } : {});
  await warmViews(db);
  return { db, execDir, tokens, serverCpu0: ctx.server.pid ? cpuSeconds(ctx.server.pid)?.self ?? null : null };
}

/** Figures every run has; the caller adds what its pilots report (requests, CPU, conflicts). */
export async function finishRun(ctx: BenchContext, run: PreparedRun, pilots: number, s: number, notes: string[] = []): Promise<RunFigures> {
  const server1 = ctx.server.pid ? cpuSeconds(ctx.server.pid)?.self ?? null : null;
  const states = await countStates(run.db);
  const executions = countExecutions(run.execDir);
  removeDir(run.execDir);
  await dropDb(run.db);
  return {
    pilots, tokens: run.tokens, s: round(s, 2), completed: states.done, perS: round(states.done / s),
    executions, states, lost: states.locked,
    serverCpuS: run.serverCpu0 !== null && server1 !== null ? round(server1 - run.serverCpu0, 2) : null,
    notes,
  };
}

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
