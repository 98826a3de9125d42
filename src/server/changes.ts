import type { Request, Response } from 'express';
import { sendError, sendJson, sendPouchError } from './reply.js';
import { canShare, changesOnce, sharedLive } from './changes-hub.js';

/**
 * `GET|POST /<db>/_changes`, our own instead of express-pouchdb's, which (1) lets PouchDB's change emitter
 * throw an unhandled 'error' (a missing filter design document, `filter=_selector` without a selector)
 * and so kills the process, (2) ignores `timeout` on longpoll, (3) sends continuous feeds through gzip,
 * which holds changes back. Here: filters are checked first and answered as CouchDB does, every feed
 * honours `timeout` and `heartbeat`, and nothing is compressed.
 */
const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_TIMEOUT_MS = 3_600_000;

class ChangesRequestError extends Error {
  constructor(readonly status: number, readonly error: string, reason: string) { super(reason); }
}

export async function handleChanges(req: Request, res: Response, db: any): Promise<void> {
  let opts: Record<string, unknown>;
  try {
    opts = await changesOptions(req, db);
  } catch (err) {
    if (err instanceof ChangesRequestError) return sendError(res, err.status, err.error, err.message);
    throw err;
  }
  const feed = String(req.query.feed ?? 'normal');
  const timeoutMs = clampMs(req.query.timeout, DEFAULT_TIMEOUT_MS);
  const heartbeatMs = req.query.heartbeat === 'true' ? DEFAULT_TIMEOUT_MS : req.query.heartbeat !== undefined ? clampMs(req.query.heartbeat, 0) : 0;
  if (feed === 'normal') {
    const result = await runOnce(db, opts);
    return sendJson(res, 200, result);
  }
  if (feed === 'longpoll') return longpoll(req, res, db, opts, timeoutMs, heartbeatMs);
  if (feed === 'continuous' || feed === 'live') return continuous(req, res, db, opts, req.query.timeout !== undefined || !heartbeatMs ? timeoutMs : 0, heartbeatMs);
  return sendError(res, 400, 'bad_request', 'Supported `feed` types: normal, continuous, live, longpoll, eventsource');
}

function clampMs(v: unknown, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ChangesRequestError(400, 'bad_request', `Invalid number ${JSON.stringify(v)}.`);
  return Math.min(n, MAX_TIMEOUT_MS);
}

function jsonParam(req: Request, name: string): unknown {
  const v = req.query[name];
  if (typeof v !== 'string') return undefined;
  try { return JSON.parse(v); } catch { throw new ChangesRequestError(400, 'bad_request', `Invalid JSON in parameter ${name}.`); }
}

function bool(v: unknown): boolean {
  return v === 'true' || v === true;
}

async function changesOptions(req: Request, db: any): Promise<Record<string, unknown>> {
  const q = req.query;
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const opts: Record<string, unknown> = {
    include_docs: bool(q.include_docs),
    conflicts: bool(q.conflicts),
    attachments: bool(q.attachments),
    binary: false,
    descending: bool(q.descending),
    style: q.style === 'all_docs' ? 'all_docs' : 'main_only',
    return_docs: true,
  };
  if (q.since !== undefined) opts.since = q.since === 'now' ? 'now' : (jsonParamOr(q.since as string));
  if (q.limit !== undefined) {
    const limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new ChangesRequestError(400, 'bad_request', 'limit must be a non-negative integer.');
    opts.limit = Math.max(limit, 1);
  }
  const filter = typeof q.filter === 'string' ? q.filter : undefined;
  if (!filter) return opts;
  if (filter === '_doc_ids') {
    const ids = body.doc_ids ?? jsonParam(req, 'doc_ids');
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) throw new ChangesRequestError(400, 'bad_request', '_doc_ids filter needs "doc_ids", a list of document ids.');
    opts.doc_ids = ids;
    return opts;
  }
  if (filter === '_selector') {
    const selector = body.selector ?? jsonParam(req, 'selector');
    if (!selector || typeof selector !== 'object' || Array.isArray(selector)) throw new ChangesRequestError(400, 'bad_request', 'Selector must be specified in POST payload.');
    opts.filter = '_selector';
    opts.selector = selector;
    return opts;
  }
  if (filter === '_view') {
    const view = typeof q.view === 'string' ? q.view : '';
    const [ddoc, name] = view.split('/');
    if (!ddoc || !name) throw new ChangesRequestError(400, 'bad_request', '_view filter needs view=<designname>/<viewname>.');
    const doc = await designDoc(db, ddoc);
    if (!doc.views?.[name]?.map) throw new ChangesRequestError(404, 'not_found', `missing json key: ${name}`);
    opts.filter = '_view';
    opts.view = view;
    return opts;
  }
  if (filter === '_design') {
    opts.filter = (doc: { _id?: string }) => typeof doc._id === 'string' && doc._id.startsWith('_design/');
    return opts;
  }
  if (filter.startsWith('_')) throw new ChangesRequestError(400, 'bad_request', `Unknown builtin filter ${filter}.`);
  const [ddoc, name, ...more] = filter.split('/');
  if (!ddoc || !name || more.length) throw new ChangesRequestError(400, 'bad_request', 'filter parameter must be of the form `designname/filtername`.');
  const doc = await designDoc(db, ddoc);
  if (typeof doc.filters?.[name] !== 'string') throw new ChangesRequestError(404, 'not_found', `missing json key: ${name}`);
  opts.filter = filter;
  // CouchDB hands the request's query to filter functions as req.query.
  opts.query_params = { ...q };
  return opts;
}

function jsonParamOr(v: string): unknown {
  try { return JSON.parse(v); } catch { return v; }
}

async function designDoc(db: any, name: string): Promise<any> {
  try {
    return await db.get(`_design/${name}`);
  } catch (err) {
    if ((err as { status?: number }).status === 404) throw new ChangesRequestError(404, 'not_found', 'missing');
    throw err;
  }
}

/**
 * One non-live query with CouchDB's `pending`: the changes after `last_seq`. Only a `limit` can leave some
 * out; then it is the number of writes after `last_seq` (from the database's update sequence, at no cost),
 * which counts a document written twice since then twice where CouchDB counts it once. Counting exactly
 * would read the rest of the feed on every call, and idle pilots poll with `limit=1`.
 */
async function runOnce(db: any, opts: Record<string, unknown>): Promise<{ results: unknown[]; last_seq: unknown; pending: number }> {
  const first = await changesOnce(db, opts);
  let pending = 0;
  if (typeof opts.limit === 'number' && first.results.length >= opts.limit && !opts.descending) {
    const updateSeq = Number((await db.info()).update_seq);
    const last = Number(first.last_seq);
    if (Number.isFinite(updateSeq) && Number.isFinite(last)) pending = Math.max(0, updateSeq - last);
  }
  return { ...first, pending };
}

/** A live PouchDB feed from `since`, calling `onChange` per change; returns a cancel function. */
function live(db: any, opts: Record<string, unknown>, since: unknown, onChange: (c: any) => void, onError: (e: unknown) => void): () => void {
  if (canShare(opts, since)) return sharedLive(db, opts, since, onChange, onError);
  const { limit: _limit, ...rest } = opts;
  const feed = db.changes({ ...rest, since, live: true, return_docs: false });
  feed.on('change', onChange);
  feed.on('error', onError);
  return () => feed.cancel();
}

/**
 * A feed's open answer and what it holds: a time limit, heartbeat newlines, the live PouchDB feed and a
 * listener on the client's socket. `end` lets go of all of them once and writes the answer's last line
 * (nothing when the client has gone).
 */
class OpenAnswer {
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly beat: NodeJS.Timeout | undefined;
  cancelFeed: () => void = () => {};

  constructor(private readonly req: Request, private readonly res: Response, heartbeatMs: number) {
    this.beat = heartbeatMs > 0 ? setInterval(() => { if (!this.done) res.write('\n'); }, heartbeatMs) : undefined;
    req.socket.once('close', this.onClose);
  }

  get ended(): boolean { return this.done; }

  /** (Re)start the time limit: the answer ends with `lastLine()` when it passes. */
  limit(timeoutMs: number, lastLine: () => unknown): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.end(lastLine()), timeoutMs);
  }

  /** Let go of everything; write `body` as the last line unless the client has gone. */
  end(body?: unknown): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    clearInterval(this.beat);
    this.cancelFeed();
    this.req.socket.removeListener('close', this.onClose);
    if (body !== undefined && !this.res.writableEnded && !this.res.destroyed) this.res.end(`${JSON.stringify(body)}\n`);
  }

  private readonly onClose = () => this.end();
}

async function longpoll(req: Request, res: Response, db: any, opts: Record<string, unknown>, timeoutMs: number, heartbeatMs: number): Promise<void> {
  const first = await runOnce(db, opts);
  if (first.results.length > 0) return sendJson(res, 200, first);
  res.status(200).type('application/json');
  const answer = new OpenAnswer(req, res, heartbeatMs);
  const nothing = () => ({ results: [], last_seq: first.last_seq, pending: 0 });
  answer.limit(timeoutMs, nothing);
  answer.cancelFeed = live(db, opts, first.last_seq, (c) => answer.end({ results: [c], last_seq: c.seq, pending: 0 }), (err) => {
    if (answer.ended) return;
    if (!res.headersSent) { answer.end(); sendPouchError(res, err); return; }
    answer.end(nothing());
  });
}

async function continuous(req: Request, res: Response, db: any, opts: Record<string, unknown>, timeoutMs: number, heartbeatMs: number): Promise<void> {
  // The changes before `since` are sent first, then live ones; nothing is buffered or compressed.
  const first = await runOnce(db, opts);
  res.status(200).type('application/json');
  res.setHeader('Cache-Control', 'must-revalidate');
  req.socket.setNoDelay(true);
  res.flushHeaders();
  for (const c of first.results) res.write(`${JSON.stringify(c)}\n`);
  let lastSeq = first.last_seq;
  const limit = typeof opts.limit === 'number' ? opts.limit : Infinity;
  let sent = first.results.length;
  const answer = new OpenAnswer(req, res, heartbeatMs);
  const lastLine = () => ({ last_seq: lastSeq, pending: 0 });
  // The time limit of a continuous feed counts from the last change sent.
  const arm = () => { if (timeoutMs > 0) answer.limit(timeoutMs, lastLine); };
  arm();
  if (sent >= limit) { answer.end(lastLine()); return; }
  answer.cancelFeed = live(db, opts, lastSeq, (c) => {
    if (answer.ended) return;
    lastSeq = c.seq;
    res.write(`${JSON.stringify(c)}\n`);
    sent++;
    arm();
    if (sent >= limit) answer.end(lastLine());
  }, () => answer.end(lastLine()));
}
