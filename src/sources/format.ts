import { extname } from 'node:path';
import { SourceError } from './errors.js';
import { readChunks } from './chunks.js';
import { textLineRecords } from './text-lines.js';
import { jsonLineRecords } from './json-lines.js';
import { jsonArrayRecords } from './json-array.js';
import { csvRecords } from './csv.js';
import type { SourceRecord } from './record.js';

export const FORMATS = ['text', 'jsonl', 'json', 'csv'] as const;
export type SourceFormat = (typeof FORMATS)[number];

const BY_EXTENSION: Record<string, SourceFormat> = {
  '.txt': 'text', '.text': 'text', '.lst': 'text', '.sh': 'text',
  '.jsonl': 'jsonl', '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
};

/** The format named by the user, or guessed from the extension; anything unknown is text lines, as the original reads any file. */
export function formatOf(file: string, given?: string): SourceFormat {
  if (given !== undefined) {
    if (!(FORMATS as readonly string[]).includes(given)) {
      throw new SourceError('--format', `unknown format ${JSON.stringify(given)}; choose one of ${FORMATS.join(', ')}`);
    }
    return given as SourceFormat;
  }
  return BY_EXTENSION[extname(file).toLowerCase()] ?? 'text';
}

/** `json`: an array of objects when the file starts with '[', otherwise one object per line. */
async function startsWithBracket(file: string): Promise<boolean> {
  for await (const chunk of readChunks(file)) {
    const trimmed = chunk.replace(/^[\s\ufeff]+/, '');
    if (trimmed.length > 0) return trimmed.startsWith('[');
  }
  return true; // empty: let the array reader say the file is empty
}

/** Stream the records of a file in the given format. */
export async function* fileRecords(file: string, format: SourceFormat): AsyncGenerator<SourceRecord> {
  switch (format) {
    case 'text': yield* textLineRecords(file); return;
    case 'jsonl': yield* jsonLineRecords(file); return;
    case 'csv': yield* csvRecords(file); return;
    case 'json':
      if (await startsWithBracket(file)) yield* jsonArrayRecords(file);
      else yield* jsonLineRecords(file);
  }
}
