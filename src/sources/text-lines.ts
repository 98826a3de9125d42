import { at } from './errors.js';
import { readLines } from './lines.js';
import type { SourceRecord } from './record.js';

/**
 * One token per line, `input` = the line, as the original's pushTokens example does. Blank lines are
 * skipped (a trailing newline or an empty line between commands is not a token).
 */
export async function* textLineRecords(file: string): AsyncGenerator<SourceRecord> {
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    yield { fields: { input: text }, where: at(file, line) };
  }
}
