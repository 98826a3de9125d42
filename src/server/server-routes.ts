import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { sendError, sendJson } from './reply.js';

/** `GET /_uuids?count=N`: random 32-hex ids, never cached, at most 1000 at a time (CouchDB's limit). */
export function uuids(req: Request, res: Response): void {
  const count = req.query.count === undefined ? 1 : Number(req.query.count);
  if (!Number.isInteger(count) || count < 0) return sendError(res, 400, 'bad_request', 'count must be a non-negative integer');
  if (count > 1000) return sendError(res, 400, 'bad_request', 'count parameter too large');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Pragma', 'no-cache');
  sendJson(res, 200, { uuids: Array.from({ length: count }, () => randomBytes(16).toString('hex')) });
}
