import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ENV_VALUE_BYTES, runCommand, scrubSecrets, tokenEnvironment } from '../../src/exec/index.js';
import { tempDir } from './proc.js';

const dir = tempDir('env');
const SECRET = 'Sup3r-s3cret-pw';

const pilotEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: '/home/someone',
  PICAS_USERNAME: 'alice',
  PICAS_PASSWORD: SECRET,
  PICAS_PASSWORD_FILE: '/home/someone/.pw',
  PICAS_ADMIN_PASSWORD: SECRET,
  PICAS_HOST_URL: `https://alice:${SECRET}@couch.example.org:6984/`,
  PICAS_TEST_COUCHDB_URL: `http://admin:${SECRET}@127.0.0.1:5984`,
  PICAS_DATABASE: 'mydb',
  PICAS_TOKEN_FIELD_STALE: 'from an outer token',
};

/** The child's environment, read back with `env -0` from a real process. */
function parseEnv0(stdout: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of stdout.toString('utf8').split('\0').filter(Boolean)) {
    const eq = entry.indexOf('=');
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

test('a command sees the token but none of picas\'s secrets', async () => {
  const token = { _id: 'token_7', type: 'token', lock: 1700000000, done: 0, input: 'env -0', cores: 4, 'sample-name': 'S 1', nested: { a: 1 } };
  const r = await runCommand({ shell: token.input, fields: token, env: pilotEnv, cwd: dir });
  assert.equal(r.exitCode, 0);
  const env = parseEnv0(r.stdout);
  assert.equal(r.stdout.toString().includes(SECRET), false, 'the password reached the command');
  assert.equal(env.PICAS_PASSWORD, undefined);
  assert.equal(env.PICAS_PASSWORD_FILE, undefined);
  assert.equal(env.PICAS_TEST_COUCHDB_URL, undefined);
  assert.equal(env.PICAS_HOST_URL, 'https://couch.example.org:6984/');
  assert.equal(env.PICAS_USERNAME, 'alice');
  assert.equal(env.PICAS_DATABASE, 'mydb');
  assert.equal(env.PICAS_TOKEN_ID, 'token_7');
  assert.equal(env.PICAS_TOKEN_INPUT, 'env -0');
  assert.equal(env.PICAS_TOKEN_FIELD_CORES, '4');
  assert.equal(env.PICAS_TOKEN_FIELD_SAMPLE_NAME, 'S 1');
  assert.equal(env.PICAS_TOKEN_FIELD_NESTED, undefined, 'objects are not scalar fields');
  assert.equal(env.PICAS_TOKEN_FIELD_LOCK, undefined, 'contract fields are not user fields');
  assert.equal(env.PICAS_TOKEN_FIELD_STALE, undefined, 'an outer token\'s variables must not leak in');
});

test('argv mode gets the same clean environment', async () => {
  const r = await runCommand({ argv: ['env', '-0'], fields: { _id: 'a/b' }, env: pilotEnv, cwd: dir });
  const env = parseEnv0(r.stdout);
  assert.equal(env.PICAS_TOKEN_ID, 'a/b');
  assert.equal(r.stdout.toString().includes(SECRET), false);
});

test('without a token the environment is still scrubbed', async () => {
  const r = await runCommand({ shell: 'env -0', env: pilotEnv, cwd: dir });
  assert.equal(r.stdout.toString().includes(SECRET), false);
});

test('scrubSecrets: URLs lose only their credentials; unparseable ones with an @ are dropped', () => {
  const out = scrubSecrets({
    PICAS_HOST_URL: 'http://u:p%40ss@127.0.0.1:5984/db',
    PICAS_OTHER_URL: 'http://127.0.0.1:5984/',
    PICAS_WEIRD: 'not a url but has user:pw@host',
    picas_password: 'lower-case is caught too',
    OTHER_PASSWORD: 'not ours: kept',
  });
  assert.deepEqual(out, {
    PICAS_HOST_URL: 'http://127.0.0.1:5984/db',
    PICAS_OTHER_URL: 'http://127.0.0.1:5984/',
    OTHER_PASSWORD: 'not ours: kept',
  });
});

test('tokenEnvironment: non-string input as JSON, values a process cannot take are left out', () => {
  const env = tokenEnvironment({ _id: 't', input: { cmd: 'x' }, huge: 'x'.repeat(MAX_ENV_VALUE_BYTES + 1), nul: 'a\0b', ok: false }, {});
  assert.equal(env.PICAS_TOKEN_INPUT, '{"cmd":"x"}');
  assert.equal(env.PICAS_TOKEN_FIELD_HUGE, undefined);
  assert.equal(env.PICAS_TOKEN_FIELD_NUL, undefined);
  assert.equal(env.PICAS_TOKEN_FIELD_OK, 'false');
});
