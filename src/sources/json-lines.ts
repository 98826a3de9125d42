import { parseJson } from '../couch/json.js';
import { SourceError, at } from './errors.js';
import { readLines } from './lines.js';
import { checkFields, describeJsonType, isPlainObject, type SourceRecord } from './record.js';

/** One JSON object per line (JSON lines / NDJSON); each object's fields become the token's. */
export async function* jsonLineRecords(file: string): AsyncGenerator<SourceRecord> {
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    const where = at(file, line);
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (err) {
      throw new SourceError(where, `not valid JSON (${(err as Error).message}); each line must be one JSON object`);
    }
    if (!isPlainObject(value)) throw new SourceError(where, `expected a JSON object, found ${describeJsonType(value)}`);
    yield { fields: checkFields(value, where), where };
  }
}
