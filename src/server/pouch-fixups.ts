import type { NextFunction, Request, Response } from 'express';

/**
 * Answers of the routes left to express-pouchdb (attachments, multipart documents, ...) made to look as
 * CouchDB's: JSON errors as application/json even without an Accept header (express-pouchdb falls back to
 * text/plain), no ETag on errors or on attachment writes, `Cache-Control: must-revalidate` on reads.
 */
export function pouchFixups() {
  return (req: Request, res: Response, next: NextFunction) => {
    const type = res.type.bind(res);
    (res as any).type = (t: string) => type(t === 'text/plain' ? 'application/json' : t);
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => Response;
    (res as any).writeHead = (status: number, ...rest: unknown[]) => {
      if (!res.headersSent) {
        if ((status >= 300 && status !== 304) || req.method === 'PUT' || req.method === 'DELETE') res.removeHeader('ETag');
        if (req.method === 'GET' && status === 200 && !res.getHeader('Cache-Control')) res.setHeader('Cache-Control', 'must-revalidate');
      }
      return writeHead(status, ...rest);
    };
    next();
  };
}
