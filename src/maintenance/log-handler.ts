import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database, Doc } from '../couch/database.js';

/** Python logging's level names, as the original's records carry them. */
export const LOG_LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/** A log record as stored: a plain document with `type: "log"`, so the Monitor views (type "token") never see it. */
export interface LogDocument extends Doc {
  type: 'log';
  /** Epoch seconds with fractions (Python's `record.created`). */
  time: number;
  level: LogLevel;
  name: string;
  message: string;
  hostname: string;
  pid: number;
}

export interface LogHandlerOptions {
  /** Logger name recorded in every document. */
  name?: string;
  /** Records below this level are ignored. */
  level?: LogLevel;
  /** Records per `_bulk_docs`; a full batch is written at once. */
  batchSize?: number;
  /** Pending records are written at least this often (ms); 0 = only on flush()/close(). */
  flushIntervalMs?: number;
  /** At most this many records wait in memory while the database is unreachable; older ones are dropped and counted. */
  maxPending?: number;
  /** A failed write is told here (logging must never throw into the code that logs). */
  onError?: (err: Error) => void;
}

/**
 * The original's database logging handler: log records become documents in the tokens' database, so
 * pilots' logs can be read centrally. Records are batched; logging never blocks or throws; memory is bounded.
 */
export class CouchLogHandler {
  private pending: LogDocument[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly options: Required<Omit<LogHandlerOptions, 'onError'>> & Pick<LogHandlerOptions, 'onError'>;

  constructor(readonly db: Database, options: LogHandlerOptions = {}) {
    this.options = {
      name: options.name ?? 'picas', level: options.level ?? 'INFO', batchSize: options.batchSize ?? 50,
      flushIntervalMs: options.flushIntervalMs ?? 2_000, maxPending: options.maxPending ?? 10_000, onError: options.onError,
    };
    if (this.options.flushIntervalMs > 0) {
      this.timer = setInterval(() => { void this.flush(); }, this.options.flushIntervalMs);
      this.timer.unref();
    }
  }

  log(level: LogLevel, message: string, extra: Record<string, unknown> = {}): void {
    if (LOG_LEVELS[level] < LOG_LEVELS[this.options.level]) return;
    const { _id, _rev, type, ...rest } = extra;
    void _id; void _rev; void type;
    this.pending.push({
      ...rest,
      _id: `log_${randomUUID().replace(/-/g, '')}`,
      type: 'log', time: Date.now() / 1000, level, name: this.options.name, message, hostname: hostname(), pid: process.pid,
    });
    if (this.pending.length > this.options.maxPending) {
      this.dropped += this.pending.length - this.options.maxPending;
      this.pending.splice(0, this.pending.length - this.options.maxPending);
    }
    if (this.pending.length >= this.options.batchSize) void this.flush();
  }

  debug(message: string, extra?: Record<string, unknown>): void { this.log('DEBUG', message, extra); }
  info(message: string, extra?: Record<string, unknown>): void { this.log('INFO', message, extra); }
  warning(message: string, extra?: Record<string, unknown>): void { this.log('WARNING', message, extra); }
  error(message: string, extra?: Record<string, unknown>): void { this.log('ERROR', message, extra); }

  /** Write what is pending. Resolves when written (or failed and reported); records that failed stay pending. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeBatches());
    return this.writing;
  }

  /** Flush and stop the timer. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async writeBatches(): Promise<void> {
    if (this.dropped > 0) {
      const n = this.dropped;
      this.dropped = 0;
      this.log('WARNING', `${n} log records were dropped while the database could not be written`);
    }
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.options.batchSize);
      try {
        const results = await this.db.bulkDocs(batch);
        const failed = results.filter((r) => r.error);
        if (failed.length) this.options.onError?.(new Error(`${failed.length} log records refused: ${failed[0]!.error} ${failed[0]!.reason ?? ''}`.trim()));
      } catch (err) {
        this.options.onError?.(err as Error);
        return; // keep them pending for the next flush
      }
      this.pending.splice(0, batch.length);
    }
  }
}
