import type { Database } from '../couch/database.js';
import { backoffMs, sleep } from '../couch/backoff.js';
import type { RetryOptions } from '../couch/retry.js';
import { heldTokens, type HeldToken } from '../lease/expiry.js';
import { liveHolders } from '../claim/live-holders.js';

/** Longest wait (s) to see a live-looking holder renew once more before ending (see decide()). */
const CONFIRM_WAIT_S = 5;
import { releaseAttempts } from './release.js';
import { confirmedAttempt } from '../claim/confirm.js';
import { WorkSignal } from './work-signal.js';

/** What a pilot with nothing to claim does next. */
export type IdleDecision =
  | { kind: 'claim-again' }
  | { kind: 'wait'; ms: number; forWork?: boolean }
  | { kind: 'exit' };

export interface IdlePolicyOptions {
  pilotId: string;
  leaseSeconds: number;
  marginSeconds: number;
  /** Longest wait for other pilots' leases in one idle stretch (ms). */
  leaseWaitMs: number;
  /**
   * Poll for new tokens (--wait) instead of ending. With `changes` (the default) the pilot waits on the
   * database's changes feed (work-signal.ts) and looks at the views when woken or every `maxPollMs`;
   * `changes: false` polls the views with back-off from `pollMs` up to `maxPollMs`.
   */
  wait: false | { pollMs?: number; maxPollMs?: number; changes?: boolean };
  /** Tokens this pilot knows it holds (running, saving, or claimed and queued). */
  knows: (id: string) => boolean;
  /** True while a claim is on its way (its tokens may be locked under our name, not yet known). */
  claimBusy: () => boolean;
  retry?: RetryOptions;
  log: (line: string) => void;
}

const clock = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(11, 19) + ' UTC';

/**
 * The idle policy: what a pilot does when no token is free.
 * - Tokens locked under its own name that it does not know (a claim whose answer was lost) go back at once.
 * - With --wait it polls again (back-off up to the poll interval).
 * - Else it looks at tokens other pilots hold. Those of live holders (heartbeat renewed lately, see
 *   live-holders.ts) are being worked on: if every held token is such, the pilot ends at once. Tokens of
 *   holders not alive will be free when their leases end: it waits for those, bounded by `leaseWaitMs` per
 *   idle stretch, so the last pilots standing take over a lost node's tokens. It says once which tokens,
 *   whose and until when, and again only when that changes.
 */
export class IdlePolicy {
  /** Each live holder's renewal time as first seen here: a later one confirms it is alive. */
  private readonly firstRenewal = new Map<string, number | undefined>();

  private renewalSeen(pilot: string, renewedAt: number | undefined): boolean {
    if (!this.firstRenewal.has(pilot)) { this.firstRenewal.set(pilot, renewedAt); return false; }
    const first = this.firstRenewal.get(pilot);
    return renewedAt !== undefined && (first === undefined || renewedAt > first);
  }

  private polls = 0;
  private leaseWaited = 0;
  private announced = '';
  private readonly signal: WorkSignal | undefined;
  private waiting: Promise<unknown> | undefined;

  constructor(private readonly db: Database, private readonly options: IdlePolicyOptions) {
    if (options.wait && options.wait.changes !== false) this.signal = new WorkSignal(db, { log: options.log });
  }

  /** A token was claimed: the idle stretch is over (a later stretch may wait for leases again). */
  claimed(): void {
    this.polls = 0;
    this.leaseWaited = 0;
    this.announced = '';
    this.signal?.reset();
  }

  /**
   * Carry out a 'wait' decision: sleep, or with --wait wait on the changes feed (woken early by new work).
   * Slots idle together share one wait (one open `_changes` feed per pilot).
   */
  async pause(decision: { kind: 'wait'; ms: number; forWork?: boolean }, stop: AbortSignal): Promise<void> {
    if (!decision.forWork || !this.signal) return sleep(decision.ms, stop);
    this.waiting ??= this.signal.wait(decision.ms, stop).finally(() => { this.waiting = undefined; });
    await this.waiting;
  }

  async decide(): Promise<IdleDecision> {
    const o = this.options;
    const held = await heldTokens(this.db);
    if (await this.putBackOrphans(held)) return { kind: 'claim-again' };
    if (o.wait) {
      const max = o.wait.maxPollMs ?? 10_000;
      if (this.signal) {
        this.announce('poll', `no free token; waiting for new ones on the changes feed (views read again at least every ${(max / 1000).toFixed(1)} s, --wait)`);
        return { kind: 'wait', ms: max, forWork: true };
      }
      const ms = Math.min(max, backoffMs(this.polls++, o.wait.pollMs ?? 1_000, max));
      this.announce('poll', `no free token; polling for new ones (at most every ${(max / 1000).toFixed(1)} s, --wait)`);
      return { kind: 'wait', ms };
    }
    const others = held.filter((h) => h.token.picas.pilot !== o.pilotId);
    if (others.length === 0) return { kind: 'exit' };
    const nowServer = this.db.server.serverNow() / 1000;
    const holders = await liveHolders(this.db, others.map((h) => h.token.picas.pilot), {
      leaseSeconds: o.leaseSeconds, marginSeconds: o.marginSeconds, nowServer,
    });
    const ofDead = others.filter((h) => !holders.get(h.token.picas.pilot)?.alive);
    if (ofDead.length === 0) {
      // A holder that died just after renewing still looks alive for up to lease/3 + margin: when seeing it
      // renew once more costs at most CONFIRM_WAIT_S, wait for that renewal first (a lost node's token would
      // otherwise stay locked with no pilot left to take it over). Longer than that: end, as the issue's rule.
      const interval = o.leaseSeconds / 3 + o.marginSeconds;
      const unconfirmed = [...new Set(others.map((h) => h.token.picas.pilot))]
        .map((p) => holders.get(p))
        .filter((h): h is NonNullable<typeof h> => h !== undefined && !this.renewalSeen(h.pilot, h.renewedAt));
      const confirmBy = Math.max(...unconfirmed.map((h) => (h.renewedAt ?? nowServer) + interval));
      if (unconfirmed.length > 0 && confirmBy - nowServer <= CONFIRM_WAIT_S) {
        return { kind: 'wait', ms: Math.max(200, Math.round((confirmBy - nowServer) * 1000) + 200) };
      }
      o.log(`no free token; the ${others.length} held token(s) belong to live pilots, which finish them: ending`);
      return { kind: 'exit' };
    }
    if (this.leaseWaited >= o.leaseWaitMs) {
      o.log(`no free token; waited ${(this.leaseWaited / 1000).toFixed(0)} s for leases of pilots not alive: ending (picas reset --expired frees them later)`);
      return { kind: 'exit' };
    }
    const soonest = Math.min(...ofDead.map((h) => h.expiresAt)) + o.marginSeconds + 0.5;
    const ms = Math.min(5_000, o.leaseWaitMs - this.leaseWaited, Math.max(200, (soonest - nowServer) * 1000));
    this.leaseWaited += ms;
    this.announce(ofDead.map((h) => h.token._id).sort().join(','), `no free token; waiting for the leases of ${describe(ofDead, o.marginSeconds)} (their pilots are not alive)`);
    return { kind: 'wait', ms };
  }

  private announce(key: string, line: string): void {
    if (key === this.announced) return;
    this.announced = key;
    this.options.log(line);
  }

  /**
   * Held under our own name but not known to any slot or queue: a claim whose answer was lost on the way
   * (the write landed, the connection did not). Nobody would ever finish it: put it back. Only while no
   * claim is on its way (its tokens are ours but not yet known here).
   */
  private async putBackOrphans(held: HeldToken[]): Promise<boolean> {
    const o = this.options;
    if (o.claimBusy()) return false;
    const orphans = held.filter((h) => h.token.picas.pilot === o.pilotId && !o.knows(h.token._id) && !confirmedAttempt(this.db, h.token.picas.attempt));
    if (orphans.length === 0) return false;
    try {
      const r = await releaseAttempts(this.db, orphans.map((h) => ({ id: h.token._id, attempt: h.token.picas.attempt })), { retry: o.retry });
      o.log(`put back ${r.released.length} token(s) claimed under this pilot's name whose claim answer was lost`);
      return r.released.length > 0;
    } catch (err) {
      o.log(`could not put back tokens whose claim answer was lost: ${(err as Error).message}`);
      return false;
    }
  }
}

/** "f1 (pilot_x on host, until 12:00:05 UTC), ..." — at most five named. */
function describe(held: HeldToken[], margin: number): string {
  const named = held.slice(0, 5).map((h) => `${h.token._id} (${h.token.picas.pilot}, free after ${clock(Math.ceil(h.expiresAt + margin))})`);
  return `${held.length} token(s): ${named.join(', ')}${held.length > 5 ? `, and ${held.length - 5} more` : ''}`;
}
