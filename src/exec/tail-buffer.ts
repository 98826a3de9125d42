/**
 * Keeps only the last `maxBytes` bytes of a stream while counting everything that went through it, so a
 * command that prints gigabytes costs at most `maxBytes` plus one chunk of memory. When bytes were cut,
 * the final buffer starts with one line saying how many, so a reader of the log knows it is a tail.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private held = 0;
  private total = 0;

  constructor(private readonly maxBytes: number, private readonly label: string) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`maxLogBytes must be a whole number of bytes >= 0, got ${maxBytes}`);
    }
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (chunk.length >= this.maxBytes) {
      // Copy the tail so the big chunk itself can be garbage-collected.
      this.chunks = this.maxBytes > 0 ? [Buffer.from(chunk.subarray(chunk.length - this.maxBytes))] : [];
      this.held = this.maxBytes;
      return;
    }
    this.chunks.push(chunk);
    this.held += chunk.length;
    // Drop whole chunks from the front while the rest still covers the bound.
    while (this.chunks.length > 1 && this.held - this.chunks[0]!.length >= this.maxBytes) {
      this.held -= this.chunks.shift()!.length;
    }
  }

  /** Bytes produced in total (kept or not). */
  get totalBytes(): number {
    return this.total;
  }

  /** Bytes currently held in memory; never more than maxBytes plus one chunk. */
  get heldBytes(): number {
    return this.held;
  }

  /** The kept bytes: everything if it fit, else a note line followed by exactly the last maxBytes bytes. */
  result(): Buffer {
    const joined = Buffer.concat(this.chunks, this.held);
    if (this.total <= this.maxBytes) return joined;
    const tail = joined.subarray(joined.length - this.maxBytes);
    const cut = this.total - this.maxBytes;
    const note = `[picas: ${cut} bytes cut from the start of ${this.label}; the last ${this.maxBytes} of ${this.total} bytes follow]\n`;
    return Buffer.concat([Buffer.from(note, 'utf8'), tail]);
  }
}
