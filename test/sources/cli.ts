import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, type TestServer } from '../helpers/couch.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh temporary folder. */
export const tempDir = (label: string): string => mkdtempSync(join(tmpdir(), `picas-${label}-`));

/**
 * Run `picas <args>` as users do: a separate node process on the real CLI, credentials from the
 * environment (never the command line), its own empty config folder. Bounded by `timeoutMs`.
 */
export function runCli(server: TestServer, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; password?: string; cwd?: string } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PICAS_USERNAME: server.username,
    PICAS_PASSWORD: options.password ?? server.password,
    PICAS_CONFIG_DIR: tempDir('config'),
    PICAS_HOST_URL: '',
    PICAS_DATABASE: '',
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), args[0]!, '--url', server.url, ...args.slice(1)], {
      cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`picas ${args.join(' ')} took longer than ${options.timeoutMs ?? 60_000} ms\n${stderr}`)); }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(options.input ?? '');
  });
}
