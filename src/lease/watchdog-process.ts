import { watchdogMain } from './watchdog-main.js';
import { WATCHDOG_ENV } from './watchdog-protocol.js';

/** True in a process started to be a pilot's watchdog (see watchdog-launch.ts). */
export function isWatchdogProcess(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[WATCHDOG_ENV] === '1';
}

/**
 * Be the watchdog until the pilot stops (or dies and its work is put back), then exit. Program entries
 * call this first thing when isWatchdogProcess() (src/cli/main.ts, watchdog-entry.ts).
 */
export async function runWatchdogProcess(): Promise<never> {
  // Signals meant for the pilot's terminal or batch job must not end the watchdog before its pilot:
  // it stops when the pilot tells it to, or when the pilot is gone and its commands are stopped.
  for (const sig of ['SIGINT', 'SIGHUP', 'SIGUSR1'] as const) process.on(sig, () => {});
  // Its stderr is the pilot's: a reader gone with the pilot (a closed pipe) must not end it mid-release.
  process.stderr.on('error', () => {});
  await watchdogMain(process.stdin);
  process.exit(0);
}
