import type { NextFunction, Request, Response } from 'express';

/**
 * CouchDB 3 asks for a view without bringing its index up to date with `update=false` (and `update=lazy`:
 * answer now, update afterwards); PouchDB knows these only under their older names, `stale=ok` and
 * `stale=update_after`, and would silently update the index first. Translate, so a client written for
 * CouchDB 3 (picas's claims among them) gets the same behaviour here.
 */
const STALE_FOR_UPDATE: Record<string, string> = { false: 'ok', lazy: 'update_after' };

export function viewUpdateParam() {
  return (req: Request, _res: Response, next: NextFunction) => {
    const update = req.query.update;
    if (typeof update === 'string' && update in STALE_FOR_UPDATE && req.query.stale === undefined && /\/_design\/[^/]+\/_view\//.test(req.path)) {
      const { update: _update, ...rest } = req.query;
      req.query = { ...rest, stale: STALE_FOR_UPDATE[update]! };
    }
    next();
  };
}
