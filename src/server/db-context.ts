import type { Request, Response } from 'express';
import type { SecurityObject } from './security.js';
import type { UserCtx } from './users.js';
import type { ValidatorCache } from './validate-doc-update.js';
import { DocRefusal } from './validate-doc-update.js';
import { BodyError } from './json-body.js';
import { sendError, sendPouchError } from './reply.js';

/** What a route of one database needs: the request, who asks, the database and its security. */
export interface DbContext {
  req: Request;
  res: Response;
  dbName: string;
  /** The PouchDB database (opened by the caller; the route answers 404 itself when absent). */
  db: any | undefined;
  user: UserCtx;
  sec: SecurityObject;
  dbAdmin: boolean;
  validators: ValidatorCache;
}

/** Answer an error thrown by a route: our refusals and body errors as they are, PouchDB's mapped. */
export function sendRouteError(res: Response, err: unknown): void {
  if (err instanceof DocRefusal || err instanceof BodyError) return sendError(res, err.status, err.error, err.message);
  const e = err as { status?: number; name?: string; message?: string };
  if (e?.name === 'doc_validation') return sendError(res, 400, 'doc_validation', String(e.message));
  if (e?.status === 400 && /underscore/.test(String(e.message))) return sendError(res, 400, 'illegal_docid', String(e.message));
  if (typeof e?.status === 'number') return sendPouchError(res, err);
  throw err;
}

export function noDb(res: Response): void {
  sendError(res, 404, 'not_found', 'Database does not exist.');
}
