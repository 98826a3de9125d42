/** What to run for a token, and within which limits. */
export interface RunCommandOptions {
  /** A shell command line, run with `bash -c` as the original's process_task.sh does ... */
  shell?: string;
  /**
   * ... or an argument template: each element becomes exactly one argument, `{field}` placeholders filled
   * from `fields` (e.g. ['./fractals', '-q', '{q}', '-o', '{_id}.ppm']); no shell involved. An unknown
   * placeholder is an error before anything runs. `{{` / `}}` are literal braces.
   */
  argv?: string[];
  /** The token: fills placeholders and, with tokenEnvironment, the command's environment. */
  fields?: Record<string, unknown>;
  /** Where the command runs (its current directory); created when missing. */
  cwd: string;
  /**
   * A folder of the token's own (e.g. `picas-work/slot-0/<id>`), created before the start and named to the
   * command in PICAS_TOKEN_WORK_DIR: scratch space that no other slot shares. Not where it runs, unless
   * `cwd` is the same folder.
   */
  workDir?: string;
  /** Base environment (default process.env); picas's secrets are always removed from it. */
  env?: NodeJS.ProcessEnv;
  /** maxTokenTime: then SIGTERM to the whole process group, SIGKILL after graceMs. No limit when absent or 0. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL (default 30000, as the original). */
  graceMs?: number;
  /** Bound per stream (default 1 MiB): beyond it the tail is kept, after a first line saying how much was cut. */
  maxLogBytes?: number;
  /** Aborting stops the command now, with the same SIGTERM-then-SIGKILL on its group. */
  signal?: AbortSignal;
  /** Told the command's process group id once it runs (the pilot's watchdog watches it). */
  onStart?: (pgid: number) => void;
  /** Each chunk of the command's output as it comes (a live tail while someone follows the token). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface CommandResult {
  /** Exit status, or null when a signal ended the command (see `signal`). */
  exitCode: number | null;
  /** Name of the signal that ended the command (e.g. 'SIGTERM'), or null. */
  signal: string | null;
  /** True when timeoutMs passed and the command was stopped for it. */
  timedOut: boolean;
  /** True when the AbortSignal fired before the command ended (it was stopped, or never started). */
  aborted: boolean;
  /** Output, bounded by maxLogBytes each (a tail with a note line when cut). Bytes as produced. */
  stdout: Buffer;
  stderr: Buffer;
  /** Bytes produced in total on each stream. */
  stdoutBytes: number;
  stderrBytes: number;
  /** Epoch milliseconds. */
  startTime: number;
  endTime: number;
  /** Measured on a monotonic clock. */
  durationMs: number;
  /** False when nothing ran: aborted before the start, or the program could not be started. */
  started: boolean;
  /** Set when the program could not be started at all (exitCode is then 127 or 126, like a shell's). */
  startError?: string;
  /** True when processes of the command's group were still there after it exited and had to be killed. */
  groupKilledAfterExit: boolean;
}
