import type { PushProgress } from './push.js';

export interface ProgressReporter {
  update(p: PushProgress): void;
  done(p: PushProgress): void;
}

/**
 * Progress of a push on stderr: a bar redrawn in place on a terminal, plain lines (at most one every few
 * seconds) when stderr is a file or pipe, so logs of batch jobs stay readable.
 */
export function progressReporter(total: number, stream: NodeJS.WriteStream = process.stderr, options: { quiet?: boolean; intervalMs?: number } = {}): ProgressReporter {
  const tty = Boolean(stream.isTTY);
  const interval = options.intervalMs ?? (tty ? 100 : 5_000);
  let last = 0;
  const describe = (p: PushProgress) =>
    `${p.sent}/${total} tokens: ${p.added} added${p.existing ? `, ${p.existing} already there` : ''}${p.failed ? `, ${p.failed} failed` : ''}`;
  const bar = (p: PushProgress) => {
    const width = 30;
    const filled = total > 0 ? Math.round((p.sent / total) * width) : width;
    return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${describe(p)}`;
  };
  return {
    update(p) {
      if (options.quiet) return;
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      if (tty) stream.write(`\r${bar(p)}\x1b[K`);
      else stream.write(`pushed ${describe(p)}\n`);
    },
    done(p) {
      if (options.quiet) return;
      if (tty) stream.write(`\r${bar(p)}\x1b[K\n`);
    },
  };
}
