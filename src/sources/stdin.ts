import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SourceRecord } from './record.js';
import { SourceError } from './errors.js';

/**
 * Standard input as a source (`picas push -`). A push reads its source twice (checked whole, then
 * written), and a pipe can be read once: so stdin is first copied to a private temporary file, read from
 * there, and the file removed by `dispose`. Records name their place as `stdin line N`, not the copy.
 */
export interface SpooledInput {
  file: string;
  /** The records of `read(file)` with their places named after stdin. */
  records(read: (file: string) => AsyncIterable<SourceRecord>): AsyncGenerator<SourceRecord>;
  dispose(): void;
}

export async function spoolStdin(input: NodeJS.ReadableStream = process.stdin): Promise<SpooledInput> {
  const dir = mkdtempSync(join(tmpdir(), 'picas-stdin-'));
  const file = join(dir, 'stdin');
  try {
    await pipeline(input, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    file,
    async *records(read) {
      const named = (where: string) => where.split(file).join('stdin');
      try {
        for await (const record of read(file)) yield { ...record, where: named(record.where) };
      } catch (err) {
        if (err instanceof SourceError) throw new SourceError(named(err.where), named(err.problem));
        throw err;
      }
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
