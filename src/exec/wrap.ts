import { randomBytes } from 'node:crypto';
import { groupLives, markedGroups } from '../lease/watchdog-scan.js';
import { expandArgvTemplate } from './argv-template.js';
import { DEFAULT_GRACE_MS, runCommand } from './run-command.js';
import type { CommandResult, RunCommandOptions } from './types.js';

/**
 * Commands run under a wrapper (`picas run --wrap '<prefix>'`, or a token's `wrap` field): the prefix is put
 * before the command, as in `apptainer exec image.sif bash -c '<input>'`, so each token's work runs inside
 * a container.
 *
 * The prefix is read by bash, so it can name the token's variables (`--bind "$PICAS_TOKEN_WORK_DIR"`); the
 * command after it is passed as exact arguments: a shell command line as `bash -c <input>` (bash must be
 * in the image), an argument template as its expanded arguments, never re-split.
 *
 * Stopping: a container engine's client (podman, docker) is not the container's process: the work runs under
 * the engine's monitor, outside the command's process group, so stopping the group would leave it running.
 * Every wrapped command therefore carries a marker of its own in its environment (PICAS_COMMAND_ID), and is
 * stopped by marker as well as by group: whatever runs with the marker (the container's processes too, when
 * the wrapper passes the environment in, e.g. podman's `--env 'PICAS_*'`) gets SIGTERM, then SIGKILL after
 * the grace, and nothing marked outlives the command. The pilot's watchdog finds them by the pilot's marker
 * in the same way when the pilot itself is gone. Apptainer runs the work as a child in the same process
 * group, so the group's signals reach it anyway.
 */

/** Set in every wrapped command's environment: the marker it is stopped by. */
export const COMMAND_MARKER = 'PICAS_COMMAND_ID';

/** The token field that names a wrapper for that token alone (it takes precedence over --wrap). */
export const WRAP_FIELD = 'wrap';

/** Quote one argument for bash: single quotes, with embedded single quotes closed and escaped. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The wrapper for a token: its own `wrap` field if it is a non-empty string, else the run's. */
export function wrapperFor(token: Record<string, unknown>, runWrap: string | undefined): string | undefined {
  const own = token[WRAP_FIELD];
  if (typeof own === 'string' && own.trim() !== '') return own;
  return runWrap?.trim() ? runWrap : undefined;
}

/** The shell command line that runs `opts`' command under `prefix` (exec: the wrapper replaces the shell). */
export function wrappedCommandLine(prefix: string, opts: Pick<RunCommandOptions, 'shell' | 'argv' | 'fields'>): string {
  const inner = opts.argv !== undefined
    ? expandArgvTemplate(opts.argv, opts.fields ?? {})
    : ['bash', '-c', opts.shell ?? ''];
  return `exec ${prefix} ${inner.map(shellQuote).join(' ')}`;
}

/** Signal every process group holding `marker`; returns how many were signalled. */
function signalMarked(marker: string, signal: NodeJS.Signals): number {
  let n = 0;
  for (const pgid of markedGroups(marker)) {
    try { process.kill(-pgid, signal); n++; } catch { /* gone */ }
  }
  return n;
}

/** SIGTERM to everything marked, SIGKILL after the grace to what is left; resolves when none is left (bounded). */
async function stopMarked(marker: string, graceMs: number, limitMs = graceMs + 5_000): Promise<void> {
  const started = Date.now();
  signalMarked(marker, 'SIGTERM');
  let killed = false;
  while (Date.now() - started < limitMs) {
    const left = [...markedGroups(marker)].filter(groupLives);
    if (left.length === 0) return;
    if (!killed && Date.now() - started >= graceMs) {
      signalMarked(marker, 'SIGKILL');
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  signalMarked(marker, 'SIGKILL');
}

/**
 * runCommand, under a wrapper when `wrap` is given: the same options, outcome and guarantees, plus the
 * stop by marker described above. Without a wrapper it is runCommand itself.
 */
export async function runWrapped(opts: RunCommandOptions, wrap: string | undefined): Promise<CommandResult> {
  if (!wrap) return runCommand(opts);
  const id = randomBytes(12).toString('hex');
  const marker = `${COMMAND_MARKER}=${id}`;
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  let stopping: Promise<void> | undefined;
  const onAbort = () => { stopping ??= stopMarked(marker, graceMs); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const shell = wrappedCommandLine(wrap, opts);
    const result = await runCommand({ ...opts, argv: undefined, shell, env: { ...(opts.env ?? process.env), [COMMAND_MARKER]: id } });
    // The client has ended; work it left running (a container whose client was killed) ends with it.
    await (stopping ?? (markedGroups(marker).size > 0 ? stopMarked(marker, 0) : undefined));
    return result;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
