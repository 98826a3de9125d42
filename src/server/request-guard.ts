import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import { sendError } from './reply.js';

interface RequestOwner { req: Request; res: Response }

/** Which request the code running now works for, across callbacks, timers and promises. */
const currentRequest = new AsyncLocalStorage<RequestOwner>();

/**
 * Keep one bad request from taking the whole server down. express-pouchdb and PouchDB throw from timers,
 * event emitters and promise callbacks that Express never sees (and design-document code can do the
 * same), and an uncaught throw ends a Node process. Each request runs with itself as its async context:
 * whatever is thrown on its behalf, at any depth of callbacks, reaches the process guard below, which
 * finds the request it belongs to, logs it and answers it 500.
 * (This used Node's `domain` before: a domain per request cost about a fifth of the server's CPU under
 * load (bench/profile-server.ts), in async-hook and exception-capture bookkeeping on every callback.)
 */
export function guardRequests(log: (line: string) => void) {
  guardProcess(log);
  return (req: Request, res: Response, next: NextFunction) => {
    currentRequest.run({ req, res }, next);
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
 * An error thrown or rejected outside Express's reach: when it was on behalf of a request, that request
 * is answered 500; otherwise (a throw outside any request) it is logged. Either way the server keeps
 * serving the other requests.
 */
export function guardProcess(log: (line: string) => void): void {
  if (processGuarded) return;
  processGuarded = true;
  const onError = (what: string) => (err: unknown) => {
    const owner = currentRequest.getStore();
    if (owner) {
      log(`error in ${owner.req.method} ${owner.req.originalUrl}: ${describe(err)}`);
      answer500(owner.res);
    } else {
      log(`${what} (server keeps running): ${describe(err)}`);
    }
  };
  process.on('uncaughtException', onError('uncaught error'));
  process.on('unhandledRejection', onError('unhandled rejection'));
}

function describe(err: unknown): string {
  // Errors from design-document code come from another realm: not `instanceof Error`, same shape.
  const e = err as { name?: unknown; message?: unknown; stack?: unknown };
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    return `${String(e.name ?? 'Error')}: ${e.message}${process.env.PICAS_DEBUG ? `\n${String(e.stack)}` : ''}`;
  }
  try { return JSON.stringify(err); } catch { return String(err); }
}
