import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { ConfigError } from './errors.js';
import { FernetKeyError, FernetTokenError, fernetDecrypt, fernetEncrypt, generateFernetKey, parseFernetKey, type FernetKey } from './fernet.js';

/**
 * The Python client's configuration, shared with it unchanged: `conf.yml` holds exactly the keys
 * host_url, database, username and encrypted_password; `key.dat` holds the Fernet key that encrypts the
 * password (as `Fernet.generate_key()` writes it, no newline). Directory mode 0700, key file 0600.
 */
export const CONF_KEYS = ['host_url', 'database', 'username', 'encrypted_password'] as const;
type ConfKey = (typeof CONF_KEYS)[number];

export interface ConfFile {
  path: string;
  hostUrl?: string;
  database?: string;
  username?: string;
  encryptedPassword?: string;
}

export interface ConfValues {
  hostUrl: string;
  database: string;
  username: string;
  password: string;
}

export function confFilePath(dir: string): string {
  return join(dir, 'conf.yml');
}

export function keyFilePath(dir: string): string {
  return join(dir, 'key.dat');
}

// PyYAML speaks YAML 1.1: `yes`, `on`, `no` are booleans there. Reading and writing as 1.1 makes both tools
// see the same values, and makes us quote a user name like `yes` that PyYAML would otherwise read as true.
const YAML_OPTIONS = { version: '1.1', lineWidth: 0 } as const;

/** Read conf.yml from `dir`; undefined when there is none. Throws ConfigError when it is malformed. */
export function readConfFile(dir: string): ConfFile | undefined {
  const path = confFilePath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}. Check its permissions.`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text, YAML_OPTIONS);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new ConfigError(`${path} is not valid YAML (${first}). Fix it, or write it anew with \`picas init\`.`);
  }
  if (parsed === null || parsed === undefined) {
    throw new ConfigError(`${path} is empty. Write it with \`picas init\`, or delete it.`);
  }
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${path} must be a mapping of ${CONF_KEYS.join(', ')}. Write it anew with \`picas init\`.`);
  }
  const record = parsed as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !(CONF_KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new ConfigError(`${path} has unknown key(s) ${unknown.join(', ')}; the keys are ${CONF_KEYS.join(', ')}.`);
  }
  const value = (key: ConfKey): string | undefined => {
    const v = record[key];
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'string') {
      throw new ConfigError(`${path}: ${key} must be a text value, not ${JSON.stringify(v)} (put it in quotes).`);
    }
    return v;
  };
  return {
    path,
    hostUrl: value('host_url'),
    database: value('database'),
    username: value('username'),
    encryptedPassword: value('encrypted_password'),
  };
}

/** Read the Fernet key from `dir`/key.dat. Throws ConfigError when it is missing or not a key. */
export function readKeyFile(dir: string): FernetKey {
  const path = keyFilePath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`${confFilePath(dir)} has an encrypted_password but its key file ${path} is missing. Copy key.dat from where conf.yml was written, or run \`picas init\` again.`);
    }
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}. Check its permissions.`);
  }
  try {
    return parseFernetKey(text);
  } catch (err) {
    if (err instanceof FernetKeyError) throw new ConfigError(`${path} is ${err.message}. Run \`picas init\` again to write a new key and password.`);
    throw err;
  }
}

/** Decrypt conf.yml's encrypted_password with key.dat. Throws ConfigError when the key does not fit. */
export function decryptConfPassword(dir: string, encryptedPassword: string): string {
  const key = readKeyFile(dir);
  try {
    return fernetDecrypt(key, encryptedPassword).toString('utf8');
  } catch (err) {
    if (err instanceof FernetTokenError) {
      throw new ConfigError(`cannot decrypt encrypted_password in ${confFilePath(dir)} with the key in ${keyFilePath(dir)} (${err.message}). Was key.dat replaced? Run \`picas init\` again.`);
    }
    throw err;
  }
}

/** The key in `dir`/key.dat, made (mode 0600) when there is none. An existing key is reused, as Python does. */
export function ensureKeyFile(dir: string): { key: FernetKey; created: boolean } {
  ensureConfigDir(dir);
  const path = keyFilePath(dir);
  if (existsSync(path)) return { key: readKeyFile(dir), created: false };
  const text = generateFernetKey();
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key: parseFernetKey(text), created: true };
}

/** Make the config folder (mode 0700) if it does not exist yet; an existing folder is left as it is. */
export function ensureConfigDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * conf.yml's text: the keys in PyYAML's sorted order, block style, as `yaml.safe_dump` writes them.
 * Keys without a value are left out (only when rewriting a file that lacked them).
 */
export function formatConfFile(values: { hostUrl?: string; database?: string; username?: string; encryptedPassword: string }): string {
  const doc: Record<string, string> = {};
  if (values.database !== undefined) doc.database = values.database;
  doc.encrypted_password = values.encryptedPassword;
  if (values.hostUrl !== undefined) doc.host_url = values.hostUrl;
  if (values.username !== undefined) doc.username = values.username;
  return YAML.stringify(doc, YAML_OPTIONS);
}

function replaceConfFile(dir: string, text: string): string {
  const confPath = confFilePath(dir);
  const tmp = `${confPath}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, confPath);
  return confPath;
}

/**
 * Write conf.yml and (if missing) key.dat as the Python `picas-cli init` does. The file is replaced
 * atomically, so a reader never sees half of it.
 */
export function writeConfFile(dir: string, values: ConfValues): { confPath: string; keyPath: string; keyCreated: boolean } {
  const { key, created } = ensureKeyFile(dir);
  const encryptedPassword = fernetEncrypt(key, values.password);
  const confPath = replaceConfFile(dir, formatConfFile({ ...values, encryptedPassword }));
  return { confPath, keyPath: keyFilePath(dir), keyCreated: created };
}

/** Store a new password in an existing conf.yml (after `picas passwd`), keeping its other keys and the key. */
export function rewriteConfPassword(dir: string, conf: ConfFile, password: string): string {
  const { key } = ensureKeyFile(dir);
  return replaceConfFile(dir, formatConfFile({ ...conf, encryptedPassword: fernetEncrypt(key, password) }));
}
