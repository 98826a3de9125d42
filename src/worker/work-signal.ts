import type { Database } from '../couch/database.js';
import { sleep } from '../couch/backoff.js';
import { CouchError } from '../couch/errors.js';

/** What ended a wait for work. */
export type WorkWake = 'change' | 'timeout' | 'stopped';

export interface WorkSignalOptions {
  /**
   * Which changed documents may be new work: a Mango selector for the feed's `_selector` filter. The
   * default, `{"lock": 0}`, is what every claimable token has (pushed, reset, given back), whatever view
   * picks it; heartbeats, results and claims of running tokens do not match, so a busy farm's writes do
   * not wake the idle pilots.
   */
  selector?: Record<string, unknown>;
  /** Watch these documents instead (`_doc_ids` filter; the selector is then unused): e.g. a pilot's own heartbeat. */
  docIds?: string[];
  /**
   * Newline interval the server is asked for on the open feed (`heartbeat`, ms). The feed stays open for
   * the whole wait, one request, and the newlines keep proxies that cut idle connections from cutting it
   * (and show the pilot the server is still there).
   */
  heartbeatMs?: number;
  /** Pause after a feed cut short by the network before the pilot looks at the views (ms). */
  retryMs?: number;
  log?: (line: string) => void;
}

const DEFAULT_SELECTOR = { lock: 0 };
type ChangeRow = { id?: string; changes?: { rev?: string }[] };

/**
 * Wakes a waiting pilot (`--wait`) as soon as a token may have become free, instead of polling the views:
 * the database's `_changes` feed, filtered on the server by a selector, held open (`feed=continuous`,
 * `limit=1`) until the first change that passes the filter or the end of the wait. An idle pilot so sends
 * one request per wait (its `--poll-interval`) and still starts pushed work within a round trip. Long
 * polls were not enough on CouchDB: it restarts a long poll's timeout at every change the filter drops, so
 * each had to be ended and sent again by the pilot, several times per wait on a busy database. The feed is
 * a hint only: the pilot claims through its views as always, and still looks at them at least every
 * --poll-interval (leases that run out write nothing, so no change announces them).
 *
 * The first wait of an idle stretch only records where the feed stands (`since=now`) and asks the pilot to
 * look at the views once more: a token pushed between the pilot's last claim and that moment would not be
 * in the feed after it. From then on nothing is missed: each wait starts where the last one ended.
 * A server that refuses the feed (an HTTP error: no `_selector` filter, no `_changes`) makes every later wait
 * a plain sleep, said once; a feed cut by the network makes the pilot look at the views after a pause.
 */
export class WorkSignal {
  private since: unknown;
  private broken = false;
  /** The changes the last wait woke on (one row per document: id and its new revisions). */
  lastChanges: ChangeRow[] = [];

  constructor(private readonly db: Database, private readonly options: WorkSignalOptions = {}) {}

  /** Forget the feed's position (a token was claimed: the next idle stretch starts afresh). */
  reset(): void {
    this.since = undefined;
  }

  /** Wait up to `ms` for a change that may be new work; 'timeout' when none came (look at the views). */
  async wait(ms: number, signal: AbortSignal): Promise<WorkWake> {
    if (signal.aborted) return 'stopped';
    if (this.broken) return this.sleep(ms, signal);
    try {
      if (this.since === undefined) {
        this.since = (await this.poll('normal', 'now', signal)).last_seq;
        return 'change';
      }
      const deadline = Date.now() + ms;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) return 'timeout';
        // The feed is held open with heartbeats (CouchDB then ignores `timeout`): the pilot ends it itself.
        const own = AbortSignal.timeout(left);
        try {
          const answer = await this.poll('continuous', this.since, AbortSignal.any([signal, own]));
          if (answer.last_seq !== undefined) this.since = answer.last_seq;
          if (answer.results.length > 0) { this.lastChanges = answer.results as ChangeRow[]; return 'change'; }
          // Ended with no change (a server that ends feeds on its own): open it again for the time left.
        } catch (err) {
          if (signal.aborted) return 'stopped';
          if (own.aborted) return 'timeout';
          if (err instanceof CouchError) throw err;
          // Cut by the network or timed out: the views are the judge; look at them after a pause.
          await sleep(Math.min(this.options.retryMs ?? 1_000, Math.max(0, deadline - Date.now())), signal);
          return signal.aborted ? 'stopped' : 'timeout';
        }
      }
    } catch (err) {
      if (signal.aborted) return 'stopped';
      if (!(err instanceof CouchError)) return this.sleep(Math.min(ms, this.options.retryMs ?? 1_000), signal);
      this.broken = true;
      this.options.log?.(`the database's changes feed did not answer as expected (${(err as Error).message}); polling the views instead`);
      return this.sleep(ms, signal);
    }
  }

  private async poll(feed: 'normal' | 'continuous', since: unknown, signal: AbortSignal): Promise<{ last_seq: unknown; results: unknown[] }> {
    const docIds = this.options.docIds;
    const heartbeat = this.options.heartbeatMs ?? 30_000;
    const query: Record<string, unknown> = { feed, since, limit: 1, filter: docIds ? '_doc_ids' : '_selector' };
    if (feed === 'continuous') query.heartbeat = heartbeat;
    const answer = await this.db.request<Buffer>('POST', '/_changes', {
      query, body: docIds ? { doc_ids: docIds } : { selector: this.options.selector ?? DEFAULT_SELECTOR }, signal, binary: true,
      // Between heartbeats, not for the whole feed: the transport's timeout counts from the last data.
      timeoutMs: feed === 'continuous' ? heartbeat + this.db.server.timeoutMs : undefined,
    });
    return feed === 'continuous' ? parseContinuous(answer.body) : parseNormal(answer.body);
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<WorkWake> {
    await sleep(ms, signal);
    return signal.aborted ? 'stopped' : 'timeout';
  }
}

function parseNormal(raw: Buffer): { last_seq: unknown; results: unknown[] } {
  const body = JSON.parse(raw.toString('utf8')) as { last_seq: unknown; results: unknown[] };
  if (!body || !Array.isArray(body.results)) throw new Error('no results in its answer');
  return body;
}

/** A continuous feed's lines: a row per change (`seq`, `id`, `changes`), then `last_seq`; blank lines are heartbeats. */
export function parseContinuous(raw: Buffer): { last_seq: unknown; results: unknown[] } {
  const results: unknown[] = [];
  let lastSeq: unknown;
  for (const line of raw.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { seq?: unknown; id?: unknown; last_seq?: unknown };
    if (row.last_seq !== undefined) lastSeq = row.last_seq;
    else if (row.id !== undefined) { results.push(row); lastSeq = row.seq; }
  }
  return { last_seq: lastSeq, results };
}
