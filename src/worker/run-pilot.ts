import type { Database } from '../couch/database.js';
import { DEFAULT_VIEW, type ClaimedToken, type ViewRef } from '../claim/claim.js';
import { pilotIdentity, type PilotIdentity } from '../lease/pilot-identity.js';
import { backoffMs, sleep } from '../couch/backoff.js';
import type { RetryOptions } from '../couch/retry.js';
import { attachLogs, markDone, markError, nowSeconds, scrubToken } from '../tokens/operations.js';
import type { Token } from '../tokens/token.js';
import { saveResult, type SaveOutcome } from './save-result.js';
import { ResultBatcher } from './result-batcher.js';
import { deliverSpool, spoolResult } from './spool.js';
import { TokenFeed } from './token-feed.js';
import { CandidateReader } from '../claim/candidates.js';
import { releaseToken, releaseUnstarted, withoutLease } from './release.js';
import { LeaseKeeper } from './lease-keeper.js';
import { defaultMarginSeconds, heldTokens } from '../lease/expiry.js';
import { existsSync } from 'node:fs';
import { faultPoint } from '../claim/fault-points.js';

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
  /** When no token is free: wait and poll again (until stop/maxTotalTime) instead of ending. */
  wait?: false | { pollMs?: number; maxPollMs?: number };
  /** Where the tokens of interrupted commands go: back to todo (default) or to error. */
  onInterrupt?: 'todo' | 'error';
  /** Abort to stop now: running tasks are stopped and their tokens released. */
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
  /** With batchSize > 1: longest a finished result waits for its batch's write (ms, default 1000). */
  resultDelayMs?: number;
  /** With batchSize > 1: claim about this many seconds of work per slot at a time (default 2). */
  batchSeconds?: number;
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
  elapsedMs: number;
  stoppedBy: 'empty' | 'maxTasks' | 'maxTotalTime' | 'stop' | 'signal' | 'drain';
}

/**
 * The pilot's run loop (the original's RunActor): prepareEnv once; for each claimed token prepareRun,
 * processTask, save the result, cleanupRun; cleanupEnv once at the end, always. `slots` loops share one
 * token feed.
 */
export async function runPilot(hooks: PilotHooks, options: PilotOptions): Promise<PilotSummary> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const pilot = options.pilot ?? pilotIdentity();
  const stopAll = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => stopAll.abort(outer?.reason);
  if (outer?.aborted) stopAll.abort(outer.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const slots = Math.max(1, options.slots ?? 1);
  const maxBatch = Math.max(1, options.batchSize ?? 1);
  // Results of a batch go back together; single-token pilots write each result at once.
  const batcher = maxBatch > 1
    ? new ResultBatcher(options.db, { maxBatch, maxDelayMs: options.resultDelayMs ?? 1_000, retry: options.retry })
    : undefined;
  const background = new Set<Promise<void>>();
  // Claim batches sized from recent task durations: about `batchSeconds` of work per slot, so short
  // tasks go in large batches while long ones still go one at a time and no pilot hoards work.
  let avgTaskMs: number | undefined;
  const noteTaskMs = (ms: number) => { avgTaskMs = avgTaskMs === undefined ? ms : 0.8 * avgTaskMs + 0.2 * ms; };
  const batchSizeNow = (): number => {
    if (maxBatch <= 1) return 1;
    if (avgTaskMs === undefined) return Math.min(maxBatch, slots);
    const targetMs = (options.batchSeconds ?? 2) * 1000;
    return Math.max(1, Math.min(maxBatch, Math.ceil((slots * targetMs) / Math.max(avgTaskMs, 1))));
  };
  const feed = new TokenFeed(options.db, {
    views: options.views?.length ? options.views : [DEFAULT_VIEW],
    window: options.window,
    candidates: new CandidateReader(options.db),
    batchSize: options.batchSize,
    leaseSeconds: options.leaseSeconds,
    pilot,
    signal: stopAll.signal,
    marginSeconds: options.marginSeconds,
    maxLost: options.maxLost,
    log,
  }, options.retry, {
    batchSize: batchSizeNow,
    beforeClaim: batcher ? () => batcher.flush() : undefined,
  });
  const summary: PilotSummary = {
    pilotId: pilot.pilotId, claimed: 0, done: 0, failed: 0, scrubbed: 0, interrupted: 0, staleResults: 0,
    conflicts: 0, conflictedClaims: 0, takeovers: 0, lost: 0, spooled: 0, delivered: 0, elapsedMs: 0, stoppedBy: 'empty',
  };
  const leaseSeconds = options.leaseSeconds ?? 300;
  const margin = options.marginSeconds ?? defaultMarginSeconds(leaseSeconds);
  let draining = false;
  const startDrain = (why: string) => { if (!draining) { draining = true; log(`draining (${why}): finishing current tokens, claiming no more`); } };
  options.drain?.addEventListener('abort', () => startDrain('asked by signal'), { once: true });
  // Leases: renewed by a heartbeat, guarded by a watchdog process (see lease-keeper.ts).
  const leases = options.heartbeat !== false ? new LeaseKeeper(options.db, pilot, {
    leaseSeconds, graceMs: options.graceMs, checkConflicts: options.checkConflicts, log,
    onDrain: () => startDrain('asked in the database'),
  }) : undefined;
  const leaseWaitMs = options.leaseWaitMs ?? 2 * leaseSeconds * 1000 + margin * 1000;
  let leaseWaited = 0;
  /** Tokens this pilot holds and works on: taken from the feed, until their result is written. */
  const active = new Set<string>();
  let started_tasks = 0;
  let stopReason: PilotSummary['stoppedBy'] | undefined;

  const shouldStop = async (): Promise<boolean> => {
    if (stopAll.signal.aborted) { stopReason ??= 'signal'; return true; }
    if (stopReason) return true;
    if (options.maxTasks !== undefined && started_tasks >= options.maxTasks) { stopReason = 'maxTasks'; return true; }
    if (options.maxTotalTimeMs !== undefined && Date.now() - started >= options.maxTotalTimeMs) { stopReason = 'maxTotalTime'; return true; }
    if (options.stop && await options.stop()) { stopReason = 'stop'; return true; }
    if (options.stopFile && existsSync(options.stopFile)) startDrain(`stop file ${options.stopFile} exists`);
    if (draining) { stopReason = 'drain'; return true; }
    return false;
  };

  const nextToken = async (): Promise<ClaimedToken | undefined> => {
    for (let idle = 0, renewWaits = 0; ; idle++) {
      if (await shouldStop()) return undefined;
      // After a lost lease, claim nothing until a renewal succeeds (bounded by the outage patience): a token
      // claimed now would be stopped at once and put back, again and again.
      if (leases?.lostSignal.aborted) {
        await leases.renew();
        if (leases.lostSignal.aborted && renewWaits++ < (options.retry?.patienceMs ?? 300_000) / 1000) {
          await sleep(1_000, stopAll.signal);
          continue;
        }
      }
      const token = await feed.next();
      // The wait for other pilots' leases is bounded per idle stretch, not over the pilot's life: a pilot that
      // waited earlier must still wait for the leases of pilots that die later.
      if (token) { leaseWaited = 0; active.add(token._id); return token; }
      if (stopAll.signal.aborted) { stopReason ??= 'signal'; return undefined; }
      if (!options.wait) {
        // Nothing free, but other pilots may hold tokens whose leases will end (dead pilots): wait for
        // those, within a bound, so the last pilots standing finish the work of the dead ones.
        const held = await heldTokens(options.db);
        // Held under our own name but not by any slot: a claim whose answer was lost on the way (the write
        // landed, the connection did not). Nobody would ever finish it: put it back and claim again.
        // Only while no claim is on its way (its tokens are ours but not yet known here).
        const queued = feed.queuedIds();
        const orphans = feed.busy ? [] : held.filter((h) => h.token.picas.pilot === pilot.pilotId && !active.has(h.token._id) && !queued.has(h.token._id));
        if (orphans.length > 0) {
          for (const h of orphans) {
            await releaseToken(options.db, h.token as ClaimedToken, 'todo', 'claimed, but the answer was lost', options.retry)
              .catch((err) => log(`could not put back ${h.token._id}: ${(err as Error).message}`));
          }
          log(`put back ${orphans.length} token(s) claimed under this pilot's name whose claim answer was lost`);
          continue;
        }
        const others = held.filter((h) => h.token.picas.pilot !== pilot.pilotId);
        if (others.length === 0 || leaseWaited >= leaseWaitMs) { stopReason ??= 'empty'; return undefined; }
        const nowServer = options.db.server.serverNow() / 1000;
        const soonest = Math.min(...others.map((h) => h.expiresAt)) + margin + 0.5;
        const wait = Math.min(5_000, leaseWaitMs - leaseWaited, Math.max(200, (soonest - nowServer) * 1000));
        log(`no free token; ${others.length} held by other pilots, waiting ${(wait / 1000).toFixed(1)} s for their leases`);
        leaseWaited += wait;
        await sleep(wait, stopAll.signal);
        continue;
      }
      const wait = Math.min(options.wait.maxPollMs ?? 10_000, backoffMs(idle, options.wait.pollMs ?? 1_000, options.wait.maxPollMs ?? 10_000));
      log(`no free token; polling again in ${(wait / 1000).toFixed(1)} s`);
      await sleep(wait, stopAll.signal);
    }
  };

  const runSlot = async (slot: number) => {
    for (;;) {
      const token = await nextToken();
      if (!token) return;
      started_tasks++;
      summary.claimed++;
      const conflictLost = leases?.hold(token._id, token.picas.attempt);
      let saving: Promise<void> | undefined;
      try {
        saving = (await runOne(hooks, token, slot, options, stopAll.signal, summary, log,
          { leaseLost: leases?.lostSignal, commandStarting: leases?.commandStarting, commandStarted: leases?.commandStarted, commandEnded: leases?.commandEnded, conflictLost },
          { batcher, background, noteTaskMs }))?.pending;
      } finally {
        leases?.release(token._id);
        // Active until its result is written (batched results land after the slot has moved on).
        if (saving) void saving.finally(() => active.delete(token._id));
        else active.delete(token._id);
      }
    }
  };

  if (options.spoolFile) summary.delivered = (await deliverSpool(options.db, options.spoolFile, options.retry, log)).length;
  await hooks.prepareEnv?.();
  try {
    await leases?.start();
    await Promise.all(Array.from({ length: slots }, (_, i) => runSlot(i)));
  } finally {
    await batcher?.flush();
    await Promise.allSettled([...background]);
    // Claimed but never started: give back at once (one write) rather than leaving them to a lease expiry.
    for (const { id, error } of await releaseUnstarted(options.db, feed.drain(), options.retry)) {
      log(`could not release ${id}: ${error}`);
    }
    outer?.removeEventListener('abort', onOuterAbort);
    await leases?.stop();
    await hooks.cleanupEnv?.();
  }
  summary.conflicts = feed.stats.conflicts;
  summary.conflictedClaims = feed.stats.conflictedDocs ?? 0;
  summary.takeovers = feed.stats.takeovers ?? 0;
  summary.elapsedMs = Date.now() - started;
  summary.stoppedBy = stopReason ?? 'empty';
  return summary;
}

async function runOne(
  hooks: PilotHooks,
  token: ClaimedToken,
  slot: number,
  options: PilotOptions,
  stopAll: AbortSignal,
  summary: PilotSummary,
  log: (line: string) => void,
  lease: { leaseLost?: AbortSignal; commandStarting?: () => NodeJS.ProcessEnv; commandStarted?: (pgid: number) => void; commandEnded?: (pgid: number) => void; conflictLost?: AbortSignal },
  saving: { batcher?: ResultBatcher; background: Set<Promise<void>>; noteTaskMs: (ms: number) => void },
): Promise<{ pending: Promise<void> } | undefined> {
  const taskStarted = performance.now();
  const perToken = new AbortController();
  const onStop = () => perToken.abort(stopAll.reason);
  stopAll.addEventListener('abort', onStop, { once: true });
  let lost = false;
  const onLeaseLost = () => { lost = true; perToken.abort(new Error('lease lost')); };
  if (lease.leaseLost?.aborted) onLeaseLost();
  else lease.leaseLost?.addEventListener('abort', onLeaseLost, { once: true });
  let conflictLost = false;
  const onConflictLost = () => { conflictLost = true; perToken.abort(new Error('lost a replication conflict')); };
  if (lease.conflictLost?.aborted) onConflictLost();
  else lease.conflictLost?.addEventListener('abort', onConflictLost, { once: true });
  let timedOut = false;
  const timer = options.maxTokenTimeMs !== undefined
    ? setTimeout(() => { timedOut = true; perToken.abort(new Error('maxTokenTime')); }, options.maxTokenTimeMs)
    : undefined;
  const ctx: TaskContext = {
    slot, signal: perToken.signal, timeoutMs: options.maxTokenTimeMs, log,
    commandStarting: lease.commandStarting, commandStarted: lease.commandStarted, commandEnded: lease.commandEnded,
  };
  let outcome: TaskOutcome | void;
  try {
    await hooks.prepareRun?.(token, ctx);
    outcome = await abortable(Promise.resolve(hooks.processTask(token, ctx)), perToken.signal, () => timedOut || stopAll.aborted || lost || conflictLost);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    outcome = { exitCode: -1, failure: { message: e.message, exception: e.stack ?? '' } };
  } finally {
    if (timer) clearTimeout(timer);
    stopAll.removeEventListener('abort', onStop);
    lease.leaseLost?.removeEventListener('abort', onLeaseLost);
    lease.conflictLost?.removeEventListener('abort', onConflictLost);
  }

  if (conflictLost) {
    // Another attempt won this token on a replica. Write nothing on our revision (an edit there could make it
    // the winner again); the winning pilot records this attempt as stale and deletes our revision.
    summary.staleResults++;
    log(`${token._id}: lost a replication conflict to another attempt; command stopped, nothing saved`);
    await hooks.cleanupRun?.(token, ctx);
    return;
  }
  if (lost) {
    // The lease could not be renewed: the command was stopped before the lease ended. This execution is
    // lost; the token goes back (counted as lost) unless another pilot has taken it over meanwhile.
    summary.lost++;
    await saveResult(options.db, token, (current) => {
      const released = { ...withoutLease(current), lock: 0, done: 0 } as Token & { picas: Record<string, unknown> };
      released.picas = { ...released.picas, lost_runs: (Number(released.picas.lost_runs) || 0) + 1 };
      return released;
    }, options.retry).catch((err) => log(`${token._id}: could not put back after losing the lease: ${(err as Error).message}`));
    log(`${token._id}: lease lost; command stopped, token put back`);
    await hooks.cleanupRun?.(token, ctx);
    return;
  }

  if (stopAll.aborted && !timedOut) {
    // The pilot is being stopped (batch system's time limit): the token goes back (or to error), not done.
    summary.interrupted++;
    const to = options.onInterrupt ?? 'todo';
    await releaseToken(options.db, token, to, 'pilot interrupted by a signal while running it', options.retry)
      .catch((err) => log(`could not release ${token._id}: ${(err as Error).message}`));
    log(`${token._id}: interrupted, put back to ${to}`);
    await hooks.cleanupRun?.(token, ctx);
    return;
  }
  if (timedOut) {
    const how = outcome?.failure ? ` (${outcome.failure.message})` : '';
    outcome = { ...(outcome ?? { exitCode: -1 }), failure: { message: `exceeded maxTokenTime (${(options.maxTokenTimeMs! / 1000).toFixed(1)} s): stopped${how}` } };
  }
  saving.noteTaskMs(performance.now() - taskStarted);
  faultPoint('before-save');
  const result = outcome ?? { exitCode: 0 };
  const maxScrub = options.maxScrub ?? 0;
  const apply = (current: Token): Token => {
    let next: Token = { ...current, ...(result.fields ?? {}) };
    if (result.logs) next = attachLogs(next, result.logs.stdout, result.logs.stderr);
    if (result.failure) {
      next.exit_code = result.exitCode;
      return markError(next, result.failure.message, result.failure.exception ?? '');
    }
    next.exit_code = result.exitCode;
    next = markDone(next, nowSeconds());
    if (result.exitCode !== 0 && (Number(next.scrub_count) || 0) < maxScrub) next = scrubToken(next);
    return next;
  };
  const finish = async (saved: SaveOutcome) => {
    if (saved.kind === 'stale') {
      summary.staleResults++;
      log(`${token._id}: another attempt (${saved.owner ?? 'none'}) holds the token now; this result was kept as a stale-attempt record, not as the result`);
    } else if (result.failure || result.exitCode !== 0) {
      if (saved.token.lock === 0) summary.scrubbed++;
      summary.failed++;
      log(`${token._id}: ${result.failure ? `error: ${result.failure.message}` : `exit code ${result.exitCode}`}${saved.token.lock === 0 ? ' (reset for another try)' : ''}`);
    } else {
      summary.done++;
      log(`${token._id}: done`);
    }
    await hooks.cleanupRun?.(saved.kind === 'saved' ? saved.token : token, ctx);
  };
  const unsaved = (err: unknown) => {
    if (!options.spoolFile) throw err;
    spoolResult(options.spoolFile, token, apply(token));
    summary.spooled++;
    log(`${token._id}: result not saved (${(err as Error).message}); kept in the spool ${options.spoolFile} for the next start`);
  };
  if (!saving.batcher) {
    let saved: SaveOutcome;
    try {
      saved = await saveResult(options.db, token, apply, options.retry);
    } catch (err) {
      unsaved(err);
      return;
    }
    await finish(saved);
    return;
  }
  // Batched: the slot goes on with its next token while this result waits for its batch's write.
  const pending: Promise<void> = saving.batcher.submit(token, apply).then(finish, (err) => {
    try {
      unsaved(err);
    } catch {
      log(`${token._id}: result not saved (${(err as Error).message}); the token runs again after its lease ends`);
    }
  }).finally(() => saving.background.delete(pending));
  saving.background.add(pending);
  return { pending };
}

/**
 * Wait for a task, but stop waiting when the token's signal aborts and the task does not end by itself
 * within a short grace (an API task that ignores its signal must not hold the pilot for ever).
 */
async function abortable<T>(task: Promise<T>, signal: AbortSignal, expected: () => boolean): Promise<T> {
  if (signal.aborted && !expected()) return task;
  return new Promise<T>((resolve, reject) => {
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      graceTimer = setTimeout(() => reject(new Error('task did not stop when asked')), 60_000);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    task.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
      if (graceTimer) clearTimeout(graceTimer);
    });
  });
}
