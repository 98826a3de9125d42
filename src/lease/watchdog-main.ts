import type { Readable } from 'node:stream';
import { groupLives, markedGroups } from './watchdog-scan.js';
import type { WatchdogInit, WatchdogMessage } from './watchdog-protocol.js';

/**
 * The watchdog's program: a separate small process, in a process group of its own, that stops a pilot's
 * commands when the pilot's lease is about to end without renewal (the pilot frozen, cut off, or too busy),
 * or at once when the pilot itself is gone; then, if the pilot is gone, it puts the pilot's held tokens
 * back (watchdog-release.ts), so they need not wait for the lease.
 *
 * It learns everything from its stdin (watchdog-protocol.ts) and sleeps between messages: waiting costs no
 * CPU. It wakes when the pilot writes (renewals, command starts and ends), when the deadline passes (a
 * timer), when the pilot dies (end-of-file on the pipe; a slow check of the pilot's pid backs that up), and
 * only then does the expensive part: finding the commands by the marker in their environment (/proc), so a
 * command is found even when its pilot was frozen or killed before it could report it.
 */

const ACT_TICK_MS = 200;
/** Backs up the end-of-file on stdin (e.g. should the pipe's write end leak to another process). */
const PILOT_CHECK_MS = 2_000;

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
};
const signalGroup = (pgid: number, sig: NodeJS.Signals) => { try { process.kill(-pgid, sig); } catch { /* gone */ } };
const say = (line: string) => { try { process.stderr.write(`picas watchdog: ${line}\n`); } catch { /* no stderr */ } };

export async function watchdogMain(input: Readable = process.stdin): Promise<void> {
  let init: WatchdogInit | undefined;
  let deadline = Number.MAX_SAFE_INTEGER;
  const reported = new Set<number>(); // command groups the pilot named
  const running = new Set<string>(); // tokens a slot took to run
  const killing = new Map<number, number>(); // pgid -> when SIGTERM was sent
  let pilotGone = false;
  let stopped = false;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let actTimer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => { finish = resolve; });

  const end = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(deadlineTimer);
    clearTimeout(actTimer);
    clearInterval(pilotCheck);
    input.destroy();
    finish();
  };

  /** One round of acting: find the commands (scan), stop them, and when none is left, finish the job. */
  const act = (): void => {
    actTimer = undefined;
    if (stopped || releasing || !init) return;
    const now = Date.now();
    const mustStop = pilotGone || now >= deadline;
    if (!mustStop) return; // a renewal came in meanwhile: back to sleep
    const groups = markedGroups(init.marker);
    for (const g of reported) if (groupLives(g)) groups.add(g);
    for (const g of killing.keys()) if (groupLives(g)) groups.add(g);
    for (const pgid of groups) {
      const since = killing.get(pgid);
      if (since === undefined) {
        say(`${pilotGone ? 'pilot gone' : 'lease not renewed in time'}: stopping process group ${pgid}`);
        signalGroup(pgid, 'SIGTERM');
        killing.set(pgid, now);
      } else if (now - since >= init.graceMs) {
        signalGroup(pgid, 'SIGKILL');
      }
    }
    for (const g of [...killing.keys()]) if (!groups.has(g)) killing.delete(g);
    if (groups.size > 0) { actTimer = setTimeout(act, ACT_TICK_MS); return; }
    if (!pilotGone) {
      // Frozen or cut-off pilot, commands stopped: look again now and then while the deadline stays passed
      // (a command's leftover could still fork), until a renewal moves it or the pilot dies.
      actTimer = setTimeout(act, 1_000);
      return;
    }
    // The pilot is dead and nothing of its commands runs: give its tokens back, then exit.
    void releaseAndEnd();
  };

  let releasing = false;
  const releaseAndEnd = async (): Promise<void> => {
    if (releasing) return; // once: a late timer must not start a second round
    releasing = true;
    const release = init?.release;
    if (release) {
      try {
        // Loaded only now: a waiting watchdog stays a small process without the database client.
        const { releaseDeadPilotTokens } = await import('./watchdog-release.js');
        const n = await releaseDeadPilotTokens({ ...release, pilotId: init!.pilotId, running, log: say });
        if (n.released + n.lost + n.failed > 0) {
          say(`pilot ${init!.pilotId} died: ${n.lost} token(s) it was running put back as lost runs, ${n.released} unstarted put back, ${n.failed} to error (lost too often)`);
        }
      } catch (err) {
        say(`could not put the dead pilot's tokens back (${(err as Error).message}); they are free when their lease ends`);
      }
    }
    end();
  };

  const wake = (delay = 0) => {
    if (stopped || actTimer !== undefined) return;
    actTimer = setTimeout(act, delay);
  };

  const armDeadline = () => {
    clearTimeout(deadlineTimer);
    const wait = deadline - Date.now();
    if (wait <= 0) { wake(); return; }
    // setTimeout holds at most ~24.8 days; a longer deadline is re-armed when that fires.
    deadlineTimer = setTimeout(armDeadline, Math.min(wait, 2_147_483_647));
  };

  const pilotDied = () => {
    if (pilotGone || stopped) return;
    pilotGone = true;
    if (!init) { end(); return; } // never told anything: nothing to guard
    wake();
  };

  const handle = (message: WatchdogMessage) => {
    switch (message.type) {
      case 'init': init = message; deadline = message.deadline; armDeadline(); break;
      case 'deadline': deadline = message.deadline; armDeadline(); break;
      case 'group': if (message.running) reported.add(message.pgid); else reported.delete(message.pgid); break;
      case 'token': if (message.running) running.add(message.id); else running.delete(message.id); break;
      case 'stop': end(); break;
    }
  };

  let buffered = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.trim()) continue;
      try { handle(JSON.parse(line) as WatchdogMessage); } catch { say(`ignored a message it could not read (${line.length} bytes)`); }
    }
  });
  input.on('end', pilotDied);
  input.on('close', pilotDied);
  input.on('error', pilotDied);
  const pilotCheck = setInterval(() => { if (init && !alive(init.pilotPid)) pilotDied(); }, PILOT_CHECK_MS);
  await finished;
}
