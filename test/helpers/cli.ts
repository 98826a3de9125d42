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

/** Start `picas <args>` as a separate process (through tsx, on the sources). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): ChildProcess & { result: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
export async function runCli(args: string[], env: NodeJS.ProcessEnv, options: { timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const child = spawnCli(args, env, options.cwd);
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
