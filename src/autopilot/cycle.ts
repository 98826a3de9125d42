import type { Database } from '../couch/database.js';
import { withRetry, type RetryOptions } from '../couch/retry.js';
import { countStates } from '../tokens/status.js';
import type { AutopilotView } from './config.js';
import { DEFAULT_JOB_NAME } from './config.js';
import {
  DEFAULT_PENDING_STATES, DEFAULT_PILOT_SCRIPT, defaultQueryCommand, defaultSubmitCommand, parseJobList, runShell,
  type CommandRunner,
} from './batch.js';
import { viewResources } from './resources.js';
import { fillTemplate, templatePlaceholders } from './template.js';

export interface AutopilotOptions {
  db: Database;
  views: AutopilotView[];
  /** Print what would be submitted; submit nothing (the query still runs: it only reads). */
  dryRun?: boolean;
  /** Environment of the submit and query commands (default process.env); sbatch passes it to the pilots. */
  env?: NodeJS.ProcessEnv;
  /** How commands run (default: `bash -c`, 120 s at most each). */
  run?: CommandRunner;
  log?: (line: string) => void;
  /** How long to ride out an unreachable or failing server (default withRetry's: 5 minutes). */
  retry?: RetryOptions;
}

export interface ViewReport {
  design: string;
  view: string;
  /** The job name the query looks for. */
  jobName: string;
  todo: number;
  locked: number;
  /** This view's jobs the query listed, and how many of them are pending. */
  jobs: number;
  pending: number;
  /** Pilots submitted (or, with dryRun, that would be). */
  submitted: number;
  /** The command lines run (or, with dryRun, that would be). */
  commands: string[];
  /** What the submit commands printed (job ids with sbatch --parsable). */
  jobIds: string[];
  /** Why this view submitted nothing or less than planned this cycle. */
  error?: string;
}

const firstLine = (s: string) => s.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';

/**
 * One look at every view: count its todo tokens and its own jobs in flight, and submit pilots so that
 * (a) no more than maxJobs of its jobs are pending or running, (b) pending pilots never outnumber todo
 * tokens, (c) nothing is submitted without work. A view whose query fails submits nothing (never blind).
 */
export async function autopilotCycle(options: AutopilotOptions): Promise<ViewReport[]> {
  const run = options.run ?? runShell();
  const env = options.env ?? process.env;
  const reports: ViewReport[] = [];
  for (const v of options.views) {
    const view = v.view ?? 'todo';
    const jobName = (v.jobName ?? DEFAULT_JOB_NAME).replace(/\{database\}/g, options.db.name).replace(/\{design\}/g, v.design);
    const values = { database: options.db.name, design: v.design, view, name: jobName, script: v.script ?? DEFAULT_PILOT_SCRIPT };
    const counts = await withRetry(() => countStates(options.db, v.design), options.retry);
    const todo = view === 'todo' ? counts.todo : (await withRetry(() => options.db.view(v.design, view, { limit: 0 }), options.retry)).total_rows ?? 0;
    const report: ViewReport = { design: v.design, view, jobName, todo, locked: counts.locked, jobs: 0, pending: 0, submitted: 0, commands: [], jobIds: [] };
    reports.push(report);

    const query = v.query ? fillTemplate(v.query, values, `query of ${v.design}`) : defaultQueryCommand(jobName);
    const listed = await run(query, env).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
    if (listed.code !== 0) {
      report.error = `query failed (exit ${listed.code}: ${firstLine(listed.stderr) || 'no message'}): ${query}`;
      options.log?.(`${v.design}: ${report.error}; submitting nothing`);
      continue;
    }
    const jobs = parseJobList(listed.stdout, v.pendingStates ?? DEFAULT_PENDING_STATES);
    report.jobs = jobs.length;
    report.pending = jobs.filter((j) => j.pending).length;
    const count = Math.max(0, Math.min(v.maxJobs - report.jobs, todo - report.pending));
    if (count === 0) {
      options.log?.(`${v.design}/${view}: ${todo} todo, ${report.jobs} jobs (${report.pending} pending): nothing to submit`);
      continue;
    }

    let commands: string[];
    try {
      const resources = await withRetry(() => viewResources(options.db, v.design, view, { cores: v.cores, memory: v.memory, walltime: v.walltime }), options.retry);
      if (v.submit) {
        const once = templatePlaceholders(v.submit, `submit of ${v.design}`).includes('count');
        const fill = (n: number) => fillTemplate(v.submit!, { ...values, ...resources, count: n }, `submit of ${v.design}`);
        commands = once ? [fill(count)] : Array.from({ length: count }, () => fill(1));
      } else {
        commands = [defaultSubmitCommand({ name: jobName, count, resources, script: values.script, design: v.design, view, sbatchArgs: v.sbatchArgs, pilotArgs: v.pilotArgs })];
      }
    } catch (err) {
      report.error = (err as Error).message;
      options.log?.(`${v.design}: ${report.error}; submitting nothing`);
      continue;
    }
    report.commands = commands;
    if (options.dryRun) {
      report.submitted = count;
      for (const c of commands) options.log?.(`${v.design}/${view}: would submit ${count === commands.length ? 1 : count}: ${c}`);
      continue;
    }
    for (const c of commands) {
      const r = await run(c, env).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
      if (r.code !== 0) {
        report.error = `submit failed (exit ${r.code}: ${firstLine(r.stderr) || 'no message'}): ${c}`;
        options.log?.(`${v.design}: ${report.error}`);
        break;
      }
      report.submitted += commands.length === 1 ? count : 1;
      report.jobIds.push(firstLine(r.stdout));
    }
    options.log?.(`${v.design}/${view}: ${todo} todo, ${report.jobs} jobs (${report.pending} pending): submitted ${report.submitted} pilot(s)${report.jobIds.length ? ` as ${report.jobIds.join(', ')}` : ''}`);
  }
  return reports;
}

export interface AutopilotLoopOptions extends AutopilotOptions {
  /** Repeat every this many ms; undefined: one cycle. */
  everyMs?: number;
  /** Stop the loop once no view has todo or locked tokens or jobs in flight. */
  untilEmpty?: boolean;
  /** Stop the loop (between cycles). */
  signal?: AbortSignal;
  onCycle?: (reports: ViewReport[]) => void;
}

const pause = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  if (signal?.aborted) return resolve();
  const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
  const timer = setTimeout(done, ms);
  signal?.addEventListener('abort', done, { once: true });
});

/** Cycles until told to stop: once without everyMs, else until the signal (or, with untilEmpty, no work left). */
export async function runAutopilot(options: AutopilotLoopOptions): Promise<{ cycles: number; last: ViewReport[]; stoppedBy: 'once' | 'empty' | 'signal' }> {
  let cycles = 0;
  for (;;) {
    const last = await autopilotCycle(options);
    cycles++;
    options.onCycle?.(last);
    if (options.everyMs === undefined) return { cycles, last, stoppedBy: 'once' };
    if (options.untilEmpty && last.every((r) => !r.error && r.todo === 0 && r.locked === 0 && r.jobs === 0)) return { cycles, last, stoppedBy: 'empty' };
    await pause(options.everyMs, options.signal);
    if (options.signal?.aborted) return { cycles, last, stoppedBy: 'signal' };
  }
}
