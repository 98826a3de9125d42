import type { PushProgress } from './push.js';

export interface ProgressReporter {
  update(p: PushProgress): void;
  done(p: PushProgress): void;
}

export interface ProgressLine {
  /** `done` of `total` so far; `detail` is added after the counts. */
  update(done: number, detail?: string): void;
  /** The end: the bar's last state stays on screen (terminal) or one last line (otherwise). */
  finish(done: number, detail?: string): void;
}

const BAR_WIDTH = 30;

/**
 * Progress of a long operation (push, reset, delete, export) on stderr: a bar redrawn in place on a
 * terminal, plain lines (at most one every few seconds) when stderr is a file or pipe, so the logs of batch
 * jobs stay readable. `total` may be unknown (undefined): then counts without a bar.
 */
export function progressLine(verb: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr, options: { quiet?: boolean; intervalMs?: number; tty?: boolean } = {}): ProgressLine {
  const tty = options.tty ?? Boolean(stream.isTTY);
  const interval = options.intervalMs ?? (tty ? 100 : 5_000);
  const started = Date.now();
  // In a log file the first plain line waits one interval: an operation that ends sooner prints only its
  // summary (a 3-token push printed a progress line and then the same counts again).
  let last = tty ? 0 : started;
  let drawn = false;
  const text = (done: number, detail?: string) => {
    const counts = total !== undefined ? `${done}/${total} tokens` : `${done} tokens`;
    const secs = (Date.now() - started) / 1000;
    return `${verb ? `${verb} ` : ''}${counts}${detail ? `: ${detail}` : ''}${secs >= 1 ? ` (${Math.round(done / secs)}/s)` : ''}`;
  };
  const bar = (done: number) => {
    if (total === undefined || total <= 0) return '';
    const filled = Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
    return `[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] `;
  };
  return {
    update(done, detail) {
      if (options.quiet) return;
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      if (tty) { stream.write(`\r${bar(done)}${text(done, detail)}\x1b[K`); drawn = true; }
      else stream.write(`${text(done, detail)}\n`);
    },
    finish(done, detail) {
      if (options.quiet) return;
      if (tty) { if (drawn || done > 0) stream.write(`\r${bar(done)}${text(done, detail)}\x1b[K\n`); }
      else if (Date.now() - started >= interval) stream.write(`${text(done, detail)}\n`);
    },
  };
}

/** Progress of a push: `progressLine` with the push's counts (added, already there, failed). */
export function progressReporter(total: number, stream: NodeJS.WriteStream = process.stderr, options: { quiet?: boolean; intervalMs?: number } = {}): ProgressReporter {
  const tty = Boolean(stream.isTTY);
  const line = progressLine(tty ? '' : 'pushed', total, stream, options);
  const detail = (p: PushProgress) => `${p.added} added${p.existing ? `, ${p.existing} already there` : ''}${p.failed ? `, ${p.failed} failed` : ''}`;
  return {
    update(p) { line.update(p.sent, detail(p)); },
    done(p) { if (tty) line.finish(p.sent, detail(p)); },
  };
}
