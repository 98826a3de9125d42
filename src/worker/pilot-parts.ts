import { DEFAULT_VIEW, type ClaimedToken } from '../claim/claim.js';
import { CandidateReader } from '../claim/candidates.js';
import { defaultMarginSeconds } from '../lease/expiry.js';
import { pilotIdentity } from '../lease/pilot-identity.js';
import type { PilotHooks, PilotOptions, PilotSummary } from './pilot-types.js';
import { CommandGroups } from './command-groups.js';
import { IdlePolicy } from './idle-policy.js';
import { LeaseKeeper } from './lease-keeper.js';
import { releaseAttempts } from './release.js';
import { ResultBatcher } from './result-batcher.js';
import type { SlotLoopParts } from './slot-loop.js';
import { StopConditions } from './stop-conditions.js';
import { StopDeadline } from './stop-deadline.js';
import { TokenFeed } from './token-feed.js';
import { WorkPace } from './work-pace.js';

export interface PilotParts extends SlotLoopParts {
  pilotId: string;
  deadline: StopDeadline;
  groups: CommandGroups;
  /** Put back tokens claimed but not started (one conditional write). */
  giveBack: (tokens: ClaimedToken[], why: string) => Promise<void>;
  /** Detach from the caller's signals. */
  detach: () => void;
}

export function emptySummary(pilotId: string): PilotSummary {
  return {
    pilotId, claimed: 0, done: 0, failed: 0, scrubbed: 0, interrupted: 0, staleResults: 0, conflicts: 0,
    conflictedClaims: 0, takeovers: 0, lost: 0, spooled: 0, delivered: 0, givenBack: 0, elapsedMs: 0, stoppedBy: 'empty',
  };
}

/** Build a pilot's parts from its options and wire their signals (stop, hurry, drain) together. */
export function assemblePilot(hooks: PilotHooks, options: PilotOptions): PilotParts {
  const log = options.log ?? (() => {});
  const pilot = options.pilot ?? pilotIdentity();
  const slots = Math.max(1, options.slots ?? 1);
  const maxBatch = Math.max(1, options.batchSize ?? 1);
  const leaseSeconds = options.leaseSeconds ?? 300;
  const marginSeconds = options.marginSeconds ?? defaultMarginSeconds(leaseSeconds);
  const stopAll = new AbortController();
  const deadline = new StopDeadline(options.retry ?? {}, options.graceMs ?? 30_000, options.stopSlackMs ?? 4_000);
  const groups = new CommandGroups();
  const onStop = () => { deadline.begin(); stopAll.abort(options.signal?.reason); };
  const onHurry = () => { deadline.hurry(); onStop(); groups.killAll(); };
  if (options.signal?.aborted) onStop();
  options.signal?.addEventListener('abort', onStop, { once: true });
  options.hurry?.addEventListener('abort', onHurry, { once: true });
  const summary = emptySummary(pilot.pilotId);
  const stops = new StopConditions({ ...options, signal: stopAll.signal, log });
  const leases = options.heartbeat !== false ? new LeaseKeeper(options.db, pilot, {
    leaseSeconds, graceMs: options.graceMs, checkConflicts: options.checkConflicts, maxLost: options.maxLost, log, onDrain: () => stops.startDrain('asked in the database'),
    progress: () => ({ done: summary.done, failed: summary.failed, stopping: stops.reason }),
  }) : undefined;
  const pace = new WorkPace({ slots, maxBatch, batchSeconds: options.batchSeconds });
  const batcher = maxBatch > 1 ? new ResultBatcher(options.db, { maxBatch, retry: deadline.retry }) : undefined;
  const feed = new TokenFeed(options.db, {
    views: options.views?.length ? options.views : [DEFAULT_VIEW], window: options.window, candidates: new CandidateReader(options.db),
    batchSize: maxBatch, leaseSeconds, pilot, signal: stopAll.signal, marginSeconds, maxLost: options.maxLost, log,
    confirm: options.confirmClaims,
  }, options.retry, { batchSize: () => pace.claimSize(), beforeClaim: batcher ? () => batcher.flush() : undefined });
  const active = new Set<string>();
  const idle = new IdlePolicy(options.db, {
    pilotId: pilot.pilotId, leaseSeconds, marginSeconds, wait: options.wait ?? false, retry: deadline.retry, log,
    leaseWaitMs: options.leaseWaitMs ?? 2 * leaseSeconds * 1000 + marginSeconds * 1000,
    knows: (id) => active.has(id) || feed.queuedIds().has(id), claimBusy: () => feed.busy,
  });
  const lease = {
    leaseLost: leases?.lostSignal,
    commandStarting: leases?.commandStarting,
    commandStarted: (pgid: number) => { groups.add(pgid); leases?.commandStarted(pgid); },
    commandEnded: (pgid: number) => { groups.remove(pgid); leases?.commandEnded(pgid); },
    output: leases?.output,
  };
  // The lease keeper replaces its lost signal after a renewal: read it when each token starts.
  if (leases) Object.defineProperty(lease, 'leaseLost', { get: () => leases.lostSignal, enumerable: true });
  const giveBack = async (tokens: ClaimedToken[], why: string) => {
    if (tokens.length === 0) return;
    try {
      const r = await releaseAttempts(options.db, tokens.map((t) => ({ id: t._id, attempt: t.picas.attempt })), { retry: deadline.retry });
      summary.givenBack += r.released.length;
      log(`gave back ${r.released.length} unstarted token(s) ${why}`);
    } catch (err) {
      log(`could not give back ${tokens.map((t) => t._id).join(', ')} (${(err as Error).message}); left to their leases`);
    }
  };
  return {
    pilotId: pilot.pilotId, slots, feed, stops, idle, pace, leases, active, deadline, groups, giveBack,
    retry: { ...(options.retry ?? {}), signal: stopAll.signal },
    renewPatienceMs: options.retry?.patienceMs ?? 300_000,
    run: { hooks, options, stopAll: stopAll.signal, summary, log, retry: deadline.retry, lease, batcher, background: new Set() },
    detach: () => {
      options.signal?.removeEventListener('abort', onStop);
      options.hurry?.removeEventListener('abort', onHurry);
      deadline.dispose();
    },
  };
}
