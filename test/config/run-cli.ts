import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/couch.js';

export interface CliResult { code: number | null; stdout: string; stderr: string }

/**
 * A home of its own for one test: HOME and PICAS_CONFIG_DIR point into a fresh temp folder, so the CLI
 * never reads or writes the real ~/.config/picas.
 */
export function tempHome(): { home: string; configDir: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), 'picas-home-'));
  const configDir = join(home, '.config', 'picas');
  return { home, configDir, env: { PATH: process.env.PATH, HOME: home, PICAS_CONFIG_DIR: configDir } };
}

/** Run `picas <args>` as a user would: a child process through tsx, with only the given environment. */
export function runPicas(args: string[], env: NodeJS.ProcessEnv, options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, options);
}

/**
 * Run `picas <args>` on a pseudo-terminal (util-linux `script`), answer the first prompt that contains
 * `waitFor` with `answer`, and return everything the terminal showed.
 */
export function runPicasOnTty(args: string[], env: NodeJS.ProcessEnv, answers: { waitFor: string; answer: string }[]): Promise<CliResult> {
  const quoted = [process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let seen = '';
  let next = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    seen += chunk.toString('utf8');
    while (next < answers.length && seen.split(answers[next]!.waitFor).length - 1 > countBefore(next)) {
      child.stdin.write(`${answers[next]!.answer}\r`);
      next++;
    }
  });
  // How many times an earlier answer's prompt text already showed, so repeated prompts are answered in turn.
  function countBefore(i: number): number {
    return answers.slice(0, i).filter((a) => a.waitFor === answers[i]!.waitFor).length;
  }
  return collect(child, { keepStdinOpen: true });
}

function collect(child: ReturnType<typeof spawn>, options: { input?: string; timeoutMs?: number; keepStdinOpen?: boolean }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  if (!options.keepStdinOpen) child.stdin!.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      resolve({ code, stdout, stderr });
    });
  });
}
