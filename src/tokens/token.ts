import { toJson } from '../couch/json.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Attachment, Doc } from '../couch/database.js';

/** One entry of a token's `error` list, as the Python client writes it. */
export interface TokenErrorEntry {
  time: number;
  message: string;
  exception: string;
}

/**
 * A token: a plain CouchDB document the Python client reads too (REFERENCE.md section 1). Fields picas adds
 * (leases, attempts) are extras the Python views ignore; user fields survive every update.
 */
export interface Token extends Doc {
  type: string;
  lock: number;
  done: number;
  hostname: string;
  scrub_count: number;
  input: unknown;
  exit_code: number | string;
  output: Record<string, unknown>;
  uploads: Record<string, unknown>;
  error: TokenErrorEntry[];
  _attachments?: Record<string, Attachment>;
}

/** The defaults of a new token; `type` is "token" so the Monitor views see it (the original's Task said "task"). */
export function tokenDefaults(): Omit<Token, '_id'> {
  return {
    type: 'token',
    lock: 0,
    done: 0,
    hostname: '',
    scrub_count: 0,
    input: '',
    exit_code: '',
    output: {},
    uploads: {},
    error: [],
  };
}

/** A new token from user fields; the id is random unless given (never derived from a document count). */
export function newToken(fields: Record<string, unknown> & { _id?: string } = {}): Token {
  const id = fields._id ?? randomTokenId();
  validateTokenId(id);
  return { ...tokenDefaults(), ...fields, _id: id } as Token;
}

let idCounter = 0;

/**
 * A new unique id, `<prefix>_<32 hex>`: the time in ms (12 hex), a counter (4 hex), then 64 random bits.
 * Time first, as CouchDB's own "sequential" ids, so that the tokens of one push are written in key order:
 * the database's index takes ordered keys faster than random ones (fully random ids made a push ~15%
 * slower than the same documents in order on the embedded server). The random part keeps ids from
 * different processes apart.
 */
export function randomTokenId(prefix = 'token'): string {
  idCounter = (idCounter + 1) & 0xffff;
  const time = Date.now().toString(16).padStart(12, '0').slice(-12);
  return `${prefix}_${time}${idCounter.toString(16).padStart(4, '0')}${randomBytes(8).toString('hex')}`;
}

/** A deterministic id from a token's content, so that pushing the same input twice adds nothing. */
export function contentTokenId(content: unknown, prefix = 'token'): string {
  const hash = createHash('sha256').update(stableJson(content)).digest('hex').slice(0, 32);
  return `${prefix}_${hash}`;
}

/** JSON with object keys sorted, so equal contents hash alike whatever the key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return value === undefined ? 'null' : toJson(value) ?? 'null';
}

export class InvalidTokenIdError extends Error {
  constructor(readonly id: string, why: string) {
    super(`invalid token id ${JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id)}: ${why}`);
    this.name = 'InvalidTokenIdError';
  }
}

/**
 * Ids CouchDB would refuse or misread: empty, starting with `_` (reserved), or holding control characters.
 * (Ids that are unsafe as file names are made safe where they become file names, not refused here.)
 */
export function validateTokenId(id: unknown): asserts id is string {
  if (typeof id !== 'string') throw new InvalidTokenIdError(String(id), 'not a string');
  if (id.length === 0) throw new InvalidTokenIdError(id, 'empty');
  if (id.startsWith('_')) throw new InvalidTokenIdError(id, 'ids starting with "_" are reserved by CouchDB');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw new InvalidTokenIdError(id, 'holds a control character (e.g. NUL)');
  if (Buffer.byteLength(id) > 1024) throw new InvalidTokenIdError(id, 'longer than 1024 bytes');
}
