import type { Response } from 'express';
import type { Database, Doc } from '../couch/database.js';
import { sleep } from '../couch/backoff.js';
import { CONTROL_DOC_ID } from '../lease/heartbeat.js';
import { farmStatus, type FarmStatus } from '../status/farm-status.js';
import { cleanupPilots } from '../status/pilots.js';
import { ThroughputChart, type Throughput } from './throughput.js';

export interface DashboardStatus extends FarmStatus {
  throughput?: Throughput;
  /** All pilots were asked to drain (the database's control document). */
  drainRequested: boolean;
  user: string;
}

/**
 * Keeps one status for everyone watching with the same rights, and tells their pages when it changes:
 * it waits on the database's `_changes` feed (one long-poll open at a time, `limit=1`, nothing read per
 * change), and after a change refreshes the status with its bounded reads at most once per
 * `minIntervalMs`. Each refresh starts by noting the database's sequence, and the next wait starts from
 * there, so a change during a refresh is never missed and a burst of changes costs one refresh.
 */
export class StatusWatcher {
  private clients = new Set<Response>();
  private stopped = new AbortController();
  private loop: Promise<void> | undefined;
  private lastRefresh = 0;
  private lastChart = 0;
  private readonly chartReader = new ThroughputChart();
  private lastCleanup = 0;
  latest: DashboardStatus | undefined;
  refreshes = 0;
  lastError: string | undefined;

  constructor(private readonly db: Database, private readonly user: string, private readonly options: { design?: string; minIntervalMs?: number; retentionSeconds?: number; log?: (line: string) => void } = {}) {}

  /** The status now (refreshing it first when none was read yet). */
  async current(): Promise<DashboardStatus> {
    if (!this.latest) await this.refresh();
    return this.latest!;
  }

  addClient(res: Response): void {
    this.clients.add(res);
    if (this.latest) this.send(res, 'status', this.latest);
    this.loop ??= this.run();
  }

  removeClient(res: Response): void {
    this.clients.delete(res);
  }

  get clientCount(): number { return this.clients.size; }

  private send(res: Response, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  async refresh(): Promise<void> {
    this.lastRefresh = Date.now();
    const [status, control] = await Promise.all([
      farmStatus(this.db, { design: this.options.design, errors: 8 }),
      this.db.find<Doc & { drain?: boolean }>(CONTROL_DOC_ID).catch(() => undefined),
    ]);
    // Stopped pilots' heartbeats are cleaned up after the retention (hourly at most; needs write rights).
    if (Date.now() - this.lastCleanup > 3600_000) {
      this.lastCleanup = Date.now();
      void cleanupPilots(this.db, status.time, this.options.retentionSeconds).catch(() => undefined);
    }
    // The chart read last (readChart), kept until the next one arrives.
    this.latest = { ...status, throughput: this.latest?.throughput, drainRequested: Boolean(control?.drain), user: this.user };
    this.refreshes++;
    for (const res of this.clients) this.send(res, 'status', this.latest);
    // The chart reads the finish times since its last read (the first time up to an hour of them,
    // bounded: on a busy farm 20,000 view rows, 1.6 s for the first status of a dashboard at a million
    // tokens on the embedded server when it came first), at most every 5 s, and after the status is out:
    // the counts, pilots and errors must not wait for it. Pages get the chart with the next status event.
    if (Date.now() - this.lastChart > 5_000 && !this.charting) {
      this.lastChart = Date.now();
      this.charting = this.readChart(status.time, !status.index.catchingUp).finally(() => { this.charting = undefined; });
    }
  }

  /** The chart read in progress, if any. */
  charting: Promise<void> | undefined;

  private async readChart(nowSeconds: number, indexCurrent: boolean): Promise<void> {
    const chart = await this.chartReader.read(this.db, nowSeconds, { indexCurrent }).catch(() => undefined);
    if (!chart || this.stopped.signal.aborted || !this.latest) return;
    this.latest = { ...this.latest, throughput: chart };
    for (const res of this.clients) this.send(res, 'status', this.latest);
  }

  private async run(): Promise<void> {
    const signal = this.stopped.signal;
    let since: unknown = 'now';
    let failures = 0;
    while (!signal.aborted && this.clients.size > 0) {
      try {
        const wait = this.lastRefresh + (this.options.minIntervalMs ?? 1_000) - Date.now();
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) break;
        since = (await this.db.info()).update_seq;
        await this.refresh();
        this.lastError = undefined;
        failures = 0;
        // Wait for the next change (or 25 s, to refresh pilot ages and heartbeats' expiry anyway).
        await this.db.changes({ feed: 'longpoll', since, limit: 1, timeout: 25_000 });
      } catch (err) {
        if (signal.aborted) break;
        this.lastError = (err as Error).message;
        for (const res of this.clients) this.send(res, 'problem', { message: this.lastError });
        this.options.log?.(`dashboard refresh failed: ${this.lastError}`);
        await sleep(Math.min(30_000, 1_000 * 2 ** failures++), signal);
      }
    }
    this.loop = undefined;
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
