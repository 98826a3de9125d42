// Finds the watchdog process of each `picas run` pilot (a child of the pilot marked by its environment), so
// the bench can count the watchdog's CPU with the pilot's and apart from the commands' (the pilot reaps
// both, so its children's CPU mixes them).
import { readdirSync, readFileSync } from 'node:fs';
import { ProcWatcher } from './proc.js';

const MARK = Buffer.from('PICAS_RUN_AS_WATCHDOG=1\0');

/** pid of each running watchdog whose parent is one of `parents`, by parent. */
export function watchdogsOf(parents: Set<number>): Map<number, number> {
  const found = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!parents.has(ppid)) continue;
      if (readFileSync(`/proc/${name}/environ`).includes(MARK)) found.set(ppid, Number(name));
    } catch { /* gone, or not ours to read */ }
  }
  return found;
}

/**
 * Watches the watchdogs of the given pilots as they appear: looks every `everyMs` until each pilot has
 * one (or `stop()`), then samples each watchdog's CPU like the pilots'.
 */
export class WatchdogWatch {
  readonly watchers = new Map<number, ProcWatcher>();
  private timer: NodeJS.Timeout;
  constructor(private readonly pilots: number[], everyMs = 200) {
    this.timer = setInterval(() => this.look(), everyMs);
    this.timer.unref();
  }
  private look(): void {
    const missing = new Set(this.pilots.filter((p) => !this.watchers.has(p)));
    if (missing.size === 0) { clearInterval(this.timer); return; }
    for (const [pilot, wd] of watchdogsOf(missing)) this.watchers.set(pilot, new ProcWatcher(wd));
  }
  /** Watchdog CPU seconds (self), summed over the watchdogs found. */
  cpuS(): number {
    let s = 0;
    for (const w of this.watchers.values()) s += w.cpu?.self ?? 0;
    return s;
  }
  stop(): void {
    clearInterval(this.timer);
    for (const w of this.watchers.values()) w.stop();
  }
}
