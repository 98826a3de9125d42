import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, type TestServer } from './couch.js';

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export const tempDir = (label: string): string => mkdtempSync(join(tmpdir(), `picas-${label}-`));

/** The environment of a picas process run as a user would: credentials in env vars, its own config folder. */
export function cliEnv(server: TestServer, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PICAS_HOST_URL: server.url,
    PICAS_USERNAME: server.username,
    PICAS_PASSWORD: server.password,
    PICAS_CONFIG_DIR: tempDir('config'),
    PICAS_DATABASE: '',
    ...extra,
  };
}

/**
 * A home of its own for one test: HOME and PICAS_CONFIG_DIR point into a fresh temp folder, so the CLI
 * never reads or writes the real ~/.config/picas; the environment holds nothing else but PATH.
 */
export function tempHome(): { home: string; configDir: string; env: NodeJS.ProcessEnv } {
  const home = tempDir('home');
  const configDir = join(home, '.config', 'picas');
  return { home, configDir, env: { PATH: process.env.PATH, HOME: home, PICAS_CONFIG_DIR: configDir } };
}

const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

/** Start `picas <args>` as a separate process (through tsx, on the sources); `input` is all its stdin. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT, input?: string): ChildProcess & { result: Promise<CliResult> } {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(child, { result });
}

/** Run `picas <args>` to its end, killed after `timeoutMs`. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, options: { timeoutMs?: number; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const child = spawnCli(args, env, options.cwd, options.input);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const r = await child.result;
    if (r.signal === 'SIGKILL') throw new Error(`picas ${args.join(' ')} did not end within ${timeoutMs} ms\n${r.stderr}`);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run `picas <command> --url <server> <rest>` against a test server, credentials from the environment
 * (never the command line), its own empty config folder; `password` overrides the server's (to test a
 * wrong one).
 */
export function runCliOn(server: TestServer, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; password?: string; cwd?: string } = {}): Promise<CliResult> {
  const env = cliEnv(server, { PICAS_HOST_URL: '', PICAS_PASSWORD: options.password ?? server.password, ...options.env });
  return runCli([args[0]!, '--url', server.url, ...args.slice(1)], env, { input: options.input ?? '', timeoutMs: options.timeoutMs, cwd: options.cwd });
}

/**
 * Run `picas <args>` on a pseudo-terminal (util-linux `script`), answer each prompt that contains
 * `waitFor` with `answer` in turn, and return everything the terminal showed.
 */
export function runCliOnTty(args: string[], env: NodeJS.ProcessEnv, answers: { waitFor: string; answer: string }[], timeoutMs = 60_000): Promise<CliResult> {
  const quoted = [process.execPath, ...CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let next = 0;
  // How many times an earlier answer's prompt text already showed, so repeated prompts are answered in turn.
  const countBefore = (i: number) => answers.slice(0, i).filter((a) => a.waitFor === answers[i]!.waitFor).length;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    while (next < answers.length && stdout.split(answers[next]!.waitFor).length - 1 > countBefore(next)) {
      child.stdin.write(`${answers[next]!.answer}\r`);
      next++;
    }
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Whether a process id is alive; a zombie (ended, not yet reaped by a frozen parent) counts as ended. */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Poll until `check` is true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}
