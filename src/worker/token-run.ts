import type { ClaimedToken } from '../claim/claim.js';
import type { RetryOptions } from '../couch/retry.js';
import { faultPoint } from '../claim/fault-points.js';
import { attachLogs, markDone, markError, nowSeconds, scrubToken } from '../tokens/operations.js';
import type { Token } from '../tokens/token.js';
import type { PilotHooks, PilotOptions, PilotSummary, TaskContext, TaskOutcome } from './pilot-types.js';
import { saveResult, type SaveOutcome } from './save-result.js';
import type { ResultBatcher } from './result-batcher.js';
import { spoolResult } from './spool.js';
import { releaseAttempts, releaseToken } from './release.js';
import { sleep } from '../couch/backoff.js';
import { withAttempt } from '../status/attempt-history.js';
import type { LogPublisher } from '../status/log-follow.js';

/** How long after its command ended by SIGTERM a pilot waits for its own stop signal. */
const SIGTERM_WINDOW_MS = 1_000;

/** What running one token needs from its pilot. */
export interface TokenRunContext {
  hooks: PilotHooks;
  options: PilotOptions;
  /** Aborted when the pilot is told to stop. */
  stopAll: AbortSignal;
  summary: PilotSummary;
  log: (line: string) => void;
  /** Retry options for writes: they end at the stop deadline once the pilot is stopping. */
  retry: RetryOptions;
  lease: {
    leaseLost?: AbortSignal;
    commandStarting?: () => NodeJS.ProcessEnv;
    commandStarted?: (pgid: number) => void;
    commandEnded?: (pgid: number) => void;
    /** Keeps a live tail of each command's output, published while someone follows the token. */
    output?: LogPublisher;
  };
  /** Group commit of results (batched pilots); without it each result is written alone. */
  batcher?: ResultBatcher;
  /** Result writes under way, awaited before the pilot ends. */
  background: Set<Promise<void>>;
}

export interface TokenRun {
  /** The result's write, when it goes on after the slot moved on (group commit). */
  pending?: Promise<void>;
  /** False when the command was stopped (lease lost, signal, conflict): its time says nothing of its length. */
  ranToEnd: boolean;
}

/**
 * One token, from its task to its recorded result: prepareRun, processTask (stopped on a signal, a lost
 * lease, a lost replication conflict or maxTokenTime), then the result written — or, for a stopped task,
 * the token put back — and cleanupRun. The result is handed to the writer the moment the task ends.
 */
export async function runToken(ctx: TokenRunContext, token: ClaimedToken, slot: number, conflictLost?: AbortSignal): Promise<TokenRun> {
  const { hooks, options, stopAll, summary, log } = ctx;
  const perToken = new AbortController();
  const onStop = () => perToken.abort(stopAll.reason);
  stopAll.addEventListener('abort', onStop, { once: true });
  let lost = false;
  const onLeaseLost = () => { lost = true; perToken.abort(new Error('lease lost')); };
  if (ctx.lease.leaseLost?.aborted) onLeaseLost();
  else ctx.lease.leaseLost?.addEventListener('abort', onLeaseLost, { once: true });
  let conflicted = false;
  const onConflictLost = () => { conflicted = true; perToken.abort(new Error('lost a replication conflict')); };
  if (conflictLost?.aborted) onConflictLost();
  else conflictLost?.addEventListener('abort', onConflictLost, { once: true });
  let timedOut = false;
  const timer = options.maxTokenTimeMs !== undefined
    ? setTimeout(() => { timedOut = true; perToken.abort(new Error('maxTokenTime')); }, options.maxTokenTimeMs)
    : undefined;
  const taskCtx: TaskContext = {
    slot, signal: perToken.signal, timeoutMs: options.maxTokenTimeMs, log,
    commandStarting: ctx.lease.commandStarting, commandStarted: ctx.lease.commandStarted, commandEnded: ctx.lease.commandEnded,
    onOutput: ctx.lease.output ? (stream, chunk) => ctx.lease.output!.output(token._id, stream, chunk) : undefined,
  };
  let outcome: TaskOutcome | void;
  try {
    ctx.lease.output?.started(token._id, token.picas.attempt);
    await hooks.prepareRun?.(token, taskCtx);
    outcome = await abortable(Promise.resolve(hooks.processTask(token, taskCtx)), perToken.signal, () => timedOut || stopAll.aborted || lost || conflicted);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    outcome = { exitCode: -1, failure: { message: e.message, exception: e.stack ?? '' } };
  } finally {
    if (timer) clearTimeout(timer);
    void ctx.lease.output?.ended(token._id);
    stopAll.removeEventListener('abort', onStop);
    ctx.lease.leaseLost?.removeEventListener('abort', onLeaseLost);
    conflictLost?.removeEventListener('abort', onConflictLost);
  }

  if (conflicted) {
    // Another attempt won this token on a replica. Write nothing on our revision (an edit there could make it
    // the winner again); the winning pilot records this attempt as stale and deletes our revision.
    summary.staleResults++;
    log(`${token._id}: lost a replication conflict to another attempt; command stopped, nothing saved`);
    await hooks.cleanupRun?.(token, taskCtx);
    return { ranToEnd: false };
  }
  if (lost) {
    // The lease could not be renewed: the command was stopped before the lease ended. This execution is
    // lost; the token goes back (counted as lost) unless another pilot has taken it over meanwhile.
    summary.lost++;
    await releaseAttempts(options.db, [{ id: token._id, attempt: token.picas.attempt }], { countLost: true, maxLost: options.maxLost, retry: ctx.retry })
      .catch((err) => log(`${token._id}: could not put back after losing the lease: ${(err as Error).message}`));
    log(`${token._id}: lease lost; command stopped, token put back`);
    await hooks.cleanupRun?.(token, taskCtx);
    return { ranToEnd: false };
  }
  // A command ended by SIGTERM while the pilot is not (yet) stopping: a batch system (Slurm's scancel or time
  // limit) signals every process of a job, the command often a moment before the pilot. Wait that moment for
  // the pilot's own signal: then the token was interrupted, not failed.
  if (outcome?.endedBySignal === 'SIGTERM' && !stopAll.aborted && !timedOut && !lost && !conflicted) {
    await sleep(SIGTERM_WINDOW_MS, stopAll);
  }
  if (stopAll.aborted && !timedOut && (outcome?.failure || outcome?.endedBySignal === 'SIGTERM')) {
    // The pilot is being stopped (batch system's time limit) and the task was stopped with it: the token
    // goes back (or to error), not done. (Its process group is gone: runCommand returns only then.) A task
    // that finished by itself has a result, written below like any other.
    summary.interrupted++;
    const to = options.onInterrupt ?? 'todo';
    await releaseToken(options.db, token, to, 'pilot interrupted by a signal while running it', ctx.retry)
      .then(() => log(`${token._id}: interrupted, put back to ${to}`))
      .catch((err) => log(`could not put back ${token._id} (${(err as Error).message}); it is left to its lease`));
    await hooks.cleanupRun?.(token, taskCtx);
    return { ranToEnd: false };
  }
  if (timedOut) {
    const how = outcome?.failure ? ` (${outcome.failure.message})` : '';
    outcome = { ...(outcome ?? { exitCode: -1 }), failure: { message: `exceeded maxTokenTime (${(options.maxTokenTimeMs! / 1000).toFixed(1)} s): stopped${how}` } };
  }
  // The only window in which a SIGKILL loses a finished result: between here and the write starting.
  faultPoint('before-save');
  return { ...writeResult(ctx, token, outcome ?? { exitCode: 0 }, taskCtx), ranToEnd: true };
}

/** Hand the result to the writer at once; the returned promise ends when it is written (or spooled). */
function writeResult(ctx: TokenRunContext, token: ClaimedToken, result: TaskOutcome, taskCtx: TaskContext): { pending: Promise<void> } {
  const { options, summary, log, hooks } = ctx;
  const maxScrub = options.maxScrub ?? 0;
  const apply = (current: Token): Token => {
    let next: Token = { ...current, ...(result.fields ?? {}) };
    if (result.logs) next = attachLogs(next, result.logs.stdout, result.logs.stderr);
    next.exit_code = result.exitCode;
    if (result.failure) return markError(next, result.failure.message, result.failure.exception ?? '');
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
    await hooks.cleanupRun?.(saved.kind === 'saved' ? saved.token : token, taskCtx);
  };
  const unsaved = async (err: unknown) => {
    if (options.spoolFile) {
      spoolResult(options.spoolFile, token, apply(token));
      summary.spooled++;
      log(`${token._id}: result not saved (${(err as Error).message}); kept in the spool ${options.spoolFile} for the next start`);
    } else {
      // A single-result pilot that cannot write ends with the error (exit 4), as before; a stopping pilot or
      // a batched one's writer says so and goes on.
      if (!ctx.batcher && !ctx.stopAll.aborted) throw err;
      log(`${token._id}: result not saved (${(err as Error).message}); the token runs again after its lease ends`);
    }
  };
  // The token keeps a bounded history of its attempts (picas.history): this one, with how it ended.
  const recorded = (current: Token): Token => {
    const next = apply(current);
    return withAttempt(next, result.failure ? 'error' : result.exitCode === 0 ? 'done' : Number(next.lock) === 0 ? 'scrubbed' : 'error', nowSeconds(), result.exitCode);
  };
  const write = ctx.batcher ? ctx.batcher.submit(token, recorded) : saveResult(options.db, token, recorded, ctx.retry);
  faultPoint('result-handed');
  const pending: Promise<void> = write.then(finish, unsaved).finally(() => ctx.background.delete(pending));
  ctx.background.add(pending);
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
