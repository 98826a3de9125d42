import type { CouchOptions } from '../couch/server.js';

/**
 * What a pilot tells its watchdog, one JSON object per line on the watchdog's stdin (a pipe only the two
 * of them hold). The first line is `init`; it carries the connection settings, so the password never
 * appears in argv, in the environment or in a file. The pilot's death closes the pipe: the watchdog sees
 * end-of-file at once, without polling.
 */

/** Set (to "1") in the watchdog's environment only: the program entry that sees it runs the watchdog. */
export const WATCHDOG_ENV = 'PICAS_RUN_AS_WATCHDOG';

export interface WatchdogInit {
  type: 'init';
  pilotPid: number;
  pilotId: string;
  /** `NAME=value` in the environment of every command of this pilot: how the watchdog finds them. */
  marker: string;
  graceMs: number;
  /** Local epoch ms before which commands must be stopped unless the deadline moves. */
  deadline: number;
  /** To put a dead pilot's tokens back. Absent: the watchdog only stops commands (leases do the rest). */
  release?: {
    connection: CouchOptions;
    database: string;
    leaseSeconds: number;
    maxLost: number;
  };
}

export type WatchdogMessage =
  | WatchdogInit
  | { type: 'deadline'; deadline: number }
  | { type: 'group'; pgid: number; running: boolean }
  /** A token a slot took to run (counted as a lost run if the pilot dies holding it) or finished with. */
  | { type: 'token'; id: string; running: boolean }
  /** The pilot ends normally: nothing to guard any more. */
  | { type: 'stop' };
