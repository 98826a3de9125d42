import { parseJson } from '../couch/json.js';
import { SourceError, at } from './errors.js';
import { readChunks } from './chunks.js';
import { checkFields, describeJsonType, isPlainObject, type SourceRecord } from './record.js';

/**
 * A JSON array of objects, read element by element: the scanner only tracks nesting depth and strings to
 * find where each top-level element ends, then parses that element alone. Memory holds one element, not
 * the array, so a huge array streams like JSON lines.
 */
export async function* jsonArrayRecords(file: string): AsyncGenerator<SourceRecord> {
  let phase: 'before' | 'between' | 'element' | 'after' = 'before';
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let elementLine = 1;
  let expectElement = true; // after '[' or ',' an element may (after ',' must) follow
  let afterComma = false;

  const finish = (): SourceRecord => {
    const where = at(file, elementLine);
    let value: unknown;
    try {
      value = parseJson(element);
    } catch (err) {
      throw new SourceError(where, `not valid JSON (${(err as Error).message})`);
    }
    element = '';
    if (!isPlainObject(value)) throw new SourceError(where, `array elements must be JSON objects, found ${describeJsonType(value)}`);
    return { fields: checkFields(value, where), where };
  };

  for await (const chunk of readChunks(file)) {
    let start = 0; // start of the current element's text within this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (phase === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
          else if (c === '\n') line++;
          continue;
        }
        if (c === '"') { inString = true; continue; }
        if (c === '{' || c === '[') { depth++; continue; }
        if (c === '}' || c === ']') {
          if (depth > 0) { depth--; continue; }
          // ']' at depth 0 closes the array; fall through to end the element.
        } else if (c !== ',') {
          if (c === '\n') line++;
          continue;
        }
        if (depth === 0) {
          element += chunk.slice(start, i);
          yield finish();
          phase = c === ']' ? 'after' : 'between';
          expectElement = afterComma = c === ',';
        }
        continue;
      }
      if (c === '\n') { line++; continue; }
      if (c === ' ' || c === '\t' || c === '\r' || c === '\ufeff') continue;
      if (phase === 'before') {
        if (c !== '[') throw new SourceError(at(file, line), `expected a JSON array ('['), found ${JSON.stringify(c)}; use --format jsonl for one object per line`);
        phase = 'between';
        continue;
      }
      if (phase === 'after') throw new SourceError(at(file, line), `unexpected ${JSON.stringify(c)} after the end of the array`);
      // between elements
      if (c === ']') {
        if (afterComma) throw new SourceError(at(file, line), 'trailing "," before "]" (JSON allows none)');
        phase = 'after';
        continue;
      }
      if (c === ',') throw new SourceError(at(file, line), 'unexpected "," (an element is missing)');
      if (!expectElement) throw new SourceError(at(file, line), `expected "," or "]" between array elements, found ${JSON.stringify(c)}`);
      phase = 'element';
      elementLine = line;
      start = i;
      depth = 0;
      expectElement = afterComma = false;
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth = 1;
    }
    if (phase === 'element') element += chunk.slice(start);
  }
  if (phase === 'before') throw new SourceError(file, 'empty file: expected a JSON array of objects');
  if ((phase as string) !== 'after') throw new SourceError(at(file, line), 'the file ends inside the JSON array (a "]" or "}" is missing)');
}
