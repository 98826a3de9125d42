import type { Database } from '../couch/database.js';
import { isFree } from '../tokens/state.js';
import { lockToken, markError } from '../tokens/operations.js';
import { defaultMarginSeconds, expiredTokens } from '../lease/expiry.js';
import { faultPoint } from './fault-points.js';
import type { Token } from '../tokens/token.js';
import { backoffMs, sleep } from '../couch/backoff.js';
import { newAttemptId, type PilotIdentity } from '../lease/pilot-identity.js';
import { CandidateReader, headWindow } from './candidates.js';
import { DEFAULT_VIEW, type ViewRef } from './view-ref.js';
import type { AttemptRecord } from '../tokens/picas-record.js';
import { confirmClaims, writeDocs, type ConfirmOptions, type ConfirmStats } from './confirm.js';
import { withAttempt } from '../status/attempt-history.js';

export { DEFAULT_VIEW, type ViewRef };

export type { AttemptRecord };

export type ClaimedToken = Token & { _rev: string; picas: AttemptRecord & Record<string, unknown> };

export interface ClaimOptions {
  /** Views in priority order: the first with free tokens is used. */
  views?: ViewRef[];
  /**
   * How many candidate rows to read; a random pick among them spreads concurrent pilots. Default: twice
   * the batch (at least 10) read from a random key, or ten batches (at least 100) read from the head of
   * a view whose keys are not strings or that is read by `key` (see candidates.ts).
   */
  window?: number;
  /** Where candidates are read; one per pilot keeps what it learnt of the views (default: a new one). */
  candidates?: CandidateReader;
  /** How many tokens to claim in one write. */
  batchSize?: number;
  pilot: PilotIdentity;
  leaseSeconds?: number;
  /** Conflict rounds before giving up for this call (the caller may call again); never ends a pilot. */
  maxRounds?: number;
  signal?: AbortSignal;
  /** Called on each round lost to other pilots (for statistics). */
  onConflict?: (lost: number) => void;
  /** Take over tokens whose lease expired (their pilot died) when no free token is left (default true). */
  recoverExpired?: boolean;
  /** Seconds a takeover waits beyond a lease's end (default: a tenth of the lease, 2 to 30 s). */
  marginSeconds?: number;
  /** A token lost this many times (its pilots died holding it) goes to error instead (default 3). */
  maxLost?: number;
  log?: (line: string) => void;
  /** Clusters and replicating servers: read a claim back until it is known to stand before running it (confirm.ts). */
  confirm?: ConfirmOptions;
}

export interface ClaimStats {
  rounds: number;
  /** Rounds that claimed nothing: every picked token was won by another pilot first. */
  conflicts: number;
  /** Claim writes refused because another pilot won that token first (wasted attempts, one per token). */
  conflictedDocs?: number;
  /** Picked tokens found no longer free when read (another pilot got there between view and read). */
  stalePicks?: number;
  takeovers?: number;
  /** Claim confirmation on clusters and replicating servers (confirm.ts). */
  confirm?: ConfirmStats;
}

/** A candidate: a free token, or one whose lease expired (a takeover). */
interface Candidate {
  token: Token;
  takeover: boolean;
}

/** Fisher-Yates on a copy. */
function shuffled<T>(items: T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * Claim up to `batchSize` free tokens. Read a window of candidate ids from the view, pick at random, read
 * the picked documents, check each is still free (`lock == 0 && done == 0`: another pilot may have won it
 * since), and write them back locked, each conditional on the `_rev` just read, in one `_bulk_docs`. A
 * conflict means another pilot won that token: it is dropped, and when a whole round is lost the claim
 * backs off a random while and reads again. Returns [] only when the views hold no free token.
 */
export async function claimTokens(db: Database, options: ClaimOptions, stats?: ClaimStats): Promise<ClaimedToken[]> {
  const views = options.views?.length ? options.views : [DEFAULT_VIEW];
  const wanted = Math.max(1, options.batchSize ?? 1);
  const reader = options.candidates ?? new CandidateReader(db);
  const maxRounds = options.maxRounds ?? 1_000;
  for (let round = 0; round < maxRounds && !options.signal?.aborted; round++) {
    if (stats) stats.rounds++;
    const batchSize = reader.sizer.size(wanted);
    let picked: Candidate[];
    const ids = await reader.read(views, batchSize, options.window);
    if (ids.length > 0) {
      // Pick at random among the window, then read the picked ones fresh: a token claimed by another
      // pilot since the view was read is dropped here, and the write below is conditional on this read.
      const pick = shuffled(ids).slice(0, batchSize);
      picked = (await fetchFree(db, pick)).map((token) => ({ token, takeover: false }));
      if (stats) stats.stalePicks = (stats.stalePicks ?? 0) + pick.length - picked.length;
    } else if (options.recoverExpired !== false) {
      const margin = options.marginSeconds ?? defaultMarginSeconds(options.leaseSeconds ?? 300);
      const now = Math.floor((await db.server.syncClock()) / 1000);
      const expired = (await expiredTokens(db, now, margin, options.window ?? headWindow(batchSize))).map((h) => ({ token: h.token as Token, takeover: true }));
      if (expired.length === 0) return [];
      picked = shuffled(expired).slice(0, batchSize);
    } else {
      return [];
    }
    const claimed = picked.length ? await writeClaims(db, picked, options, reader, stats) : [];
    if (claimed.length > 0) { faultPoint('after-claim'); return claimed; }
    if (claimed === claimTokensAgain) continue;
    if (stats) stats.conflicts++;
    options.onConflict?.(picked.length);
    await sleep(backoffMs(round, 10, 500), options.signal);
  }
  return [];
}

/** The picked tokens as they are now (one request), keeping only those still free. */
async function fetchFree(db: Database, ids: string[]): Promise<Token[]> {
  const result = await db.allDocs<Token>({ keys: ids, include_docs: true });
  return result.rows.map((row) => row.doc).filter((doc): doc is Token => !!doc && isFree(doc));
}

async function writeClaims(db: Database, picked: Candidate[], options: ClaimOptions, reader: CandidateReader, stats?: ClaimStats): Promise<ClaimedToken[]> {
  const now = Math.floor(db.server.serverNow() / 1000);
  const lease = options.leaseSeconds ?? 300;
  const maxLost = options.maxLost ?? 3;
  const { pilot } = options;
  const docs = picked.map(({ token: found, takeover }) => {
    // The attempt whose lease ended is recorded as lost in the token's history, in this same write.
    const token = takeover ? withAttempt(found, 'lost', now) : found;
    const previous = { ...((token as { picas?: Record<string, unknown> }).picas ?? {}) };
    if (takeover) {
      const lost = (Number(previous.lost_runs) || 0) + 1;
      options.log?.(`${token._id}: lease of ${String(previous.pilot)} expired; taking it over (lost run ${lost})`);
      if (lost >= maxLost) {
        const { attempt, pilot: p, host, job, claimed_at, lease_until, ...history } = previous;
        void attempt; void p; void host; void job; void claimed_at; void lease_until;
        return { doc: markError({ ...token, picas: { ...history, lost_runs: lost } } as Token, `lost ${lost} times: the pilots running it died or lost contact before finishing (lease expired); limit ${maxLost}`), giveUp: true };
      }
      previous.lost_runs = lost;
    }
    const locked = lockToken(token, { now, hostname: pilot.hostname, env: pilot.env });
    const record: AttemptRecord & Record<string, unknown> = {
      ...previous,
      attempt: newAttemptId(),
      pilot: pilot.pilotId,
      host: pilot.hostname,
      claimed_at: now,
      lease_until: now + lease,
    };
    if (pilot.jobId) record.job = pilot.jobId.value;
    else delete record.job;
    return { doc: { ...locked, picas: record } as ClaimedToken, giveUp: false };
  });
  faultPoint('during-batch-write');
  const { results, accepted } = await writeDocs(db, docs.map((d) => d.doc));
  const claimed: ClaimedToken[] = [];
  // Another pilot is claiming beside this one: claim fewer at once (claim-size.ts).
  reader.sizer.after(results.length, results.filter((r) => r.error === 'conflict').length);
  results.forEach((r, i) => {
    if (r.error === 'conflict' && stats) stats.conflictedDocs = (stats.conflictedDocs ?? 0) + 1;
    if (!r.ok || !r.rev || docs[i]!.giveUp) return;
    if (picked[i]!.takeover && stats) stats.takeovers = (stats.takeovers ?? 0) + 1;
    claimed.push({ ...(docs[i]!.doc as ClaimedToken), _rev: r.rev });
  });
  // Tokens given up as lost count as progress: the caller reads again instead of backing off.
  if (claimed.length === 0 && results.some((r, i) => r.ok && docs[i]!.giveUp)) return claimTokensAgain;
  return confirmClaims(db, claimed, accepted, { log: options.log, signal: options.signal, ...options.confirm }, stats ? (stats.confirm ??= { accepted: 0, confirmed: 0, lost: 0, deleted: 0 }) : undefined);
}

/** Marker: this round made progress without claiming (lost tokens moved to error); read again at once. */
const claimTokensAgain: ClaimedToken[] = [];

/** Claim exactly one token, or undefined when none is free. */
export async function claimToken(db: Database, options: Omit<ClaimOptions, 'batchSize'>): Promise<ClaimedToken | undefined> {
  const [token] = await claimTokens(db, { ...options, batchSize: 1 });
  return token;
}
