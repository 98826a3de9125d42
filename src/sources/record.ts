import { SourceError } from './errors.js';

/** One token's fields as read from a source, with where it came from (for error messages). */
export interface SourceRecord {
  fields: Record<string, unknown>;
  /** e.g. "tokens.csv line 4", "sweep combination 7". */
  where: string;
}

/**
 * Fields a source may not set: CouchDB's own (`_rev`, `_attachments`...) would make the write fail or
 * mean something else. `_id` is allowed: it names the token.
 */
export function checkFields(fields: Record<string, unknown>, where: string): Record<string, unknown> {
  for (const key of Object.keys(fields)) {
    if (key.startsWith('_') && key !== '_id') {
      throw new SourceError(where, `field "${key}" is reserved by CouchDB; rename it (only "_id" may start with "_")`);
    }
  }
  if ('_id' in fields && (typeof fields._id !== 'string' || fields._id === '')) {
    throw new SourceError(where, `"_id" must be a non-empty string, not ${JSON.stringify(fields._id)}`);
  }
  return fields;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
