import type { Database } from '../couch/database.js';
import type { ClaimedToken, ViewRef } from '../claim/claim.js';
import type { PilotIdentity } from '../lease/pilot-identity.js';
import type { RetryOptions } from '../couch/retry.js';
import type { Token } from '../tokens/token.js';

/** What a task reports back; the loop turns it into the token's result. */
export interface TaskOutcome {
  /** The work's exit status: 0 is done, anything else is error (a failed token is data, not a pilot failure). */
  exitCode: number;
  /** Fields merged into the token (start/end time, host, user results). */
  fields?: Record<string, unknown>;
  /** stdout and stderr, attached as `logs_<id>.out` / `.err`. */
  logs?: { stdout: Buffer | string; stderr: Buffer | string };
  /** Set when the task could not run or was stopped: the token becomes error with this message. */
  failure?: { message: string; exception?: string };
  /** The command ended by this signal (or its shell with 128 + its number): a SIGTERM may be the batch
   *  system's, sent to every process of a job a moment before the pilot gets its own. */
  endedBySignal?: NodeJS.Signals;
}

export interface TaskContext {
  slot: number;
  /** Aborted when the pilot is told to stop (signal) or the token's time is up. */
  signal: AbortSignal;
  /** maxTokenTime in ms, for tasks that enforce it themselves (the command task kills the process group). */
  timeoutMs?: number;
  log: (line: string) => void;
  /** Tasks that start processes call this first and add the variables it returns to the command's
   *  environment (the watchdog finds commands by them), then report the process group once it runs. */
  commandStarting?: () => NodeJS.ProcessEnv;
  commandStarted?: (pgid: number) => void;
  commandEnded?: (pgid: number) => void;
  /** Tasks that run commands pass their output here as it comes (published only while someone follows). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/** The original's RunActor hooks. Only `processTask` is required. */
export interface PilotHooks {
  prepareEnv?(): Promise<void> | void;
  prepareRun?(token: ClaimedToken, ctx: TaskContext): Promise<void> | void;
  processTask(token: ClaimedToken, ctx: TaskContext): Promise<TaskOutcome | void> | TaskOutcome | void;
  cleanupRun?(token: Token, ctx: TaskContext): Promise<void> | void;
  cleanupEnv?(): Promise<void> | void;
}

export interface PilotOptions {
  db: Database;
  pilot?: PilotIdentity;
  /** Views in priority order (default Monitor/todo). */
  views?: ViewRef[];
  window?: number;
  batchSize?: number;
  leaseSeconds?: number;
  /** Tokens run at once in this pilot. */
  slots?: number;
  maxTokenTimeMs?: number;
  /** No new token is started after this much time. */
  maxTotalTimeMs?: number;
  /** Stop after this many tokens (all slots together). */
  maxTasks?: number;
  /** A token whose exit code is not 0 is reset for another try while its scrub_count is below this. */
  maxScrub?: number;
  /** Asked before each claim: true ends the pilot. */
  stop?: () => boolean | Promise<boolean>;
  /**
   * When no token is free: wait for new tokens (until stop/maxTotalTime) instead of ending. The pilot waits on
   * the database's changes feed and reads the views when woken or at least every `maxPollMs`;
   * `changes: false` polls the views instead, with back-off from `pollMs` up to `maxPollMs`.
   */
  wait?: false | { pollMs?: number; maxPollMs?: number; changes?: boolean };
  /** Where the tokens of interrupted commands go: back to todo (default) or to error. */
  onInterrupt?: 'todo' | 'error';
  /** Abort to stop now: running tasks are stopped (SIGTERM, SIGKILL after `graceMs`), their tokens put back once
   *  their process groups are gone, finished results written; within `graceMs` + `stopSlackMs`. */
  signal?: AbortSignal;
  retry?: RetryOptions;
  log?: (line: string) => void;
  /** Renew leases with a per-pilot heartbeat document and a watchdog process (default true). */
  heartbeat?: boolean;
  /** Seconds a takeover of an expired lease waits beyond its end (default: a tenth of the lease, 2-30 s). */
  marginSeconds?: number;
  /** A token whose pilots died holding it this many times goes to error (default 3). */
  maxLost?: number;
  /** With nothing to claim but tokens held by other pilots: wait at most this long for their leases (ms). */
  leaseWaitMs?: number;
  /** Drain (finish current tokens, claim no more) when this file exists. */
  stopFile?: string;
  /** Drain when this signal aborts (e.g. on SIGUSR1). */
  drain?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL the watchdog gives a command (ms). */
  graceMs?: number;
  /** With replicated databases: at each renewal, stop tokens whose claim lost a replication conflict and clean up
   *  the losing revisions of the ones we won (one request per renewal; default true, needs heartbeat). */
  checkConflicts?: boolean;
  /** Clusters and replicating servers: how claims are confirmed before they run (src/claim/confirm.ts; default:
   *  when a write is answered 202 or the database has more than one copy). */
  confirmClaims?: import('../claim/confirm.js').ConfirmOptions;
  /** With batchSize > 1: hold about this many seconds of work per slot (claimed, not started) at most (default 2). */
  batchSeconds?: number;
  /** Aborted on a second signal: commands are killed at once (no grace), the pilot puts back what it can and ends. */
  hurry?: AbortSignal;
  /** After `signal` aborts: how long beyond the grace the pilot keeps trying to write results and put tokens
   *  back before leaving them to their leases (ms, default 4000). */
  stopSlackMs?: number;
  /** Keep results the database could not take in this file; the next start delivers them. */
  spoolFile?: string;
}

export interface PilotSummary {
  pilotId: string;
  claimed: number;
  done: number;
  failed: number;
  scrubbed: number;
  interrupted: number;
  staleResults: number;
  conflicts: number;
  /** Claim writes refused because another pilot won the token first (wasted claim attempts). */
  conflictedClaims: number;
  takeovers: number;
  lost: number;
  /** Results kept in the spool file because the database could not take them. */
  spooled: number;
  /** Spooled results of an earlier start delivered now. */
  delivered: number;
  /** Tokens claimed, then given back unstarted because this pilot would not start them soon (see work-pace.ts). */
  givenBack: number;
  elapsedMs: number;
  stoppedBy: 'empty' | 'maxTasks' | 'maxTotalTime' | 'stop' | 'signal' | 'drain';
}

