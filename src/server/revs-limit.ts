import type { Request, Response } from 'express';
import { readJson } from './json-body.js';
import { sendError, sendJson } from './reply.js';

/**
 * `_revs_limit` per database, as CouchDB keeps it (default 1000). PouchDB fixes a database object's limit
 * when the object is made, so a database with another limit is served by an object made with it (PouchDB
 * objects of one name share one LevelDB store); the limits are kept in the internal store, so they hold
 * after a restart.
 */
const DEFAULT = 1000;

export class RevsLimits {
  private readonly limits = new Map<string, number>();
  private readonly applied = new WeakMap<object, number>();

  constructor(private readonly store: any, private readonly Pouch: any) {}

  private id(dbName: string): string {
    return `revs_limit:${dbName}`;
  }

  async get(dbName: string): Promise<number> {
    const known = this.limits.get(dbName);
    if (known !== undefined) return known;
    let n = DEFAULT;
    try { n = Number((await this.store.get(this.id(dbName))).limit) || DEFAULT; } catch { /* none stored */ }
    this.limits.set(dbName, n);
    return n;
  }

  /** The database object to use: the shared one, or one made with this database's limit in its place. */
  async instance(dbName: string, fileName: string, db: any): Promise<any> {
    const n = await this.get(dbName);
    if (n === DEFAULT || this.applied.get(db) === n) return db;
    const fresh = new this.Pouch(fileName, { revs_limit: n });
    this.applied.set(fresh, n);
    this.Pouch.__dbCacheMap?.set(fileName, fresh);
    return fresh;
  }

  async forget(dbName: string): Promise<void> {
    this.limits.delete(dbName);
    try { await this.store.remove(await this.store.get(this.id(dbName))); } catch { /* none stored */ }
  }

  async handle(req: Request, res: Response, dbName: string, fileName: string, db: any): Promise<void> {
    if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, await this.get(dbName));
    if (req.method !== 'PUT') return sendError(res, 405, 'method_not_allowed', 'Only GET,PUT allowed');
    const n = await readJson(req);
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) return sendError(res, 400, 'bad_request', 'Rev limit has to be an integer');
    const id = this.id(dbName);
    let rev: string | undefined;
    try { rev = (await this.store.get(id))._rev; } catch { /* first time */ }
    await this.store.put({ _id: id, ...(rev ? { _rev: rev } : {}), limit: n });
    this.limits.set(dbName, n);
    await this.instance(dbName, fileName, db);
    sendJson(res, 200, { ok: true });
  }
}
