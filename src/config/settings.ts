import { accessSync, constants, readFileSync } from 'node:fs';
import { configDir, EMBEDDED_DEFAULTS } from './paths.js';
import { readEmbeddedCredentials } from './embedded-credentials.js';
import { decryptConfPassword, readConfFile, type ConfFile } from './conf-file.js';
import { ConfigError } from './errors.js';

/**
 * Where the connection settings come from, highest first: explicit options, environment variables
 * (PICAS_HOST_URL, PICAS_DATABASE, PICAS_USERNAME, PICAS_PASSWORD), the original's conf.yml (password
 * decrypted with key.dat), then the embedded default server with the credentials `picas serve` stored.
 * Each field resolves on its own. A password never comes from a plain command-line argument.
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
  /** The folder of conf.yml, key.dat and the embedded credentials (default: configDir(env)). */
  configDir?: string;
  /**
   * False to leave conf.yml's password encrypted (e.g. `picas dump-config` without --show-password), so
   * a missing key.dat does not stop a command that does not need the password.
   */
  needPassword?: boolean;
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
  /** The folder conf.yml and key.dat were looked for in. */
  configDir: string;
  /** conf.yml's path when it exists and was read. */
  confFile?: string;
}

/** The first line of a password file (a trailing newline is not part of the password). */
export function readPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(`cannot read the password file ${file}: ${why}. Give a readable file whose first line is the password.`);
  }
  const first = text.split(/\r?\n/)[0]!;
  if (first === '') throw new ConfigError(`the password file ${file} is empty: its first line must be the password.`);
  return first;
}

/** A CA file that cannot be read is a configuration error, told before any connection is tried. */
function checkCaFile(file: string | undefined, from: string): string | undefined {
  if (file === undefined) return undefined;
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(`cannot read the CA file ${file} (${from}): ${why}. Give the PEM file of the CA that signed the server's certificate.`);
  }
  return file;
}

export function resolveSettings(input: SettingsInput = {}): Settings {
  const env = input.env ?? process.env;
  const dir = input.configDir ?? configDir(env);
  const sources: Settings['sources'] = { url: 'default', database: 'default', username: 'default', password: 'default' };
  const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

  let url = nonEmpty(input.url); if (url) sources.url = 'option';
  if (!url && nonEmpty(env.PICAS_HOST_URL)) { url = env.PICAS_HOST_URL; sources.url = 'env'; }
  let database = nonEmpty(input.database); if (database) sources.database = 'option';
  if (!database && nonEmpty(env.PICAS_DATABASE)) { database = env.PICAS_DATABASE; sources.database = 'env'; }
  let username = nonEmpty(input.username); if (username) sources.username = 'option';
  if (!username && nonEmpty(env.PICAS_USERNAME)) { username = env.PICAS_USERNAME; sources.username = 'env'; }
  let password: string | undefined;
  if (input.passwordFile) { password = readPasswordFile(input.passwordFile); sources.password = 'option'; }
  if (password === undefined && env.PICAS_PASSWORD !== undefined) { password = env.PICAS_PASSWORD; sources.password = 'env'; }

  // conf.yml is read only when some field is still open, so a broken file does not stop a fully explicit call.
  let conf: ConfFile | undefined;
  if (!url || !database || !username || password === undefined) {
    conf = readConfFile(dir);
    if (conf) {
      if (!url && conf.hostUrl) { url = conf.hostUrl; sources.url = 'file'; }
      if (!database && conf.database) { database = conf.database; sources.database = 'file'; }
      if (!username && conf.username) { username = conf.username; sources.username = 'file'; }
      if (password === undefined && conf.encryptedPassword) {
        sources.password = 'file';
        if (input.needPassword !== false) password = decryptConfPassword(dir, conf.encryptedPassword);
      }
    }
  }

  let embedded = false;
  if (!url) {
    embedded = true;
    url = `http://${EMBEDDED_DEFAULTS.host}:${EMBEDDED_DEFAULTS.port}`;
    sources.url = 'embedded';
    if (username === undefined && password === undefined && sources.password === 'default') {
      const creds = readEmbeddedCredentials(dir);
      if (creds) { username = creds.username; password = creds.password; sources.username = sources.password = 'embedded'; }
    }
  }
  return {
    url, database: database ?? EMBEDDED_DEFAULTS.database, username, password,
    tls: {
      caFile: nonEmpty(input.caFile) !== undefined ? checkCaFile(input.caFile, '--ca-file') : checkCaFile(nonEmpty(env.PICAS_CA_FILE), 'PICAS_CA_FILE'),
      verify: !input.insecure,
    },
    timeoutMs: input.timeoutMs ?? 30_000, embedded, sources,
    configDir: dir,
    ...(conf ? { confFile: conf.path } : {}),
  };
}
