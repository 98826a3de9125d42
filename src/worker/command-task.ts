import { hostname } from 'node:os';
import { removeEmptyWorkDir, slotWorkDir } from '../exec/index.js';
import { runWrapped, wrapperFor } from '../exec/wrap.js';
import type { ClaimedToken } from '../claim/claim.js';
import type { PilotHooks, TaskContext, TaskOutcome } from './run-pilot.js';

export interface CommandTaskOptions {
  /** An argv template (`['./fractals', '-q', '{q}']`): no shell. Without it the token's `input` runs in bash. */
  argv?: string[];
  /** Parent folder of the tokens' work folders (`<workRoot>/slot-<n>/<id>`, PICAS_TOKEN_WORK_DIR). */
  workRoot: string;
  /** Where commands run: default the folder the pilot was started in (relative paths resolve from there). */
  runDir?: string;
  /** Run each command inside its token's work folder instead (commands that write fixed file names). */
  runInWorkDir?: boolean;
  /** Keep even empty work folders (a work folder holding files is always kept). */
  keepWorkDirs?: boolean;
  maxLogBytes?: number;
  /** Grace between SIGTERM and SIGKILL when a command is stopped. */
  graceMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Run each command under this prefix (e.g. `apptainer exec image.sif`); a token's `wrap` field overrides it (exec/wrap.ts). */
  wrap?: string;
}

/**
 * The standard task: run the token's command (its `input` through a shell, as the original's
 * process_task.sh, or an argv template) in the folder the pilot was started in, with a work folder of
 * its own named in PICAS_TOKEN_WORK_DIR, and report exit code, times, host and bounded logs.
 */
export function commandTask(options: CommandTaskOptions): PilotHooks['processTask'] {
  // Where the pilot was started, as the original runs `bash -c "$INPUT"` there (docs/tokens.md).
  const runDir = options.runDir ?? process.cwd();
  return async (token: ClaimedToken, ctx: TaskContext): Promise<TaskOutcome> => {
    if (!options.argv && typeof token.input !== 'string') {
      return {
        exitCode: -1,
        failure: { message: `token ${token._id} has no command to run: its "input" is ${token.input === undefined ? 'missing' : `${Array.isArray(token.input) ? 'a list' : typeof token.input === 'object' ? 'an object' : `a ${typeof token.input}`}, not a string`} (give an argv template to picas run, or make input a command line)` },
      };
    }
    const workDir = slotWorkDir(options.workRoot, ctx.slot, token._id);
    const cwd = options.runInWorkDir ? workDir : runDir;
    let startedGroup: number | undefined;
    try {
      const result = await runWrapped({
        ...(options.argv ? { argv: options.argv } : { shell: token.input as string }),
        fields: token,
        cwd,
        workDir,
        // runCommand adds the token's variables and removes picas's secrets; the lease keeper's marker lets
        // the watchdog find the command from its first instant.
        env: { ...(options.env ?? process.env), ...ctx.commandStarting?.() },
        signal: ctx.signal,
        graceMs: options.graceMs,
        maxLogBytes: options.maxLogBytes,
        onStart: (pgid) => { startedGroup = pgid; ctx.commandStarted?.(pgid); },
        onOutput: ctx.onOutput,
      }, wrapperFor(token, options.wrap));
      const fields = {
        start_time: Math.floor(result.startTime / 1000),
        end_time: Math.floor(result.endTime / 1000),
        run_time: Math.round(result.durationMs) / 1000,
        exec_host: hostname(),
      };
      const logs = { stdout: result.stdout, stderr: result.stderr };
      if (result.aborted || result.timedOut) {
        return { exitCode: result.exitCode ?? -1, fields, logs, failure: { message: `command stopped (${result.signal ?? 'killed'}) before it ended` } };
      }
      if (result.exitCode === null) {
        return { exitCode: -1, fields, logs, failure: { message: `command killed by signal ${result.signal}` }, endedBySignal: (result.signal ?? undefined) as NodeJS.Signals | undefined };
      }
      // A shell whose child was killed by a signal exits with 128 + its number.
      return { exitCode: result.exitCode, fields, logs, ...(result.exitCode === 143 ? { endedBySignal: 'SIGTERM' as const } : {}) };
    } finally {
      if (startedGroup !== undefined) ctx.commandEnded?.(startedGroup);
      // Nothing a command made is deleted: only a work folder it left empty goes.
      if (!options.keepWorkDirs) await removeEmptyWorkDir(workDir, options.workRoot).catch(() => false);
    }
  };
}
