import type { Database, Doc } from '../couch/database.js';
import { ConflictError, NotFoundError } from '../couch/errors.js';
import { sleep } from '../couch/backoff.js';
import { heartbeatId, type HeartbeatDoc } from '../lease/heartbeat.js';
import { tokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';
import { readLogs } from './token-logs.js';

/**
 * Following a running token's output, through the database only (pilots and followers need not reach
 * each other):
 *
 * - the follower asks by writing `follow: {<token id>: <until>}` into the heartbeat document of the pilot
 *   that runs the token (server epoch seconds), and renews it while it follows;
 * - the pilot notices within a round trip: it keeps one `_changes` feed open on its own heartbeat
 *   document (worker/lease-keeper.ts; a request per lease renewal while nobody follows), and failing that at
 *   its next lease renewal (its write conflicts with the follower's and it reads the document again, as it
 *   does for a drain); from then on, until `until`, it publishes a bounded tail of
 *   the command's output in a document `picas-log:<token id>` at most every few seconds;
 * - when nobody follows, nothing is written or read: following costs the server something, not following
 *   costs nothing. When the token ends, the follower prints the rest from its attached logs.
 */
export const LOG_DOC_PREFIX = 'picas-log:';
export const logDocId = (tokenId: string): string => `${LOG_DOC_PREFIX}${tokenId}`;
/** Bytes of each stream a pilot keeps for a live log document. */
export const LIVE_TAIL_BYTES = 64 * 1024;
/** How long one follow request holds unless renewed (seconds): longer than a default renewal interval (100 s), so the pilot sees it before it lapses. */
export const FOLLOW_HOLD_S = 330;

export interface LiveLogDoc extends Doc {
  type: 'picas-log';
  token: string;
  attempt?: string;
  /** The last LIVE_TAIL_BYTES of each stream, and how many bytes the stream has had in all. */
  stdout: string;
  stderr: string;
  stdout_bytes: number;
  stderr_bytes: number;
  updated_at: number;
}

/** Ask (or renew the ask) that `pilotId` publish `tokenId`'s output until `until` (server epoch seconds). */
export async function requestFollow(db: Database, pilotId: string, tokenId: string, until: number): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    const hb = await db.find<HeartbeatDoc & { follow?: Record<string, number> }>(heartbeatId(pilotId));
    if (!hb || hb.stopped) return false;
    const now = Math.floor(db.server.serverNow() / 1000);
    // Keep other followers' requests that still hold; drop ended ones, so the field stays small.
    const follow = Object.fromEntries(Object.entries(hb.follow ?? {}).filter(([, t]) => t > now));
    follow[tokenId] = until;
    try {
      await db.put({ ...hb, follow });
      return true;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return false;
}

export interface FollowOptions {
  intervalMs?: number;
  signal?: AbortSignal;
  which?: { stdout: boolean; stderr: boolean };
  write: (stream: 'stdout' | 'stderr', text: string) => void;
  note?: (line: string) => void;
  /** Give up after this long (ms; default: until the token ends or the signal aborts). */
  maxMs?: number;
}

/**
 * Print a token's output as it is produced, until the token is no longer running; then print what its
 * attached logs hold beyond what was printed. A finished token's logs are printed at once.
 */
export async function followLogs(db: Database, first: Token, options: FollowOptions): Promise<void> {
  const which = options.which ?? { stdout: true, stderr: true };
  const printed = { stdout: 0, stderr: 0 };
  const emit = (stream: 'stdout' | 'stderr', text: string, total: number) => {
    if (!which[stream]) { printed[stream] = total; return; }
    // `text` holds the stream's last bytes up to `total`: print the part not printed yet.
    const buf = Buffer.from(text, 'utf8');
    const startOfText = total - buf.length;
    if (printed[stream] < startOfText) {
      options.note?.(`[${startOfText - printed[stream]} bytes of ${stream} not shown: they scrolled past before they could be read]`);
      printed[stream] = startOfText;
    }
    if (total > printed[stream]) options.write(stream, buf.subarray(printed[stream] - startOfText).toString('utf8'));
    printed[stream] = Math.max(printed[stream], total);
  };
  let token = first;
  let asked = 0;
  let announced = false;
  const started = Date.now();
  for (;;) {
    if (options.signal?.aborted) return;
    const state = tokenState(token);
    const picas = (token as { picas?: { pilot?: string; attempt?: string } }).picas;
    if (state !== 'locked' || !picas?.pilot) {
      if (state === 'todo' && !announced) {
        options.note?.(`token ${token._id} waits to be claimed; following it from when a pilot runs it`);
        announced = true;
      } else if (state !== 'todo') {
        const logs = await readLogs(db, token);
        if (logs.stdout !== undefined) emit('stdout', logs.stdout, Math.max(printed.stdout, Buffer.byteLength(logs.stdout)));
        if (logs.stderr !== undefined) emit('stderr', logs.stderr, Math.max(printed.stderr, Buffer.byteLength(logs.stderr)));
        options.note?.(`token ${token._id} is ${state ?? 'not a token'}${state === 'done' || state === 'error' ? ` (exit code ${JSON.stringify(token.exit_code)})` : ''}`);
        return;
      }
    } else {
      const now = Math.floor(db.server.serverNow() / 1000);
      if (now - asked > FOLLOW_HOLD_S / 3) {
        const ok = await requestFollow(db, picas.pilot, token._id, now + FOLLOW_HOLD_S);
        if (!asked) {
          options.note?.(ok
            ? `following ${token._id} on pilot ${picas.pilot}: its output appears once the pilot notices the request (within seconds)`
            : `pilot ${picas.pilot} of ${token._id} has no heartbeat: its output appears when the token ends`);
        }
        asked = now;
      }
      const live = await db.find<LiveLogDoc>(logDocId(token._id));
      if (live && (!live.attempt || live.attempt === picas.attempt)) {
        emit('stdout', live.stdout, live.stdout_bytes);
        emit('stderr', live.stderr, live.stderr_bytes);
      }
    }
    if (options.maxMs !== undefined && Date.now() - started > options.maxMs) return;
    await sleep(options.intervalMs ?? 2_000, options.signal);
    try {
      token = await db.get<Token>(token._id);
    } catch (err) {
      if (err instanceof NotFoundError) { options.note?.(`token ${first._id} was deleted`); return; }
      throw err;
    }
  }
}

/** The follow requests in a heartbeat document that still hold (token id -> until). */
export function followRequests(doc: Record<string, unknown> | undefined, nowServer: number): Map<string, number> {
  const raw = doc?.follow;
  const out = new Map<string, number>();
  if (raw && typeof raw === 'object') {
    for (const [id, until] of Object.entries(raw as Record<string, unknown>)) if (typeof until === 'number' && until > nowServer) out.set(id, until);
  }
  return out;
}

/** A bounded tail of one stream, with the count of every byte seen. */
class LiveTail {
  private chunks: Buffer[] = [];
  private size = 0;
  total = 0;
  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= LIVE_TAIL_BYTES) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    // Cut at a character boundary: a UTF-8 continuation byte never starts the text.
    let start = Math.max(0, all.length - LIVE_TAIL_BYTES);
    while (start < all.length && (all[start]! & 0xc0) === 0x80) start++;
    return all.subarray(start).toString('utf8');
  }
}

/**
 * The pilot's side: keeps a bounded tail of each running command's output (cheap, in memory), and
 * publishes it to `picas-log:<token id>` at most every `intervalMs` while a follow request for that token
 * holds. Tokens nobody follows are never written.
 */
export class LogPublisher {
  private tails = new Map<string, { attempt?: string; out: LiveTail; err: LiveTail; dirty: boolean; rev?: string; lastWrite: number; writing?: Promise<unknown> }>();
  private requests = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Database, private readonly options: { intervalMs?: number; log?: (line: string) => void } = {}) {}

  /** A command of this token started. */
  started(tokenId: string, attempt?: string): void {
    this.tails.set(tokenId, { attempt, out: new LiveTail(), err: new LiveTail(), dirty: false, lastWrite: 0 });
  }

  output(tokenId: string, stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const t = this.tails.get(tokenId);
    if (!t) return;
    (stream === 'stdout' ? t.out : t.err).push(chunk);
    t.dirty = true;
  }

  /** The token's command ended: its live document (if any) is removed; the attached logs take over. */
  async ended(tokenId: string): Promise<void> {
    const t = this.tails.get(tokenId);
    this.tails.delete(tokenId);
    // A publish in flight would write the document again after a removal by the revision before it (or
    // make the removal conflict): let it land, then remove by the revision it made.
    await t?.writing?.catch(() => undefined);
    if (!t?.rev) return;
    await this.db.remove(logDocId(tokenId), t.rev).catch(async (err) => {
      if (!(err instanceof ConflictError)) return;
      const rev = await this.db.rev(logDocId(tokenId)).catch(() => undefined);
      if (rev) await this.db.remove(logDocId(tokenId), rev).catch(() => undefined);
    });
  }

  /** The follow requests found in this pilot's heartbeat document (at a renewal). */
  setRequests(requests: Map<string, number>): void {
    this.requests = requests;
    if (requests.size > 0 && !this.timer) {
      this.timer = setInterval(() => { void this.publish(); }, this.options.intervalMs ?? 3_000);
      this.timer.unref();
      void this.publish();
    }
  }

  async publish(): Promise<void> {
    const now = Math.floor(this.db.server.serverNow() / 1000);
    for (const [id, until] of this.requests) if (until <= now) this.requests.delete(id);
    if (this.requests.size === 0 && this.timer) { clearInterval(this.timer); this.timer = undefined; return; }
    for (const id of this.requests.keys()) {
      const t = this.tails.get(id);
      if (!t || (!t.dirty && t.rev)) continue;
      t.dirty = false;
      const doc: LiveLogDoc = {
        _id: logDocId(id), type: 'picas-log', token: id, ...(t.attempt ? { attempt: t.attempt } : {}),
        stdout: t.out.text(), stderr: t.err.text(), stdout_bytes: t.out.total, stderr_bytes: t.err.total, updated_at: now,
        ...(t.rev ? { _rev: t.rev } : {}),
      };
      try {
        const write = this.db.put(doc);
        t.writing = write;
        t.rev = (await write).rev;
      } catch (err) {
        if (err instanceof ConflictError) {
          // A document left by an earlier attempt: take its revision and write ours over it next time.
          t.rev = await this.db.rev(logDocId(id)).catch(() => undefined);
          t.dirty = true;
        } else {
          this.options.log?.(`could not publish the output of ${id}: ${(err as Error).message}`);
        }
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
