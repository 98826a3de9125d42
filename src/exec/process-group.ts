/**
 * Signals for a whole process group. Commands are spawned as group leaders (detached), so the group id is
 * the command's pid and a signal to `-pid` reaches its children and grandchildren too, unless they moved
 * to a group or session of their own on purpose (setsid).
 */

/** True while any process of the group exists and is ours to signal. Zombies still count. */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // ESRCH: nobody left. EPERM: the id now belongs to someone else's processes; not ours to touch.
    return false;
  }
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

/**
 * Wait (polling, bounded by `limitMs`) until the group is gone. Returns false if some process is still
 * listed at the end: usually a zombie whose new parent has not reaped it yet, which no signal can remove.
 */
export async function waitGroupGone(pgid: number, limitMs: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (groupExists(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return true;
}
