import { deliverSpool } from './spool.js';
import { assemblePilot } from './pilot-parts.js';
import { paceKeeper, runSlots } from './slot-loop.js';
import type { PilotHooks, PilotOptions, PilotSummary } from './pilot-types.js';

export type { TaskOutcome, TaskContext, PilotHooks, PilotOptions, PilotSummary } from './pilot-types.js';

/**
 * The pilot's run loop (the original's RunActor): prepareEnv once; for each claimed token prepareRun,
 * processTask, save the result, cleanupRun; cleanupEnv once at the end, always. `slots` loops share one
 * token feed. The parts, each deciding one thing:
 * - stop-conditions.ts: whether to claim another token (signal, limits, drain);
 * - idle-policy.ts: what to do with nothing to claim (lost claim answers, dead pilots' leases, polling);
 * - slot-loop.ts: the slots taking, running and handing in tokens; work-pace.ts: how much to hold;
 * - token-run.ts: one token from task to result; result-batcher.ts: group commit of results;
 * - stop-deadline.ts: how long a stopping pilot keeps trying the server.
 */
export async function runPilot(hooks: PilotHooks, options: PilotOptions): Promise<PilotSummary> {
  const started = Date.now();
  const parts = assemblePilot(hooks, options);
  const { run, feed, leases, stops, deadline } = parts;
  const { summary, log } = run;
  let stopPacing = () => {};
  try {
    if (options.spoolFile) summary.delivered = (await deliverSpool(options.db, options.spoolFile, parts.retry, log)).length;
  } catch (err) {
    if (!run.stopAll.aborted) throw err;
  }
  await hooks.prepareEnv?.();
  try {
    if (!run.stopAll.aborted) await leases?.start();
    stopPacing = paceKeeper(parts, (tokens) => parts.giveBack(tokens, 'that would not start soon here (they take longer than the tokens before)'));
    await runSlots(parts);
  } finally {
    stopPacing();
    // Results handed in are written (until the stop deadline, then left to their leases or the spool).
    await run.batcher?.flush();
    await Promise.allSettled([...run.background]);
    // Claimed but never started: give back at once (one write) rather than leaving them to a lease expiry.
    await parts.giveBack(feed.drain(), 'claimed but not started, as the pilot stops');
    parts.detach();
    await leases?.stop();
    await hooks.cleanupEnv?.();
  }
  if (run.stopAll.aborted && deadline.signal.aborted) log('stop deadline reached: what was not written is left to its lease');
  summary.conflicts = feed.stats.conflicts;
  summary.conflictedClaims = feed.stats.conflictedDocs ?? 0;
  summary.takeovers = feed.stats.takeovers ?? 0;
  summary.elapsedMs = Date.now() - started;
  summary.stoppedBy = stops.reason ?? 'empty';
  return summary;
}
