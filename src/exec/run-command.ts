import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { expandArgvTemplate } from './argv-template.js';
import { scrubSecrets, tokenEnvironment } from './environment.js';
import { CommandSpecError } from './errors.js';
import { groupHasLiveMembers, signalGroup, waitGroupGone } from './process-group.js';
import { TailBuffer } from './tail-buffer.js';
import type { CommandResult, RunCommandOptions } from './types.js';

export const DEFAULT_GRACE_MS = 30_000;
export const DEFAULT_MAX_LOG_BYTES = 1024 * 1024;
/** After the command exits and its group is killed, how long its pipes may take to close. */
const DRAIN_AFTER_EXIT_MS = 2_000;
/** How long to wait for killed leftovers of the group to disappear. */
const GROUP_GONE_WAIT_MS = 2_000;
/** setTimeout fires at once for delays beyond 2^31-1 ms (~24.8 days); longer limits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

/** The program and its arguments; throws CommandSpecError when the options do not describe one. */
function commandLine(opts: RunCommandOptions): { file: string; args: string[] } {
  if (opts.shell !== undefined && opts.argv !== undefined) {
    throw new CommandSpecError('give either a shell command line or an argument template, not both');
  }
  if (opts.argv !== undefined) {
    const args = expandArgvTemplate(opts.argv, opts.fields ?? {});
    return { file: args[0]!, args: args.slice(1) };
  }
  if (opts.shell === undefined || opts.shell.trim() === '') {
    throw new CommandSpecError('no command to run: the token\'s input is empty (give it a shell command line, or use an argument template)');
  }
  if (opts.shell.includes('\0')) {
    throw new CommandSpecError('the command line contains a NUL byte, which no shell can receive; fix the token\'s input');
  }
  return { file: 'bash', args: ['-c', opts.shell] };
}

function checkDuration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new CommandSpecError(`${name} must be a number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

/** Calls fn after ms (Infinity: never), also for delays setTimeout cannot hold; returns a cancel function. */
function after(ms: number, fn: () => void): () => void {
  if (ms === Infinity) return () => {};
  let timer: NodeJS.Timeout;
  const due = Date.now() + ms;
  const arm = (left: number) => {
    timer = setTimeout(() => {
      const rest = due - Date.now();
      if (rest > 0 && left > MAX_TIMER_MS) arm(rest);
      else fn();
    }, Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Run one command for a token: in its own process group (so stopping it stops its children too), with
 * stdin closed, the environment free of picas's secrets, output kept in bounded buffers, and a time limit
 * that really ends it. Resolves with the outcome whatever the command did; rejects only when the options
 * cannot describe a command (CommandSpecError) or the working directory cannot be created.
 */
export async function runCommand(opts: RunCommandOptions): Promise<CommandResult> {
  const { file, args } = commandLine(opts);
  // 0 means "no limit", as a --max-token-time 0 on a command line would.
  const timeoutMs = checkDuration('timeoutMs', opts.timeoutMs, Infinity) || Infinity;
  const graceMs = checkDuration('graceMs', opts.graceMs, DEFAULT_GRACE_MS);
  const maxLogBytes = opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
  const stdout = new TailBuffer(maxLogBytes, 'stdout');
  const stderr = new TailBuffer(maxLogBytes, 'stderr');
  const base = opts.env ?? process.env;
  const env = opts.fields ? tokenEnvironment(opts.fields, base) : scrubSecrets(base);
  for (const [dir, what] of [[opts.cwd, 'working directory'], [opts.workDir, 'token\'s work folder']] as const) {
    if (dir === undefined) continue;
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create the ${what} ${dir}: ${(err as Error).message}`);
    }
  }
  if (opts.workDir !== undefined) env.PICAS_TOKEN_WORK_DIR = opts.workDir;

  const startTime = Date.now();
  const t0 = performance.now();
  const finish = (fields: Partial<CommandResult>): CommandResult => {
    const endTime = Date.now();
    return {
      exitCode: null, signal: null, timedOut: false, aborted: false, started: true, groupKilledAfterExit: false,
      stdout: stdout.result(), stderr: stderr.result(), stdoutBytes: stdout.totalBytes, stderrBytes: stderr.totalBytes,
      startTime, endTime, durationMs: Math.max(0, performance.now() - t0), ...fields,
    };
  };
  if (opts.signal?.aborted) return finish({ aborted: true, started: false });

  const startFailure = (err: NodeJS.ErrnoException): CommandResult => {
    const message = `cannot start ${JSON.stringify(file)} in ${opts.cwd}: ${err.message}`;
    stderr.push(Buffer.from(`picas: ${message}\n`));
    return finish({ exitCode: err.code === 'ENOENT' ? 127 : 126, started: false, startError: message });
  };

  let child: ChildProcess;
  try {
    child = spawn(file, args, { cwd: opts.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return startFailure(err as NodeJS.ErrnoException); // e.g. E2BIG: arguments too long
  }
  // Told at once, before any await: the command is running from here on, and a pilot frozen a moment later
  // must already have handed its process group to the watchdog.
  if (child.pid !== undefined) opts.onStart?.(child.pid);
  child.stdout!.on('data', (chunk: Buffer) => { stdout.push(chunk); opts.onOutput?.('stdout', chunk); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr.push(chunk); opts.onOutput?.('stderr', chunk); });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const started = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.on('error', (err) => resolve(err)); // after a successful start, errors come from kill(): ignored
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const failure = await started;
  if (failure || child.pid === undefined) {
    child.stdout?.destroy();
    child.stderr?.destroy();
    return startFailure(failure ?? new Error('no process id'));
  }
  const pgid = child.pid;

  let timedOut = false;
  let aborted = false;
  let cancelKill = () => {};
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    signalGroup(pgid, 'SIGTERM');
    cancelKill = after(graceMs, () => signalGroup(pgid, 'SIGKILL'));
  };
  const cancelTimeout = after(timeoutMs, () => { timedOut = true; stop(); });
  const onAbort = () => { aborted = true; stop(); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort(); // aborted while the process was starting: the event is already past

  const { code, signal } = await exited;
  cancelTimeout();
  cancelKill();
  opts.signal?.removeEventListener('abort', onAbort);

  // The command is gone, but what it started in the background may not be: nothing of it may outlive it.
  let groupKilledAfterExit = false;
  if (groupHasLiveMembers(pgid)) {
    groupKilledAfterExit = signalGroup(pgid, 'SIGKILL');
    await waitGroupGone(pgid, GROUP_GONE_WAIT_MS);
  }
  // A process that left the group (setsid) may still hold the pipes open: stop reading after a while.
  const drained = await Promise.race([closed.then(() => true), sleep(DRAIN_AFTER_EXIT_MS).then(() => false)]);
  if (!drained) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  return finish({ exitCode: code, signal, timedOut, aborted, groupKilledAfterExit });
}
