import type { NextFunction, Request, Response } from 'express';
import { isSafeNumber, parse as losslessParse } from 'lossless-json';

/**
 * JSON request bodies read as CouchDB reads them, and integers beyond 2^53 kept digit for digit.
 *
 * JavaScript numbers hold integers exactly only up to 2^53; CouchDB keeps any integer. A body with such an
 * integer is parsed losslessly and the integer kept as a tagged string (BIGINT_TAG + digits), which PouchDB
 * stores as it is; every JSON answer of this server turns the tagged string back into the bare integer
 * (`bigintOutput`). Only bodies with a run of 16 or more digits take the slower lossless parser. Design
 * document code (views, filters, validation) sees the tagged string, not a number.
 */
export const BIGINT_TAG = '\u0000bigint:';
const MAYBE_BIG = /\d{16}/;

export class BodyError extends Error {
  constructor(readonly status: number, readonly error: string, reason: string) { super(reason); }
}

/** Parse JSON text; `undefined` for an empty body. Throws BodyError 400 on invalid JSON. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    if (!MAYBE_BIG.test(text)) return JSON.parse(text);
    return losslessParse(text, null, {
      parseNumber: (s: string) => (isSafeNumber(s) || !/^-?\d+$/.test(s) ? Number(s) : `${BIGINT_TAG}${s}`),
      onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
    } as never);
  } catch {
    throw new BodyError(400, 'bad_request', 'invalid UTF-8 JSON');
  }
}

const LIMIT = 256 * 1024 * 1024;

/** The raw body bytes (read once; kept on the request for later readers). */
export function rawBody(req: Request): Promise<Buffer> {
  const r = req as Request & { rawBodyBuffer?: Buffer };
  if (r.rawBodyBuffer) return Promise.resolve(r.rawBodyBuffer);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > LIMIT) { reject(new BodyError(413, 'too_large', 'the request entity is too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      r.rawBodyBuffer = Buffer.concat(chunks);
      // body-parser (in express-pouchdb) skips a request whose body was read already.
      (req as Request & { _body?: boolean })._body = true;
      resolve(r.rawBodyBuffer);
    });
    req.on('error', reject);
  });
}

/** Does the request say its body is JSON? (CouchDB's check on POST /db, _bulk_docs, _find.) */
export function isJsonContentType(req: Request): boolean {
  const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return ct === 'application/json';
}

/**
 * Read the body as JSON. `requireJsonType`: refuse other content types with 415 (as CouchDB does for
 * POST /db, _bulk_docs, _find); otherwise any content type is read as JSON, as CouchDB does for a document
 * PUT (curl -d sends application/x-www-form-urlencoded). Sets and returns req.body.
 */
export async function readJson(req: Request, opts: { requireJsonType?: boolean } = {}): Promise<unknown> {
  if (opts.requireJsonType && !isJsonContentType(req)) throw new BodyError(415, 'bad_content_type', 'Content-Type must be application/json');
  if ((req as Request & { jsonRead?: boolean }).jsonRead) return req.body;
  const bytes = await rawBody(req);
  const value = parseJsonText(bytes.toString('utf8'));
  req.body = value;
  (req as Request & { jsonRead?: boolean }).jsonRead = true;
  return value;
}

const TAG_IN_JSON = /"\\u0000bigint:(-?\d+)"/g;
const TAG_BYTES = Buffer.from('\\u0000bigint:');

/** JSON text with tagged big integers turned back into bare integer literals. */
export function untagBigints(text: string): string {
  return text.includes('\\u0000bigint:') ? text.replace(TAG_IN_JSON, '$1') : text;
}

function untagChunk(chunk: unknown, encoding?: BufferEncoding): unknown {
  if (Buffer.isBuffer(chunk)) return chunk.includes(TAG_BYTES) ? Buffer.from(untagBigints(chunk.toString('utf8')), 'utf8') : chunk;
  if (typeof chunk === 'string' && (!encoding || encoding === 'utf8' || encoding === 'utf-8')) return untagBigints(chunk);
  return chunk;
}

/** Every JSON answer (whole or streamed) leaves with its big integers as bare integers. */
export function bigintOutput() {
  return (_req: Request, res: Response, next: NextFunction) => {
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => Response;
    const isJson = () => /json/i.test(String(res.getHeader('content-type') ?? ''));
    (res as any).write = (chunk: unknown, ...rest: unknown[]) => write(isJson() ? untagChunk(chunk, rest[0] as BufferEncoding) : chunk, ...rest);
    (res as any).end = (chunk?: unknown, ...rest: unknown[]) => {
      if (chunk !== undefined && typeof chunk !== 'function' && isJson()) {
        const out = untagChunk(chunk, rest[0] as BufferEncoding);
        if (out !== chunk && !res.headersSent && res.getHeader('content-length') !== undefined) {
          res.setHeader('content-length', Buffer.byteLength(out as Buffer | string));
        }
        return end(out, ...rest);
      }
      return end(chunk, ...rest);
    };
    next();
  };
}
