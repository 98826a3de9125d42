// What the kernel says about a process: CPU seconds and memory, from /proc (Linux only; elsewhere null).
import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

export interface CpuTimes {
  /** utime + stime of the process itself. */
  self: number;
  /** cutime + cstime: children it has waited for (the commands a pilot ran). */
  children: number;
}

export function cpuSeconds(pid: number): CpuTimes | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    const n = (field: number) => Number(f[field - 3]);
    return { self: (n(14) + n(15)) / TICKS_PER_S, children: (n(16) + n(17)) / TICKS_PER_S };
  } catch {
    return null;
  }
}

/** Resident set size now and its peak (VmHWM), in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * Samples a process that will exit on its own (a `picas run` pilot): the last readings before it ends
 * are its totals, since /proc forgets a process once it is reaped.
 */
export class ProcWatcher {
  cpu: CpuTimes | null = null;
  peakMb = 0;
  private timer: NodeJS.Timeout;
  constructor(private readonly pid: number, everyMs = 100) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    this.sample();
  }
  sample(): void {
    const cpu = cpuSeconds(this.pid);
    if (cpu) this.cpu = cpu;
    const mem = memoryMb(this.pid);
    if (mem) this.peakMb = Math.max(this.peakMb, mem.peak);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}
