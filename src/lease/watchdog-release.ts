import { CouchServer, type CouchOptions } from '../couch/server.js';
import type { Database } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import { withRetry } from '../couch/retry.js';
import type { ClaimedToken } from '../claim/claim.js';
import type { Token } from '../tokens/token.js';
import { releaseAttempts, type HeldAttempt } from '../worker/release.js';
import { heartbeatId, type HeartbeatDoc } from './heartbeat.js';

/**
 * What a watchdog does once its pilot is dead and the pilot's commands are gone: put every token the pilot
 * held back, with the same conditional write the pilot's own release uses (a token another attempt owns
 * by now is left alone). A token a slot was running counts a lost run (`picas.lost_runs`), and goes to error
 * when it reaches `maxLost`, as a takeover after a lease would count it: a command that kills its own pilot
 * still ends in error after `--max-lost` tries. A token claimed but never started goes back as it was.
 * Then the pilot's heartbeat document is marked stopped, so people and other pilots see it gone at once.
 */

export interface DeadPilotRelease {
  connection: CouchOptions;
  database: string;
  pilotId: string;
  /** Tokens a slot had taken to run when the pilot died. */
  running: ReadonlySet<string>;
  leaseSeconds: number;
  maxLost: number;
  log?: (line: string) => void;
}

/** The tokens `pilotId` holds now, read from picas's leases view (every held token is in it). */
async function tokensHeldBy(db: Database, pilotId: string): Promise<ClaimedToken[]> {
  const mine: ClaimedToken[] = [];
  let startkey: unknown;
  let startkey_docid: string | undefined;
  for (;;) {
    let rows;
    try {
      rows = (await db.view<null, Token>('picas', 'leases', {
        include_docs: true, limit: 501, ...(startkey_docid !== undefined ? { startkey, startkey_docid } : {}),
      })).rows;
    } catch (err) {
      if (err instanceof NotFoundError) return mine; // no picas design document: nothing was claimed with leases
      throw err;
    }
    const page = rows.slice(0, 500);
    for (const row of page) {
      const doc = row.doc as ClaimedToken | undefined;
      if (doc?.picas?.pilot === pilotId) mine.push(doc);
    }
    if (rows.length <= 500) return mine;
    startkey = rows[500]!.key;
    startkey_docid = rows[500]!.id;
  }
}

/** Put back what the dead pilot `pilotId` held; returns how many went back as lost runs, unstarted, or to error. */
export async function releaseDeadPilotTokens(options: DeadPilotRelease): Promise<{ lost: number; released: number; failed: number }> {
  const server = new CouchServer({ ...options.connection, connections: 2 });
  const db = server.db(options.database);
  // Within the lease: past it, other pilots take the tokens over anyway.
  const retry = { patienceMs: options.leaseSeconds * 1000 };
  const counts = { lost: 0, released: 0, failed: 0 };
  try {
    const held = await withRetry(() => tokensHeldBy(db, options.pilotId), retry);
    const attempt = (t: ClaimedToken): HeldAttempt => ({ id: t._id, attempt: t.picas.attempt });
    const wasRunning = held.filter((t) => options.running.has(t._id)).map(attempt);
    const unstarted = held.filter((t) => !options.running.has(t._id)).map(attempt);
    if (wasRunning.length > 0) {
      const r = await releaseAttempts(db, wasRunning, { countLost: true, maxLost: options.maxLost, retry });
      counts.lost += r.released.length;
      counts.failed += r.failed.length;
    }
    if (unstarted.length > 0) counts.released += (await releaseAttempts(db, unstarted, { retry })).released.length;
    await markHeartbeatStopped(db, options.pilotId).catch(() => undefined);
  } finally {
    await server.close();
  }
  return counts;
}

/** The dead pilot's heartbeat: its leases end now and its state says what happened. */
async function markHeartbeatStopped(db: Database, pilotId: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const doc = await db.find<HeartbeatDoc>(heartbeatId(pilotId));
    if (!doc) return;
    try {
      await db.put({ ...doc, alive_until: 0, holding: [], current: [], stopped: true, state: 'stopped', stopped_by: 'watchdog: the pilot process died' });
      return;
    } catch { /* changed meanwhile (a drain request): read again */ }
  }
}
