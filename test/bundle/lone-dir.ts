import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from '../helpers/couch.js';
import type { CliResult } from '../helpers/cli.js';

/** Build both lone files into `outDir` (npm run bundle's script). */
export function buildBundles(outDir: string, mjsOnly = false): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--out-dir', outDir, ...(mjsOnly ? ['--mjs-only'] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * A folder of tools for PATH with what a worker node has and nothing of ours: a shell and coreutils, but
 * neither `node` nor `picas` (so a build that secretly needs them fails).
 */
export function toolsWithoutNode(dir: string, extra: string[] = []): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const tool of new Set(['bash', 'sh', 'sleep', 'cat', 'echo', 'ls', 'mkdir', 'rm', 'cp', 'chmod', 'env', 'touch', 'uname', 'id', 'tar', 'gzip', 'head', 'tail', 'wc', 'grep', 'sed', 'date', 'stat', 'kill', 'ps', 'dirname', 'basename', 'printf', 'uname', 'hostname', 'sort', 'tr', 'awk', ...extra])) {
    const path = execFileSync('bash', ['-c', `command -v ${tool} || true`], { encoding: 'utf8' }).trim();
    if (path.startsWith('/')) symlinkSync(path, join(bin, tool));
  }
  return bin;
}

/** Run a command to its end (killed after `timeoutMs`), collecting its output. */
export function runIn(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> & { pid: number | undefined; kill: (sig?: NodeJS.Signals) => void } {
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
  return Object.assign(result, { pid: child.pid, kill: (sig: NodeJS.Signals = 'SIGTERM') => { child.kill(sig); } });
}

export function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, `${lines.join('\n')}\n`);
}
