import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The independent implementation the config tests compare against: Debian's python3-cryptography (and
 * PyYAML) run by /usr/bin/python3. When it is missing the live parts skip with a printed reason; the
 * committed fixtures it made are still checked.
 */
export const PYTHON = '/usr/bin/python3';
export const FERNET_TOOL = fileURLToPath(new URL('./python/fernet_tool.py', import.meta.url));
export const CONF_TOOL = fileURLToPath(new URL('./python/picas_conf_tool.py', import.meta.url));

let cached: string | false | undefined;

export function pythonSkipReason(): string | false {
  if (cached === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import cryptography, yaml'], { encoding: 'utf8' });
    cached = r.status === 0 ? false
      : `skipped: ${PYTHON} with python3-cryptography and python3-yaml is not available (apt-get install python3-cryptography python3-yaml)`;
    if (cached) console.log(`# ${cached}`);
  }
  return cached;
}

export function runPython(script: string, args: string[], input?: string | Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, [script, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
