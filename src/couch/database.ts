import type { CouchServer, RequestOptions } from './server.js';
import { docPath, segment } from './server.js';
import { DatabaseNotFoundError, NotFoundError, PreconditionFailedError } from './errors.js';

export interface Doc {
  _id: string;
  _rev?: string;
  _deleted?: boolean;
  _attachments?: Record<string, Attachment>;
  _conflicts?: string[];
  [field: string]: unknown;
}

/** An attachment as CouchDB stores it: inline (`data`, base64) when written, a stub when read without it. */
export interface Attachment {
  content_type: string;
  data?: string;
  stub?: boolean;
  length?: number;
  digest?: string;
  revpos?: number;
}

/** One entry of a `_bulk_docs` answer: either `ok`/`rev`, or `error`/`reason`. */
export interface BulkResult {
  id: string;
  ok?: boolean;
  rev?: string;
  error?: string;
  reason?: string;
}

export interface ViewParams {
  key?: unknown;
  keys?: unknown[];
  startkey?: unknown;
  endkey?: unknown;
  startkey_docid?: string;
  endkey_docid?: string;
  limit?: number;
  skip?: number;
  descending?: boolean;
  include_docs?: boolean;
  inclusive_end?: boolean;
  reduce?: boolean;
  group?: boolean;
  group_level?: number;
  update?: 'true' | 'false' | 'lazy';
  stable?: boolean;
  update_seq?: boolean;
  sorted?: boolean;
  conflicts?: boolean;
  attachments?: boolean;
}

export interface ViewRow<V = unknown, D = Doc> {
  id?: string;
  key: unknown;
  value: V;
  doc?: D | null;
  error?: string;
}

export interface ViewResult<V = unknown, D = Doc> {
  total_rows?: number;
  offset?: number;
  update_seq?: unknown;
  rows: ViewRow<V, D>[];
}

export interface ChangesParams {
  since?: unknown;
  feed?: 'normal' | 'longpoll';
  timeout?: number;
  limit?: number;
  include_docs?: boolean;
  filter?: string;
  doc_ids?: string[];
  selector?: Record<string, unknown>;
  descending?: boolean;
  style?: 'main_only' | 'all_docs';
  heartbeat?: number;
  conflicts?: boolean;
}

export interface ChangesResult {
  /** Opaque: pass it back as `since`, never compare or parse it. */
  last_seq: unknown;
  pending?: number;
  results: { id: string; seq: unknown; deleted?: boolean; changes: { rev: string }[]; doc?: Doc }[];
}

export interface SecurityObject {
  admins?: { names?: string[]; roles?: string[] };
  members?: { names?: string[]; roles?: string[] };
}

export interface GetOptions {
  rev?: string;
  attachments?: boolean;
  conflicts?: boolean;
  revs_info?: boolean;
  open_revs?: 'all' | string[];
  latest?: boolean;
}

/** One database on a CouchServer. Every method is one HTTP request unless it says otherwise. */
export class Database {
  constructor(readonly server: CouchServer, readonly name: string) {}

  private path(rest = ''): string {
    return `/${encodeURIComponent(this.name)}${rest}`;
  }

  request<T = any>(method: string, rest: string, options?: RequestOptions) {
    return this.server.request<T>(method, this.path(rest), options);
  }

  async info(): Promise<{ db_name: string; doc_count: number; doc_del_count: number; update_seq: unknown; [k: string]: unknown }> {
    return (await this.request('GET', '')).body;
  }

  async exists(): Promise<boolean> {
    try {
      await this.request('HEAD', '');
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Create the database; with `ifMissing` an existing one is fine. */
  async create(options: { ifMissing?: boolean; partitioned?: boolean } = {}): Promise<void> {
    try {
      await this.request('PUT', '', { query: options.partitioned ? { partitioned: true } : undefined });
    } catch (err) {
      if (options.ifMissing && err instanceof PreconditionFailedError) return;
      throw err;
    }
  }

  async destroy(): Promise<void> {
    await this.request('DELETE', '');
  }

  async get<T extends Doc = Doc>(id: string, options: GetOptions = {}): Promise<T> {
    const query: Record<string, unknown> = { ...options };
    if (Array.isArray(options.open_revs)) query.open_revs = JSON.stringify(options.open_revs);
    return (await this.request<T>('GET', `/${docPath(id)}`, { query })).body;
  }

  /** GET, or `undefined` when the document does not exist (a missing database is an error). */
  async find<T extends Doc = Doc>(id: string, options: GetOptions = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(id, options);
    } catch (err) {
      if (err instanceof NotFoundError && !(err instanceof DatabaseNotFoundError)) return undefined;
      throw err;
    }
  }

  /** The current revision of a document (HEAD, no body), or `undefined` when it (or its database) does not exist. */
  async rev(id: string): Promise<string | undefined> {
    try {
      const res = await this.request('HEAD', `/${docPath(id)}`);
      const etag = String(res.headers.etag ?? '').replace(/"/g, '');
      // CouchDB's ETag is the revision; a server that sends another ETag gets asked with a GET.
      if (/^\d+-[0-9a-f]+$/.test(etag)) return etag;
      return (await this.get(id))._rev;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** PUT a document; its `_rev` (if any) makes the write conditional. Throws ConflictError on 409. */
  async put(doc: Doc, options: { batch?: boolean } = {}): Promise<{ id: string; rev: string }> {
    const res = await this.request<{ id: string; rev: string }>('PUT', `/${docPath(doc._id)}`, {
      body: doc,
      query: options.batch ? { batch: 'ok' } : undefined,
    });
    return { id: res.body.id, rev: res.body.rev };
  }

  /** POST a document without an id; the server picks one. */
  async post(doc: Omit<Doc, '_id'> & { _id?: string }): Promise<{ id: string; rev: string }> {
    const res = await this.request<{ id: string; rev: string }>('POST', '', { body: doc });
    return { id: res.body.id, rev: res.body.rev };
  }

  async remove(id: string, rev: string): Promise<{ id: string; rev: string }> {
    const res = await this.request<{ id: string; rev: string }>('DELETE', `/${docPath(id)}`, { query: { rev } });
    return { id: res.body.id, rev: res.body.rev };
  }

  /** `_bulk_docs`: one request, one result per document in the same order (not atomic). */
  async bulkDocs(docs: Doc[] | Omit<Doc, '_id'>[], options: { newEdits?: boolean } = {}): Promise<BulkResult[]> {
    if (docs.length === 0) return [];
    const body: Record<string, unknown> = { docs };
    if (options.newEdits === false) body.new_edits = false;
    return (await this.request<BulkResult[]>('POST', '/_bulk_docs', { body })).body;
  }

  /** Delete many documents in one request; each needs its current `_rev`. */
  async bulkDelete(docs: { _id: string; _rev: string }[]): Promise<BulkResult[]> {
    return this.bulkDocs(docs.map((d) => ({ _id: d._id, _rev: d._rev, _deleted: true })));
  }

  /** `_bulk_get`: many documents (at given revisions, or the winner) in one request. */
  async bulkGet<T extends Doc = Doc>(refs: { id: string; rev?: string }[]): Promise<(T | { error: string; id: string })[]> {
    if (refs.length === 0) return [];
    const res = await this.request<{ results: { id: string; docs: ({ ok: T } | { error: { id: string; error: string } })[] }[] }>(
      'POST', '/_bulk_get', { body: { docs: refs } });
    return res.body.results.map((r) => {
      const first = r.docs[0];
      if (first && 'ok' in first) return first.ok;
      return { id: r.id, error: first && 'error' in first ? first.error.error : 'not_found' };
    });
  }

  /** Query a view (`design` without the `_design/` prefix). `keys` go in a POST body. */
  async view<V = unknown, D = Doc>(design: string, view: string, params: ViewParams = {}): Promise<ViewResult<V, D>> {
    return this.rowsRequest<V, D>(`/_design/${encodeURIComponent(design)}/_view/${encodeURIComponent(view)}`, params);
  }

  async allDocs<D = Doc>(params: ViewParams = {}): Promise<ViewResult<{ rev: string; deleted?: boolean }, D>> {
    return this.rowsRequest(`/_all_docs`, params);
  }

  private async rowsRequest<V, D>(rest: string, params: ViewParams): Promise<ViewResult<V, D>> {
    const { keys, ...query } = params;
    if (keys) return (await this.request<ViewResult<V, D>>('POST', rest, { query, body: { keys } })).body;
    return (await this.request<ViewResult<V, D>>('GET', rest, { query })).body;
  }

  async getSecurity(): Promise<SecurityObject> {
    return (await this.request<SecurityObject>('GET', '/_security')).body ?? {};
  }

  async setSecurity(security: SecurityObject): Promise<void> {
    await this.request('PUT', '/_security', { body: security });
  }

  /** `_changes` as one answer (normal or longpoll). Sequence values are opaque. */
  async changes(params: ChangesParams = {}): Promise<ChangesResult> {
    const { doc_ids, selector, ...query } = params;
    const timeoutMs = params.feed === 'longpoll' ? (params.timeout ?? 60_000) + this.server.timeoutMs : undefined;
    if (doc_ids || selector) {
      const filter = doc_ids ? '_doc_ids' : '_selector';
      return (await this.request<ChangesResult>('POST', '/_changes', {
        query: { ...query, filter }, body: doc_ids ? { doc_ids } : { selector }, timeoutMs,
      })).body;
    }
    return (await this.request<ChangesResult>('GET', '/_changes', { query, timeoutMs })).body;
  }

  async getAttachment(id: string, name: string): Promise<Buffer> {
    return (await this.request<Buffer>('GET', `/${docPath(id)}/${segment(name)}`, { binary: true })).body;
  }

  async putAttachment(id: string, rev: string, name: string, data: Buffer | string, contentType: string): Promise<{ id: string; rev: string }> {
    const res = await this.request<{ id: string; rev: string }>('PUT', `/${docPath(id)}/${segment(name)}`, {
      query: { rev }, rawBody: { data, contentType },
    });
    return { id: res.body.id, rev: res.body.rev };
  }
}

/** An inline attachment ready to be written inside a document. */
export function inlineAttachment(data: Buffer | string, contentType = 'text/plain'): Attachment {
  return { content_type: contentType, data: Buffer.from(data).toString('base64') };
}
