import type { Response } from 'express';

/** Answers in CouchDB's shape: JSON bodies, errors as `{error, reason}`. */
export function sendJson(res: Response, status: number, body: unknown): void {
  if (res.headersSent) { res.end(); return; }
  res.status(status).type('application/json').send(`${JSON.stringify(body)}\n`);
}

export function sendError(res: Response, status: number, error: string, reason: string): void {
  sendJson(res, status, { error, reason });
}

/** A PouchDB error (`status`, `name`, `message`) as a CouchDB answer. */
export function sendPouchError(res: Response, err: unknown): void {
  const e = err as { status?: number; name?: string; message?: string; reason?: string };
  const status = typeof e?.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
  sendError(res, status, e?.name && e.name !== 'Error' ? e.name : status === 500 ? 'unknown_error' : 'bad_request', e?.reason ?? e?.message ?? String(err));
}
