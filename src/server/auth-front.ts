import type { NextFunction, Request, Response } from 'express';
import { sendError, sendJson } from './reply.js';
import type { UserCtx, UserDirectory } from './users.js';

/** The authenticated user of a request, set by `authFront`. */
export function userOf(req: Request): UserCtx {
  return (req as Request & { userCtx: UserCtx }).userCtx;
}

/**
 * Our front door: `GET /_up` is answered here and `GET /` (the welcome object) passes; every other
 * request must carry Basic credentials of the server admin or of a user in `_users`, else 401 — as
 * CouchDB 3 with `require_valid_user`. Cookie sessions are not offered: picas clients send Basic auth.
 */
export function authFront(users: UserDirectory) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      if ((req.method === 'GET' || req.method === 'HEAD') && req.path === '/_up') return sendJson(res, 200, { status: 'ok' });
      if ((req.method === 'GET' || req.method === 'HEAD') && req.path === '/') return next();
      const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
      if (!match) return sendError(res, 401, 'unauthorized', 'Authentication required: send a user name and password (HTTP Basic).');
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon > 0 ? await users.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
      if (!user) return sendError(res, 401, 'unauthorized', 'Name or password is incorrect.');
      (req as Request & { userCtx: UserCtx }).userCtx = user;
      next();
    } catch (err) {
      next(err);
    }
  };
}
