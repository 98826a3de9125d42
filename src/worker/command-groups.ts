/**
 * Process groups of the commands a pilot runs now, so that a second signal can kill them at once rather
 * than after the grace (their tokens still go back only once runCommand has seen each group gone).
 */
export class CommandGroups {
  private readonly groups = new Set<number>();

  add(pgid: number): void { this.groups.add(pgid); }
  remove(pgid: number): void { this.groups.delete(pgid); }

  /** SIGKILL every running command's group; returns how many were signalled. */
  killAll(): number {
    let n = 0;
    for (const pgid of this.groups) {
      try { process.kill(-pgid, 'SIGKILL'); n++; } catch { /* already gone */ }
    }
    return n;
  }
}
