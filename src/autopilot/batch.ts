import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { shellQuote } from './template.js';
import type { PilotResources } from './resources.js';

/** The array script shipped with picas (examples/slurm/picas-array.sh), from src/ and dist/ alike. */
export const DEFAULT_PILOT_SCRIPT = fileURLToPath(new URL('../../examples/slurm/picas-array.sh', import.meta.url));

/** Job states (squeue's %T and %t) that count as pending: a pilot not started yet. */
export const DEFAULT_PENDING_STATES = ['PENDING', 'PD', 'CONFIGURING', 'CF', 'REQUEUED', 'RQ'];

export interface BatchCommandResult { code: number | null; stdout: string; stderr: string }

/** Runs one command line of a template (`bash -c`), with this environment; bounded by `timeoutMs`. */
export type CommandRunner = (command: string, env: NodeJS.ProcessEnv) => Promise<BatchCommandResult>;

export const runShell = (timeoutMs = 120_000): CommandRunner => (command, env) => new Promise((resolve, reject) => {
  const child = spawn('bash', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => { child.kill('SIGKILL'); stderr += `\n(killed after ${timeoutMs / 1000} s)`; }, timeoutMs);
  child.once('error', (err) => { clearTimeout(timer); reject(err); });
  child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
});

/**
 * The default submission: one `sbatch` of an array of `count` pilots, each with the cores (one token at a
 * time: --slots 1), memory and time limit the view's tokens ask for, named so that the query finds them.
 */
export function defaultSubmitCommand(p: {
  name: string; count: number; resources: PilotResources; script: string; design: string; view: string;
  sbatchArgs?: string[]; pilotArgs?: string[];
}): string {
  const argv = [
    'sbatch', '--parsable', `--job-name=${p.name}`, `--array=0-${p.count - 1}`, `--cpus-per-task=${p.resources.cores}`,
    ...(p.resources.memory ? [`--mem=${p.resources.memory}`] : []),
    ...(p.resources.walltime ? [`--time=${p.resources.walltime}`] : []),
    ...(p.sbatchArgs ?? []),
    p.script, '--design-doc', p.design, '--view', p.view, '--slots', '1', ...(p.pilotArgs ?? []),
  ];
  return argv.map(shellQuote).join(' ');
}

/** The default query: this user's jobs of that name, array tasks one a line, as `<id> <state>`. */
export function defaultQueryCommand(name: string): string {
  return ['squeue', '--me', '--noheader', '--array', `--name=${name}`, '--format=%i %T'].map(shellQuote).join(' ');
}

export interface BatchJob { id: string; state: string; pending: boolean }

/** Lines of `<id> [<state> ...]`; a line without a state counts as a job in flight that is not pending. */
export function parseJobList(stdout: string, pendingStates: string[] = DEFAULT_PENDING_STATES): BatchJob[] {
  const pending = new Set(pendingStates.map((s) => s.toUpperCase()));
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const [id, state = ''] = line.split(/\s+/);
    return { id: id!, state, pending: pending.has(state.toUpperCase()) };
  });
}
