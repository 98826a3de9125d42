// What every section gets: the server, a client in this process, the mode, and a meter for a phase's
// wall time and the CPU the server (when we started it) and this process spent in it.
import type { CouchServer } from '../../src/couch/server.js';
import type { BenchServer } from './server.js';
import { cpuSeconds } from './proc.js';

export interface BenchContext {
  server: BenchServer;
  couch: CouchServer;
  short: boolean;
  log: (line: string) => void;
}

export interface Metered<T> {
  value: T;
  s: number;
  /** CPU seconds of the server process in the phase (null when the server is not ours to watch). */
  serverCpuS: number | null;
  /** CPU seconds of this bench process in the phase. */
  benchCpuS: number;
}

export async function metered<T>(ctx: BenchContext, fn: () => Promise<T>): Promise<Metered<T>> {
  const pid = ctx.server.pid;
  const server0 = pid ? cpuSeconds(pid)?.self ?? null : null;
  const bench0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const s = (performance.now() - t0) / 1000;
  const bench = process.cpuUsage(bench0);
  const server1 = pid ? cpuSeconds(pid)?.self ?? null : null;
  return {
    value, s,
    serverCpuS: server0 !== null && server1 !== null ? round(server1 - server0, 2) : null,
    benchCpuS: round((bench.user + bench.system) / 1e6, 2),
  };
}

export const round = (v: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
