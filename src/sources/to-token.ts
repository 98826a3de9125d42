import { InvalidTokenIdError, contentTokenId, newToken, randomTokenId, type Token } from '../tokens/token.js';
import { SourceError } from './errors.js';
import type { SourceRecord } from './record.js';

export interface IdPolicy {
  /** Ids from the token's content, so that pushing the same tokens twice adds nothing. */
  deterministic?: boolean;
  /** Prefix of generated ids (default `token`). */
  prefix?: string;
}

/**
 * A new token (the Python client's defaults, `type: "token"`) from a record. An `_id` in the record wins;
 * otherwise the id is random (never a document count, which collides after deletions) or, with
 * `deterministic`, a hash of the fields.
 */
export function recordToToken(record: SourceRecord, ids: IdPolicy = {}): Token {
  const { _id, ...fields } = record.fields;
  const id = typeof _id === 'string' ? _id : ids.deterministic ? contentTokenId(fields, ids.prefix) : randomTokenId(ids.prefix);
  try {
    return newToken({ ...fields, _id: id });
  } catch (err) {
    if (err instanceof InvalidTokenIdError) throw new SourceError(record.where, err.message);
    throw err;
  }
}
