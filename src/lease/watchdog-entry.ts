/**
 * The watchdog's own small entry (`node dist/lease/watchdog-entry.js`, with its messages on stdin): it
 * loads the watchdog and nothing of the CLI, so a waiting watchdog stays a small process. Library users
 * get it too: Watchdog starts this file when it sits next to watchdog.js (watchdog-launch.ts).
 */
import { runWatchdogProcess } from './watchdog-process.js';

await runWatchdogProcess();
