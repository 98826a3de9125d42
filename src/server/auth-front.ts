import type { NextFunction, Request, Response } from 'express';
import { sendError } from './reply.js';
import type { SessionKeeper } from './session.js';
import type { UserCtx, UserDirectory } from './users.js';

/** The authenticated user of a request (undefined: anonymous), set by `authFront`. */
export function userOf(req: Request): UserCtx | undefined {
  return (req as Request & { userCtx?: UserCtx }).userCtx;
}

/** How the request was authenticated: 'default' (Basic) or 'cookie'; undefined when anonymous. */
export function authMethodOf(req: Request): string | undefined {
  return (req as Request & { authMethod?: string }).authMethod;
}

/**
 * Who a request is, as CouchDB 3 decides it: HTTP Basic credentials of the server admin or of a user in
 * `_users`, or an `AuthSession` cookie from `POST /_session`; no credentials is anonymous (later refused
 * where CouchDB refuses it: anonymous requests reach only `/`, `/_up` and `/_session`). Wrong Basic
 * credentials are a 401 at once.
 */
export function authFront(users: UserDirectory, sessions: SessionKeeper) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const header = req.headers.authorization;
      if (header !== undefined) {
        const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
        if (!match) return sendError(res, 401, 'unauthorized', 'Authentication required: send a user name and password (HTTP Basic).');
        const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const user = colon > 0 ? await users.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
        if (!user) return sendError(res, 401, 'unauthorized', 'Name or password is incorrect.');
        (req as Request & { userCtx?: UserCtx; authMethod?: string }).userCtx = user;
        (req as Request & { authMethod?: string }).authMethod = 'default';
      } else if (req.headers.cookie) {
        const user = await sessions.userFromCookie(req);
        if (user) {
          (req as Request & { userCtx?: UserCtx }).userCtx = user;
          (req as Request & { authMethod?: string }).authMethod = 'cookie';
        }
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
