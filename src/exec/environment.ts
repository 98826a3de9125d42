import { toJson } from '../couch/json.js';
/**
 * The environment a token's command runs with: the pilot's own environment minus picas's secrets, plus
 * the token's id, input and scalar fields. Commands are user code; they must never see the database
 * password, whether given directly or inside a URL.
 */

/** Variables that only hold connection secrets of picas or its tests: dropped outright. */
const SECRET_NAMES = new Set(['PICAS_PASSWORD', 'PICAS_TEST_COUCHDB_URL']);

/** True for any PICAS_* variable whose name mentions a password (PICAS_PASSWORD_FILE, PICAS_ADMIN_PASSWORD...). */
function isPasswordName(name: string): boolean {
  const upper = name.toUpperCase();
  return upper.startsWith('PICAS_') && upper.includes('PASSWORD');
}

/**
 * A URL with its user name and password removed, unchanged when it has none, or undefined when it has
 * an '@' but cannot be parsed (we cannot prove it is safe, so it goes).
 */
function withoutCredentials(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.includes('@') ? undefined : value;
  }
  if (!url.username && !url.password) return value;
  url.username = '';
  url.password = '';
  return url.toString();
}

/**
 * A copy of `env` without picas's secrets: PICAS_PASSWORD, every PICAS_*PASSWORD* variable, the test
 * server URL, and credentials embedded in PICAS_HOST_URL (or any other PICAS_* URL). PICAS_USERNAME stays:
 * a name is not a secret and scripts may log it.
 */
export function scrubSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const upper = name.toUpperCase();
    if (SECRET_NAMES.has(upper) || isPasswordName(name)) continue;
    if (upper.startsWith('PICAS_') && value.includes('@')) {
      const clean = withoutCredentials(value);
      if (clean !== undefined) out[name] = clean;
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** Fields every token has by the data contract; everything else scalar is a user field. */
const CONTRACT_FIELDS = new Set([
  'type', 'lock', 'done', 'hostname', 'scrub_count', 'input', 'exit_code', 'output', 'uploads', 'error',
  'dirac_job_id', 'wms_job_id', 'cream_job_id', 'pbs_job_id', 'slurm_job_id',
]);

/**
 * Longest value put in one variable. Linux refuses to start a program when a single environment string
 * exceeds 128 KiB (E2BIG); a field that large is data for the command to fetch, not an environment value.
 */
export const MAX_ENV_VALUE_BYTES = 64 * 1024;

/** PICAS_TOKEN_FIELD_ + the name upper-cased, every character outside A-Z0-9 turned into '_'. */
export function fieldVariableName(field: string): string {
  return `PICAS_TOKEN_FIELD_${field.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function fits(value: string): boolean {
  return !value.includes('\0') && Buffer.byteLength(value, 'utf8') <= MAX_ENV_VALUE_BYTES;
}

/**
 * The environment for a token's command: `base` without secrets and without any PICAS_TOKEN_* inherited
 * from an outer token, plus PICAS_TOKEN_ID, PICAS_TOKEN_INPUT (a string input as it is, any other input
 * as JSON) and PICAS_TOKEN_FIELD_<NAME> for each scalar user field (string, number, boolean). Fields whose
 * names map to the same variable: the first in key order wins. Values with a NUL byte or longer than
 * MAX_ENV_VALUE_BYTES are left out, since no process could be started with them.
 */
export function tokenEnvironment(token: Record<string, unknown>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = scrubSecrets(base);
  for (const name of Object.keys(env)) {
    if (name.toUpperCase().startsWith('PICAS_TOKEN_')) delete env[name];
  }
  const id = token._id;
  if (typeof id === 'string' && fits(id)) env.PICAS_TOKEN_ID = id;
  const input = token.input;
  if (input !== undefined) {
    const text = typeof input === 'string' ? input : toJson(input);
    if (fits(text)) env.PICAS_TOKEN_INPUT = text;
  }
  for (const [field, value] of Object.entries(token)) {
    if (field.startsWith('_') || CONTRACT_FIELDS.has(field)) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') continue;
    const variable = fieldVariableName(field);
    const text = String(value);
    if (variable in env || !fits(text)) continue;
    env[variable] = text;
  }
  return env;
}
