import type { NextFunction, Request, Response } from 'express';

/**
 * `GET /` answered as CouchDB answers it, so clients that check the welcome object (picas itself, the
 * Python client's libraries) recognise the server. `version` is the CouchDB API level this server follows,
 * `vendor` says what it really is.
 */
export function welcome() {
  return (req: Request, res: Response, next: NextFunction) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && req.path === '/') {
      res.json({ couchdb: 'Welcome', version: '3.3.0', vendor: { name: 'picas embedded server (PouchDB)' }, features: [] });
      return;
    }
    next();
  };
}
