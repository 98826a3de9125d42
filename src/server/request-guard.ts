import domain from 'node:domain';
import type { NextFunction, Request, Response } from 'express';
import { sendError } from './reply.js';

/**
 * Keep one bad request from taking the whole server down. express-pouchdb and PouchDB throw from timers,
 * event emitters and promise callbacks that Express never sees (and design-document code can do the
 * same), and an uncaught throw ends a Node process. Each request runs in its own domain: whatever is
 * thrown on its behalf, at any depth of callbacks, is logged and answered 500. (Node's `domain` is
 * deprecated but has no replacement that follows callbacks this way; AsyncLocalStorage cannot catch.)
 */
export function guardRequests(log: (line: string) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    const d = domain.create();
    d.add(req);
    d.add(res);
    d.on('error', (err) => {
      log(`error in ${req.method} ${req.originalUrl}: ${describe(err)}`);
      answer500(res);
    });
    d.run(next);
  };
}

/** Express's error handler: anything thrown synchronously in a route, or passed to next(err). */
export function errorHandler(log: (line: string) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser's failures: malformed JSON, too large a body.
      const e = err as { type?: string; message?: string };
      sendError(res, status, status === 413 ? 'too_large' : 'bad_request', e.message ?? 'Bad request.');
      return;
    }
    log(`error in ${req.method} ${req.originalUrl}: ${describe(err)}`);
    answer500(res);
  };
}

function answer500(res: Response): void {
  if (!res.headersSent) {
    sendError(res, 500, 'unknown_error', 'The server failed on this request; it is logged, and the server is still running.');
  } else if (!res.writableEnded) {
    res.destroy();
  }
}

let processGuarded = false;

/**
 * The last line: an error no request owns (a rejected promise nobody awaited, a throw outside any
 * request) is logged, and the server keeps serving the other requests.
 */
export function guardProcess(log: (line: string) => void): void {
  if (processGuarded) return;
  processGuarded = true;
  process.on('uncaughtException', (err) => log(`uncaught error (server keeps running): ${describe(err)}`));
  process.on('unhandledRejection', (err) => log(`unhandled rejection (server keeps running): ${describe(err)}`));
}

function describe(err: unknown): string {
  // Errors from design-document code come from another realm: not `instanceof Error`, same shape.
  const e = err as { name?: unknown; message?: unknown; stack?: unknown };
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    return `${String(e.name ?? 'Error')}: ${e.message}${process.env.PICAS_DEBUG ? `\n${String(e.stack)}` : ''}`;
  }
  try { return JSON.stringify(err); } catch { return String(err); }
}
