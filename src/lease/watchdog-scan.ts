import { readdirSync, readFileSync } from 'node:fs';

/**
 * Finding a pilot's commands without the pilot: every command of a pilot carries the pilot's marker
 * (`PICAS_PILOT_ID=<id>`) in its environment, and so do its children, whoever their parent is by then. A
 * full scan reads every process's environment in /proc, so the watchdog runs it only when it must act
 * (pilot gone, deadline passed), never while it merely waits.
 */

/** Process groups of live processes whose environment holds `marker` (`NAME=value`), except `self`. */
export function markedGroups(marker: string, self = process.pid): Set<number> {
  const found = new Set<number>();
  const needle = Buffer.from(`${marker}\0`);
  const entry = Buffer.concat([Buffer.from([0]), needle]);
  let names: string[];
  try { names = readdirSync('/proc'); } catch { return found; } // no /proc: only reported groups are known
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === self) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`);
      // The marker is a whole entry: at the start of the block or right after a NUL.
      if (!(env.subarray(0, needle.length).equals(needle) || env.includes(entry))) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === 'X') continue;
      if (Number(pgrp) > 1) found.add(Number(pgrp));
    } catch { /* ended meanwhile, or not ours to read */ }
  }
  return found;
}

/** True while the group has a member that is not a zombie (a zombie has ended; only its reaping is left). */
export function groupLives(pgid: number): boolean {
  try { process.kill(-pgid, 0); } catch { return false; }
  let names: string[];
  try { names = readdirSync('/proc'); } catch { return true; }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch { /* gone */ }
  }
  return false;
}
