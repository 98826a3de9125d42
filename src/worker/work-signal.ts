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
   * Longest single long poll (ms), the server's `timeout`. Kept under a minute so proxies between pilot and
   * server that cut idle connections rarely do (no `heartbeat`: CouchDB then ignores `timeout` and holds
   * a long poll open until a change). Shorter waits poll for just that long.
   */
  longestPollMs?: number;
  /** Pause after a long poll cut short by the network before the next (ms). */
  retryMs?: number;
  log?: (line: string) => void;
}

const DEFAULT_SELECTOR = { lock: 0 };
type ChangeRow = { id?: string; changes?: { rev?: string }[] };

/**
 * Wakes a waiting pilot (`--wait`) as soon as a token may have become free, instead of polling the views:
 * a long poll on the database's `_changes` feed, filtered on the server by a selector. An idle pilot so
 * sends one request per long poll (up to `longestPollMs`) and still starts pushed work within a round
 * trip. The feed is a hint only: the pilot claims through its views as always, and still looks at them
 * at least every --poll-interval (leases that run out write nothing, so no change announces them).
 *
 * The first wait of an idle stretch only records where the feed stands (`since=now`) and asks the pilot to
 * look at the views once more: a token pushed between the pilot's last claim and that moment would not be
 * in the feed after it. From then on nothing is missed: each wait starts where the last one ended.
 * A server that refuses the feed (an HTTP error: no `_selector` filter, no `_changes`) makes every later wait
 * a plain sleep, said once; a long poll cut by the network is tried again after a pause.
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
        this.since = (await this.poll('normal', 'now', 0, signal)).last_seq;
        return 'change';
      }
      const deadline = Date.now() + ms;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) return 'timeout';
        const timeout = Math.min(left, this.options.longestPollMs ?? 55_000);
        // CouchDB restarts a long poll's timeout at every change, filtered out or not: on a busy database
        // it would hold on past the fallback. The pilot ends it itself a little after the timeout.
        const own = AbortSignal.timeout(timeout + 2_000);
        try {
          const answer = await this.poll('longpoll', this.since, timeout, AbortSignal.any([signal, own]));
          this.since = answer.last_seq;
          if (answer.results.length > 0) { this.lastChanges = answer.results as ChangeRow[]; return 'change'; }
        } catch (err) {
          if (signal.aborted) return 'stopped';
          if (own.aborted) continue;
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

  private poll(feed: 'normal' | 'longpoll', since: unknown, timeoutMs: number, signal: AbortSignal) {
    const docIds = this.options.docIds;
    const query: Record<string, unknown> = { feed, since, limit: 1, filter: docIds ? '_doc_ids' : '_selector' };
    if (feed === 'longpoll') query.timeout = Math.max(1, Math.round(timeoutMs));
    return this.db.request<{ last_seq: unknown; results: unknown[] }>('POST', '/_changes', {
      query, body: docIds ? { doc_ids: docIds } : { selector: this.options.selector ?? DEFAULT_SELECTOR }, signal,
      timeoutMs: feed === 'longpoll' ? timeoutMs + this.db.server.timeoutMs : undefined,
    }).then((r) => {
      const body = r.body;
      if (!body || !Array.isArray(body.results)) throw new Error('no results in its answer');
      return body;
    });
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<WorkWake> {
    await sleep(ms, signal);
    return signal.aborted ? 'stopped' : 'timeout';
  }
}
