import { readFileSync } from 'node:fs';
import { configDir, EMBEDDED_DEFAULTS } from './paths.js';
import { readEmbeddedCredentials } from './embedded-credentials.js';

/**
 * Where the connection settings come from, highest first: explicit options, environment variables
 * (PICAS_HOST_URL, PICAS_DATABASE, PICAS_USERNAME, PICAS_PASSWORD), the original's conf.yml, then the
 * embedded default server with the credentials `picas serve` stored.
 */
export interface SettingsInput {
  url?: string;
  database?: string;
  username?: string;
  /** A file whose first line is the password (never a plain command-line argument). */
  passwordFile?: string;
  caFile?: string;
  /** Turn TLS verification off (explicit only). */
  insecure?: boolean;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export type SettingSource = 'option' | 'env' | 'file' | 'embedded' | 'default';

export interface Settings {
  url: string;
  database: string;
  username?: string;
  password?: string;
  tls: { caFile?: string; verify: boolean };
  timeoutMs: number;
  /** True when nothing configured a server, so the embedded default is used. */
  embedded: boolean;
  sources: { url: SettingSource; database: SettingSource; username: SettingSource; password: SettingSource };
}

export function resolveSettings(input: SettingsInput = {}): Settings {
  const env = input.env ?? process.env;
  const dir = configDir(env);
  const sources = { url: 'default', database: 'default', username: 'default', password: 'default' } as Settings['sources'];
  let url = input.url; if (url) sources.url = 'option';
  if (!url && env.PICAS_HOST_URL) { url = env.PICAS_HOST_URL; sources.url = 'env'; }
  let database = input.database; if (database) sources.database = 'option';
  if (!database && env.PICAS_DATABASE) { database = env.PICAS_DATABASE; sources.database = 'env'; }
  let username = input.username; if (username) sources.username = 'option';
  if (!username && env.PICAS_USERNAME) { username = env.PICAS_USERNAME; sources.username = 'env'; }
  let password: string | undefined;
  if (input.passwordFile) { password = readFileSync(input.passwordFile, 'utf8').split(/\r?\n/)[0]; sources.password = 'option'; }
  if (password === undefined && env.PICAS_PASSWORD !== undefined) { password = env.PICAS_PASSWORD; sources.password = 'env'; }
  let embedded = false;
  if (!url) {
    embedded = true;
    url = `http://${EMBEDDED_DEFAULTS.host}:${EMBEDDED_DEFAULTS.port}`;
    sources.url = 'embedded';
    if (username === undefined && password === undefined) {
      const creds = readEmbeddedCredentials(dir);
      if (creds) { username = creds.username; password = creds.password; sources.username = sources.password = 'embedded'; }
    }
  }
  return {
    url, database: database ?? EMBEDDED_DEFAULTS.database, username, password,
    tls: { caFile: input.caFile ?? env.PICAS_CA_FILE, verify: !input.insecure },
    timeoutMs: input.timeoutMs ?? 30_000, embedded, sources,
  };
}
