import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { SourceError } from './errors.js';

/** Bytes per read: large enough to be fast, small enough that memory stays flat whatever the file size. */
const CHUNK_BYTES = 256 * 1024;

/** Check the file is there and readable before streaming it, so the error names the file plainly. */
export async function assertReadable(file: string): Promise<void> {
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw new SourceError(file, 'is a directory, not a file of tokens');
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new SourceError(file, `cannot read the file (${why}); check the path`);
  }
}

/**
 * The file's text in chunks, pulled one at a time (the stream is paused while the consumer works), so a
 * file of any size is read in constant memory. UTF-8 characters split across chunks are joined by the
 * stream's decoder.
 */
export async function* readChunks(file: string): AsyncGenerator<string> {
  await assertReadable(file);
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as string;
  } catch (err) {
    throw new SourceError(file, `reading failed: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
}
