import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where picas keeps its configuration: `$PICAS_CONFIG_DIR`, else `~/.config/picas`, the Python client's
 * place, so `conf.yml` and `key.dat` are shared with it. `$XDG_CONFIG_HOME` is deliberately not used: the
 * Python client ignores it, and following it would make the two tools read different files.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PICAS_CONFIG_DIR) return env.PICAS_CONFIG_DIR;
  return join(env.HOME || homedir(), '.config', 'picas');
}

/** The embedded server's defaults: used when no server is configured anywhere. */
export const EMBEDDED_DEFAULTS = {
  host: '127.0.0.1',
  port: 5984,
  dataDir: './picas-data',
  database: 'mypicasdb',
} as const;
