/**
 * One live PouchDB feed per database, shared by the open `_changes` feeds that need no document: unfiltered
 * ones and `_doc_ids` ones (every pilot keeps one open on its own heartbeat document). A PouchDB live feed
 * runs a changes query of its own at every write, so with one per open feed the server's work per write grew
 * with the number of feeds: 1,000 token writes took 0.6 s with no feed open, 4.7 s with 8 and 22 s with 32,
 * and 32 no-op pilots claimed 58 tokens/s where one claimed 521 (bench/RESULTS.md, run 7). Shared, a write
 * costs one query however many feeds are open; each feed picks its own documents out of it.
 */
type Change = { id: string; seq: unknown };
type Listener = { change: (c: Change) => void; error: (err: unknown) => void };

class Hub {
  private readonly listeners = new Set<Listener>();
  private feed: any;

  constructor(private readonly db: any) {}

  add(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.feed) {
      const feed = this.db.changes({ since: 'now', live: true, return_docs: false });
      feed.on('change', (c: Change) => { for (const l of [...this.listeners]) l.change(c); });
      feed.on('error', (err: unknown) => {
        // This feed is gone: its listeners end (their clients read again); the next one starts another.
        if (this.feed === feed) this.feed = undefined;
        for (const l of [...this.listeners]) l.error(err);
      });
      this.feed = feed;
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.feed) { this.feed.cancel(); this.feed = undefined; }
    };
  }
}

const hubs = new WeakMap<object, Hub>();

/** One non-live query. PouchDB also emits 'error' on the returned object: listen, or Node throws it. */
export function changesOnce(db: any, opts: Record<string, unknown>): Promise<{ results: unknown[]; last_seq: unknown }> {
  const feed = db.changes({ ...opts, live: false });
  feed.on('error', () => { /* the promise rejects with the same error */ });
  return feed.then((r: any) => ({ results: r.results, last_seq: r.last_seq }));
}

/** Whether a feed with these options can be served from the shared feed (it needs no document and no special style). */
export function canShare(opts: Record<string, unknown>, since: unknown): boolean {
  return !opts.include_docs && !opts.conflicts && !opts.attachments && opts.style !== 'all_docs' && !opts.descending
    && opts.filter === undefined && Number.isFinite(Number(since));
}

/**
 * Calls `onChange` for each change after `since` (of the documents in `opts.doc_ids`, or all), in order,
 * until cancelled. Joining the shared feed and reading the changes made since `since` once, what the shared
 * feed brought meanwhile is passed on only past the last sequence already given: nothing twice, nothing lost.
 */
export function sharedLive(db: any, opts: Record<string, unknown>, since: unknown, onChange: (c: any) => void, onError: (e: unknown) => void): () => void {
  const ids = Array.isArray(opts.doc_ids) ? new Set(opts.doc_ids as string[]) : undefined;
  let hub = hubs.get(db);
  if (!hub) { hub = new Hub(db); hubs.set(db, hub); }
  let last = Number(since);
  let waiting: Change[] | undefined = [];
  let cancelled = false;
  const deliver = (c: Change) => {
    if (cancelled || Number(c.seq) <= last || (ids && !ids.has(c.id))) return;
    last = Number(c.seq);
    onChange(c);
  };
  const remove = hub.add({
    change: (c) => { if (waiting) waiting.push(c); else deliver(c); },
    error: (err) => { if (!cancelled) onError(err); },
  });
  const { limit: _limit, ...rest } = opts;
  void _limit;
  changesOnce(db, { ...rest, since, return_docs: true }).then((r) => {
    for (const c of r.results as Change[]) deliver(c);
    const meanwhile = waiting ?? [];
    waiting = undefined;
    for (const c of meanwhile) deliver(c);
  }, (err: unknown) => { if (!cancelled) onError(err); });
  return () => { cancelled = true; remove(); };
}
