import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/**
 * Our front: every request but `GET /` and `GET /_up` must carry the admin's Basic credentials.
 * (Members per `_security` come with the hardening of the embedded server.)
 */
export function authFront(options: { admin: { username: string; password: string } }) {
  const expected = Buffer.from(`${options.admin.username}:${options.admin.password}`);
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' && req.path === '/_up') {
      res.json({ status: 'ok' });
      return;
    }
    if (req.method === 'GET' && req.path === '/') {
      next();
      return;
    }
    const header = req.headers.authorization ?? '';
    const match = /^Basic (.+)$/i.exec(header);
    const given = match ? Buffer.from(match[1]!, 'base64') : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      next();
      return;
    }
    res.status(401).json({ error: 'unauthorized', reason: 'Name or password is incorrect.' });
  };
}
