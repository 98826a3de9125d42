/**
 * The watchdog's program: run in a separate small process, in a process group of its own, it stops a
 * pilot's commands when the pilot's lease is about to end without renewal, or at once when the pilot
 * itself is gone. It keeps working while the pilot is frozen (SIGSTOP) or busy, which the pilot cannot.
 *
 * It reads a state file the pilot rewrites (atomically) on every renewal and every command start/end:
 * `{ "pilotPid": n, "deadline": <local epoch ms>, "groups": [pgid, ...], "graceMs": n }`. It does not rely
 * on the pilot to name its commands in time (the pilot can be frozen the instant a command starts, even by
 * that command, or killed): it also finds them itself, by the marker every command of this pilot carries in
 * its environment (`PICAS_PILOT_ID=<pilot id>`), whoever their parent is by then, and remembers each group
 * while it lives.
 *
 * The function is self-contained (Node built-ins only, through `require`) because it is started as
 * `node -e "(<its source>)(stateFile)"`: no file to find next to the build, no TypeScript loader to start,
 * so it is running within milliseconds of the first command.
 */
export function watchdogMain(stateFile: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('node:path') as typeof import('node:path');
  interface State { pilotPid: number; deadline: number; groups: number[]; graceMs: number; marker: string }
  const alive = (pid: number): boolean => {
    try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
  };
  const signalGroup = (pgid: number, sig: NodeJS.Signals) => { try { process.kill(-pgid, sig); } catch { /* gone */ } };
  let last: State | undefined;
  const killing = new Map<number, number>(); // pgid -> when SIGTERM was sent
  const seen = new Set<number>(); // command groups found as the pilot's children
  const commandGroups = (marker: string): number[] => {
    const found = new Set<number>();
    const needle = Buffer.from(`${marker}\0`);
    for (const name of fs.readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
      try {
        const env = fs.readFileSync(`/proc/${pid}/environ`);
        if (!env.includes(needle)) continue;
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        if (pgrp > 1) found.add(pgrp);
      } catch { /* gone meanwhile, or not ours to read */ }
    }
    return [...found];
  };
  const read = (): State | undefined => {
    try { return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as State; } catch { return last; }
  };
  const tick = (): void => {
    const state = read();
    if (state) last = state;
    if (!last) return;
    const now = Date.now();
    const pilotGone = !alive(last.pilotPid);
    if (last.marker) for (const g of commandGroups(last.marker)) seen.add(g);
    for (const g of last.groups) seen.add(g);
    for (const g of seen) if (!alive(-g) && !killing.has(g)) seen.delete(g);
    if (pilotGone || now >= last.deadline) {
      for (const pgid of seen) {
        if (!alive(-pgid) && !killing.has(pgid)) continue;
        const since = killing.get(pgid);
        if (since === undefined) {
          process.stderr.write(`picas watchdog: ${pilotGone ? 'pilot gone' : 'lease not renewed in time'}: stopping process group ${pgid}\n`);
          signalGroup(pgid, 'SIGTERM');
          killing.set(pgid, now);
        } else if (now - since >= last.graceMs) {
          signalGroup(pgid, 'SIGKILL');
        }
      }
    }
    if (pilotGone && ![...seen].some((g) => alive(-g))) {
      // The pilot cannot clean up after itself when it was killed: remove the state folder here.
      fs.rmSync(path.dirname(stateFile), { recursive: true, force: true });
      process.exit(0);
    }
  };
  setInterval(tick, 200);
  tick();
}
