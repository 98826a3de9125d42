import type { ClaimedToken } from '../claim/claim.js';
import { sleep } from '../couch/backoff.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import type { IdleDecision, IdlePolicy } from './idle-policy.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { StopConditions } from './stop-conditions.js';
import type { TokenFeed } from './token-feed.js';
import { runToken, type TokenRun, type TokenRunContext } from './token-run.js';
import type { WorkPace } from './work-pace.js';

/** The parts the slot loop drives. */
export interface SlotLoopParts {
  slots: number;
  feed: TokenFeed;
  stops: StopConditions;
  idle: IdlePolicy;
  pace: WorkPace;
  leases?: LeaseKeeper;
  run: TokenRunContext;
  /** Tokens this pilot holds and works on: from the feed until their result is written. */
  active: Set<string>;
  /** Retry options for the idle policy's reads (outage patience; ended by the stop). */
  retry: RetryOptions;
  /** Most seconds a pilot whose lease was lost waits for a renewal before claiming again. */
  renewPatienceMs: number;
}

/**
 * The slot loop: each of `slots` loops takes the next token (unless a stop condition holds), runs it and
 * hands its result to the writer, until no token comes. With nothing to claim, the idle policy decides
 * (one decision shared by all idle slots).
 */
export async function runSlots(parts: SlotLoopParts): Promise<void> {
  let idleTurn: Promise<IdleDecision> | undefined;
  const decideOnce = () => {
    idleTurn ??= withRetry(() => parts.idle.decide(), { ...parts.retry, signal: parts.run.stopAll }).finally(() => { idleTurn = undefined; });
    return idleTurn;
  };
  await Promise.all(Array.from({ length: parts.slots }, (_, slot) => runSlot(parts, slot, decideOnce)));
}

async function runSlot(p: SlotLoopParts, slot: number, decide: () => Promise<IdleDecision>): Promise<void> {
  for (;;) {
    const token = await nextToken(p, decide);
    if (!token) return;
    p.stops.taskStarted();
    p.run.summary.claimed++;
    const conflictLost = p.leases?.hold(token._id, token.picas.attempt);
    p.pace.started(slot);
    let run: TokenRun | undefined;
    try {
      run = await runToken(p.run, token, slot, conflictLost);
    } finally {
      p.pace.ended(slot, run?.ranToEnd ?? false);
      p.leases?.release(token._id);
      // Held until its result is written (with group commit that lands after the slot has moved on).
      const forget = () => { p.active.delete(token._id); };
      if (run?.pending) void run.pending.then(forget, forget);
      else forget();
    }
    // A pilot without a batcher writes each result before it claims again; a failed write ends it.
    if (!p.run.batcher && run.pending) await run.pending;
  }
}

async function nextToken(p: SlotLoopParts, decide: () => Promise<IdleDecision>): Promise<ClaimedToken | undefined> {
  const stopAll = p.run.stopAll;
  try {
    for (let renewWaits = 0; ;) {
      if (await p.stops.shouldStop()) return undefined;
      // After a lost lease, claim nothing until a renewal succeeds (bounded by the outage patience): a token
      // claimed now would be stopped at once and put back, again and again.
      if (p.leases?.lostSignal.aborted) {
        await p.leases.renew();
        if (p.leases.lostSignal.aborted && renewWaits++ < p.renewPatienceMs / 1000) {
          await sleep(1_000, stopAll);
          continue;
        }
      }
      const token = await p.feed.next();
      if (token) {
        p.idle.claimed();
        p.active.add(token._id);
        return token;
      }
      if (stopAll.aborted) continue;
      const next = await decide();
      if (next.kind === 'exit') { p.stops.settle('empty'); return undefined; }
      if (next.kind === 'wait') await p.idle.pause(next, stopAll);
    }
  } catch (err) {
    // A claim or a read cut short by the stop (its retries end with the signal): the pilot is stopping.
    if (stopAll.aborted) { p.stops.settle('signal'); return undefined; }
    throw err;
  }
}

/**
 * Give back claimed tokens this pilot would not start within about batchSeconds (see work-pace.ts), so a
 * pilot with a free slot can run them. Checked a few times a second while tokens wait.
 */
export function paceKeeper(parts: Pick<SlotLoopParts, 'feed' | 'pace' | 'run'>, giveBack: (tokens: ClaimedToken[]) => Promise<void>, everyMs = 250): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy || parts.feed.queued === 0 || parts.run.stopAll.aborted) return;
    const excess = parts.feed.takeBack(parts.pace.keepUnstarted());
    if (excess.length === 0) return;
    busy = true;
    void giveBack(excess).finally(() => { busy = false; });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
