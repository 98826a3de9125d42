// Pilot processes for the sections, kept alive across runs so that a run's timed window holds no process
// start-up (32 tsx start-ups take tens of seconds on 2 cores). A bench child loads its modules, prints
// {"ready":true}, then for each job line on stdin works and prints {"result":...}; stdin's end ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;

const STDERR_KEEP = 4000;

export class BenchChild<J, R> {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  private waiting: { resolve: (r: R) => void; reject: (e: Error) => void } | undefined;
  private stderr = '';
  private exited: Error | undefined;

  constructor(private readonly script: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', script)], {
      cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-STDERR_KEEP); });
    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => { onReady = resolve; onFail = reject; });
    const rl = createInterface({ input: this.proc.stdout! });
    rl.on('line', (line) => {
      if (!line.startsWith('{')) return;
      let msg: { ready?: boolean; result?: R };
      try { msg = JSON.parse(line); } catch { return; }
      if (msg.ready) onReady();
      if (msg.result !== undefined && this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(msg.result);
      }
    });
    this.proc.once('exit', (code, signal) => {
      this.exited = new Error(`bench/${this.script} (pid ${this.proc.pid}) ended with ${signal ?? `exit code ${code}`}; stderr: ${this.stderr.trim().split('\n').slice(-6).join(' | ') || '(empty)'}`);
      onFail(this.exited);
      this.waiting?.reject(this.exited);
      this.waiting = undefined;
    });
  }

  get pid(): number { return this.proc.pid!; }

  /** Send one job; resolves with its result, rejects when the child dies or the time limit passes. */
  run(job: J, limitMs: number): Promise<R> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.proc.kill('SIGKILL');
        reject(new Error(`bench/${this.script} (pid ${this.pid}): no result within ${limitMs / 1000} s; killed`));
      }, limitMs);
      this.waiting = {
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.proc.stdin!.write(`${JSON.stringify(job)}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin!.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

/** P children of one script, started together and used for several runs. */
export class ChildPool<J, R> {
  readonly children: BenchChild<J, R>[];
  constructor(script: string, count: number, env: NodeJS.ProcessEnv) {
    this.children = Array.from({ length: count }, () => new BenchChild<J, R>(script, env));
  }
  async ready(): Promise<void> {
    await Promise.all(this.children.map((c) => c.ready));
  }
  /** Give every child the job at once; the time is from sending to the last result. */
  async runAll(job: (index: number) => J, limitMs: number): Promise<{ results: R[]; ms: number }> {
    const t0 = performance.now();
    const results = await Promise.all(this.children.map((c, i) => c.run(job(i), limitMs)));
    return { results, ms: performance.now() - t0 };
  }
  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => c.close()));
  }
}

/** In a child: serve jobs from stdin one at a time until stdin ends. */
export async function serveJobs<J>(handle: (job: J) => Promise<unknown>): Promise<void> {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const result = await handle(JSON.parse(line) as J);
    process.stdout.write(`${JSON.stringify({ result })}\n`);
  }
}

/** CPU seconds and peak RSS of this process, and a function giving the CPU used since this call. */
export function usageSince(): () => { cpuS: number; maxRssMb: number } {
  const start = process.cpuUsage();
  return () => {
    const cpu = process.cpuUsage(start);
    return { cpuS: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  };
}
