import { duration } from './format.js';

export interface RunSummaryOptions {
  /** Where lines go (the pilot's stderr). */
  stream?: NodeJS.WriteStream;
  /** True on a terminal: one summary line redrawn in place. Default: the stream's isTTY. */
  tty?: boolean;
  /** On a terminal: also print the per-token lines (`picas run -v`). */
  verbose?: boolean;
  /** Not on a terminal: a summary line this often (default a minute). */
  intervalMs?: number;
}

/** A per-token line of the run loop: `<id>: done`, `<id>: exit code 3`, `<id>: error: ...`. */
const PER_TOKEN = /^(.*): (done|exit code -?\d+( \(reset for another try\))?|error: .*)$/;

/**
 * What `picas run` shows while it works. On a terminal: one live line (done, failed, running, rate),
 * redrawn in place, with other messages printed above it, and the per-token lines only with `-v`. Not on a
 * terminal (a batch job's log file): every line as it comes, one per token, plus a summary line every
 * minute, so a long log still says how far the pilot got.
 */
export class RunSummary {
  private done = 0;
  private failed = 0;
  private running = new Set<string>();
  private readonly started = Date.now();
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private lastDraw = 0;

  constructor(private readonly options: RunSummaryOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.timer = setInterval(() => (this.tty ? this.draw(true) : this.stream.write(`summary: ${this.text()}\n`)), this.tty ? 1_000 : options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  /** The summary as text: `12 done, 1 failed, 3 running, 8.4 tokens/min, 1m 30s`. */
  text(): string {
    const minutes = (Date.now() - this.started) / 60_000;
    const rate = minutes > 0 ? (this.done + this.failed) / minutes : 0;
    return `${this.done} done, ${this.failed} failed, ${this.running.size} running, ${rate < 10 ? rate.toFixed(1) : Math.round(rate)} tokens/min, ${duration((Date.now() - this.started) / 1000)}`;
  }

  tokenStarted(id: string): void {
    this.running.add(id);
    this.draw();
  }

  tokenEnded(id: string, outcome: 'done' | 'failed' | 'other'): void {
    this.running.delete(id);
    if (outcome === 'done') this.done++;
    else if (outcome === 'failed') this.failed++;
    this.draw();
  }

  /** A message of the pilot: above the live line on a terminal (per-token ones only with -v), as is otherwise. */
  log(line: string): void {
    if (!this.tty) { this.stream.write(`${line}\n`); return; }
    if (!this.options.verbose && PER_TOKEN.test(line)) { this.draw(); return; }
    this.stream.write(`${this.drawn ? '\r\x1b[K' : ''}${line}\n`);
    this.drawn = false;
    this.draw(true);
  }

  private draw(force = false): void {
    if (!this.tty) return;
    // Redrawn at most five times a second, however fast tokens finish.
    if (!force && Date.now() - this.lastDraw < 200) return;
    this.lastDraw = Date.now();
    this.stream.write(`\r\x1b[K${this.text()}`);
    this.drawn = true;
  }

  /** The end: the live line stays as the last state; nothing more is drawn. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && this.drawn) {
      this.stream.write(`\r\x1b[K${this.text()}\n`);
      this.drawn = false;
    }
  }
}

/** How a token left a slot, for the summary: done, failed (error, or scrubbed for another try), or neither. */
export function outcomeOf(token: { lock?: unknown; done?: unknown; exit_code?: unknown; type?: unknown }): 'done' | 'failed' | 'other' {
  const code = token.exit_code;
  const failed = code !== '' && code !== undefined && code !== null && Number(code) !== 0;
  if (Number(token.done) > 0) return failed ? 'failed' : 'done';
  // Scrubbed: back to todo with its failing exit code kept; put back unfinished (interrupted, lost): neither.
  return Number(token.lock) === 0 && failed ? 'failed' : 'other';
}
