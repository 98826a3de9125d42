/**
 * The watchdog: a separate small process, in a process group of its own, that stops a pilot's commands
 * when the pilot's lease is about to end without renewal, or at once when the pilot itself is gone. It
 * keeps working while the pilot is frozen (SIGSTOP) or busy, which the pilot itself cannot.
 *
 * It reads a state file the pilot rewrites (atomically) on every renewal and every command start/end:
 * `{ "pilotPid": n, "deadline": <local epoch ms>, "groups": [pgid, ...], "graceMs": n }`.
 * Usage: node watchdog-process.js <state-file>
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

const stateFile = process.argv[2];
if (!stateFile) {
  process.stderr.write('usage: watchdog-process <state-file>\n');
  process.exit(2);
}

interface State { pilotPid: number; deadline: number; groups: number[]; graceMs: number }

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
};
const signalGroup = (pgid: number, sig: NodeJS.Signals) => { try { process.kill(-pgid, sig); } catch { /* gone */ } };

let last: State | undefined;
const killing = new Map<number, number>(); // pgid -> when SIGTERM was sent

function read(): State | undefined {
  try { return JSON.parse(readFileSync(stateFile!, 'utf8')) as State; } catch { return last; }
}

function tick(): void {
  const state = read();
  if (state) last = state;
  if (!last) return;
  const pilotGone = !alive(last.pilotPid);
  const expired = Date.now() >= last.deadline;
  const now = Date.now();
  if (pilotGone || expired) {
    for (const pgid of last.groups) {
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
  const groupsLeft = last.groups.some((g) => { try { process.kill(-g, 0); return true; } catch { return false; } });
  if (pilotGone && !groupsLeft) {
    // The pilot cannot clean up after itself when it was killed: remove the state folder here.
    rmSync(dirname(stateFile!), { recursive: true, force: true });
    process.exit(0);
  }
}

setInterval(tick, 200);
tick();
