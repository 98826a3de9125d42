import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { sendError, sendJson } from './reply.js';

/**
 * `GET /` answered as CouchDB answers it, so clients that check the welcome object (picas itself, the
 * Python client's libraries) recognise the server. `version` is the CouchDB API level this server follows,
 * `vendor` says what it really is; `uuid` identifies this data folder (kept in `_picas/uuid`), as CouchDB's
 * identifies its node. `GET /_up` too, for anyone.
 */
export function serverUuid(dataDir: string): string {
  const dir = join(dataDir, '_picas');
  const file = join(dir, 'uuid');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dir, { recursive: true });
  const uuid = randomBytes(16).toString('hex');
  writeFileSync(file, `${uuid}\n`);
  return uuid;
}

export function welcome(uuid: string) {
  const body = { couchdb: 'Welcome', version: '3.3.0', git_sha: 'picas', uuid, features: [], vendor: { name: 'picas embedded server (PouchDB)' } };
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path === '/' || req.path === '/_up') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'Only GET,HEAD allowed');
      return sendJson(res, 200, req.path === '/' ? body : { status: 'ok', seeds: {} });
    }
    next();
  };
}
