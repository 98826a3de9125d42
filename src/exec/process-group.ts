import { readdirSync, readFileSync } from 'node:fs';

/**
 * Signals for a whole process group. Commands are spawned as group leaders (detached), so the group id is
 * the command's pid and a signal to `-pid` reaches its children and grandchildren too, unless they moved
 * to a group or session of their own on purpose (setsid).
 */

/** True while any process of the group exists and is ours to signal. Zombies count too. */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    // ESRCH: nobody left. EPERM: the id now belongs to someone else's processes; not ours to touch.
    return false;
  }
}

/** Where /proc can tell a process's state apart from its mere existence (Linux). */
const HAVE_PROC = (() => {
  try {
    return readFileSync('/proc/self/stat', 'utf8').length > 0;
  } catch {
    return false;
  }
})();

/** The group's members that are not zombies, read from /proc (Linux only). */
function liveMembersFromProc(pgid: number): number[] {
  const live: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') live.push(Number(entry));
  }
  return live;
}

/**
 * True while the group has a member that still runs. A zombie has ended and only waits for its new
 * parent (init, or whatever reaps orphans in a container) to collect it: no signal can touch it, so it is
 * not "left behind". Without /proc every listed member counts.
 */
export function groupHasLiveMembers(pgid: number): boolean {
  if (!groupExists(pgid)) return false;
  return HAVE_PROC ? liveMembersFromProc(pgid).length > 0 : true;
}

/** Send `signal` to every process of the group; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Wait (polling, bounded by `limitMs`) until no member of the group runs; false if one still does. */
export async function waitGroupGone(pgid: number, limitMs: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (groupHasLiveMembers(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return true;
}
