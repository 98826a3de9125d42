import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors.js';

/**
 * The admin credentials of the embedded server. `picas serve` generates them on first start and stores
 * them (mode 0600) in the config folder, so that every other command on this machine finds them and a
 * newcomer never types a password.
 */
export interface EmbeddedCredentials {
  username: string;
  password: string;
}

export function embeddedCredentialsPath(dir: string): string {
  return join(dir, 'embedded-server.json');
}

export function readEmbeddedCredentials(dir: string): EmbeddedCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(embeddedCredentialsPath(dir), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: Partial<EmbeddedCredentials> | null;
  try {
    parsed = JSON.parse(text) as Partial<EmbeddedCredentials> | null;
  } catch {
    parsed = null;
  }
  if (!parsed || typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    throw new ConfigError(`${embeddedCredentialsPath(dir)} is not a picas credentials file (delete it, and \`picas serve\` makes a new one)`);
  }
  return { username: parsed.username, password: parsed.password };
}

/** Read the stored credentials, or generate and store new ones. */
export function ensureEmbeddedCredentials(dir: string): EmbeddedCredentials {
  const existing = readEmbeddedCredentials(dir);
  if (existing) return existing;
  const creds = { username: 'admin', password: randomBytes(18).toString('base64url') };
  writeEmbeddedCredentials(dir, creds);
  return creds;
}

export function writeEmbeddedCredentials(dir: string, creds: EmbeddedCredentials): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = embeddedCredentialsPath(dir);
  writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
