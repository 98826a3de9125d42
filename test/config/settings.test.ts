import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { resolveSettings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/config/errors.js';
import { writeConfFile } from '../../src/config/conf-file.js';
import { generateFernetKey } from '../../src/config/fernet.js';
import { writeEmbeddedCredentials } from '../../src/config/embedded-credentials.js';
import { CONF_TOOL, pythonSkipReason, runPython } from './python.js';

const FIXTURE_DIR = new URL('./fixtures/python-conf/', import.meta.url).pathname;
const temps: string[] = [];
after(() => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'picas-config-'));
  temps.push(d);
  return d;
}

function withConf(values = { hostUrl: 'https://file.example:6984', database: 'filedb', username: 'fileuser', password: 'filepw' }): string {
  const dir = join(tempDir(), 'picas');
  writeConfFile(dir, values);
  return dir;
}

test('each field falls through option > env > conf.yml > embedded on its own', () => {
  const dir = withConf();
  const env = { PICAS_DATABASE: 'envdb', PICAS_PASSWORD: 'envpw' };
  const s = resolveSettings({ configDir: dir, env, username: 'optuser' });
  assert.equal(s.url, 'https://file.example:6984');
  assert.equal(s.database, 'envdb');
  assert.equal(s.username, 'optuser');
  assert.equal(s.password, 'envpw');
  assert.deepEqual(s.sources, { url: 'file', database: 'env', username: 'option', password: 'env' });
  assert.equal(s.embedded, false);
  assert.equal(s.confFile, join(dir, 'conf.yml'));

  const fromFile = resolveSettings({ configDir: dir, env: {} });
  assert.deepEqual([fromFile.url, fromFile.database, fromFile.username, fromFile.password], ['https://file.example:6984', 'filedb', 'fileuser', 'filepw']);
  assert.deepEqual(fromFile.sources, { url: 'file', database: 'file', username: 'file', password: 'file' });

  const fromEnv = resolveSettings({ configDir: dir, env: { PICAS_HOST_URL: 'http://env:1', PICAS_DATABASE: 'e', PICAS_USERNAME: 'eu', PICAS_PASSWORD: 'ep' } });
  assert.deepEqual([fromEnv.url, fromEnv.database, fromEnv.username, fromEnv.password], ['http://env:1', 'e', 'eu', 'ep']);

  const pwFile = join(tempDir(), 'pw');
  writeFileSync(pwFile, 'optpw\nsecond line ignored\n');
  const fromOptions = resolveSettings({ configDir: dir, env: { PICAS_HOST_URL: 'http://env:1', PICAS_PASSWORD: 'ep' }, url: 'http://opt:2', database: 'o', username: 'ou', passwordFile: pwFile });
  assert.deepEqual([fromOptions.url, fromOptions.database, fromOptions.username, fromOptions.password], ['http://opt:2', 'o', 'ou', 'optpw']);
  assert.deepEqual(fromOptions.sources, { url: 'option', database: 'option', username: 'option', password: 'option' });
});

test('with nothing configured: the embedded server and the credentials `picas serve` stored', () => {
  const dir = join(tempDir(), 'picas');
  const bare = resolveSettings({ configDir: dir, env: {} });
  assert.equal(bare.url, 'http://127.0.0.1:5984');
  assert.equal(bare.database, 'mypicasdb');
  assert.equal(bare.username, undefined);
  assert.equal(bare.embedded, true);
  writeEmbeddedCredentials(dir, { username: 'admin', password: 'stored' });
  const s = resolveSettings({ configDir: dir, env: {} });
  assert.deepEqual([s.username, s.password, s.sources.password], ['admin', 'stored', 'embedded']);
  // Credentials given the usual way win over the stored ones.
  const given = resolveSettings({ configDir: dir, env: { PICAS_USERNAME: 'me', PICAS_PASSWORD: 'mine' } });
  assert.deepEqual([given.username, given.password], ['me', 'mine']);
});

test('reads a conf.yml and key.dat written by Python (committed fixture)', () => {
  const dir = join(tempDir(), 'picas');
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  const s = resolveSettings({ configDir: dir, env: {} });
  assert.deepEqual([s.url, s.database, s.username, s.password], ['https://couch.example.org:6984', 'fractals', 'alice', 's3cret: with #yaml chars']);
});

test('live: Python (PyYAML + cryptography) reads our conf.yml, and we read its', (t) => {
  const skip = pythonSkipReason();
  if (skip) { t.skip(skip); return; }
  for (const username of ['bob', 'yes', '0123', 'on', 'name: with colon', "it's \"quoted\""]) {
    const ours = withConf({ hostUrl: 'http://127.0.0.1:5984', database: 'db-1', username, password: `pw of ${username} ü` });
    const read = runPython(CONF_TOOL, ['read', ours]);
    assert.equal(read.status, 0, read.stderr);
    const got = JSON.parse(read.stdout) as Record<string, unknown>;
    // PyYAML sees exactly the four keys (plus the password the tool decrypted), with the same values.
    assert.deepEqual(Object.keys(got).sort(), ['database', 'encrypted_password', 'host_url', 'password', 'username']);
    assert.deepEqual([got.host_url, got.database, got.username, got.password], ['http://127.0.0.1:5984', 'db-1', username, `pw of ${username} ü`]);
    const theirs = join(tempDir(), 'picas');
    const wrote = runPython(CONF_TOOL, ['write', theirs, 'https://h:6984', 'true', username], `their pw ${username}`);
    assert.equal(wrote.status, 0, wrote.stderr);
    const s = resolveSettings({ configDir: theirs, env: {} });
    assert.deepEqual([s.url, s.database, s.username, s.password], ['https://h:6984', 'true', username, `their pw ${username}`]);
  }
});

function assertConfigError(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, pattern);
    return true;
  });
}

test('a malformed conf.yml is one clear error naming the file', () => {
  const cases: [string, RegExp][] = [
    ['host_url: [unclosed\n', /conf\.yml is not valid YAML/],
    ['', /conf\.yml is empty/],
    ['- a\n- b\n', /must be a mapping/],
    ['host_url: http://x\nhosturl: http://y\n', /unknown key\(s\) hosturl/],
    ['database: 2024\n', /database must be a text value, not 2024/],
    ['username: yes\n', /username must be a text value, not true/],
  ];
  for (const [text, pattern] of cases) {
    const dir = tempDir();
    writeFileSync(join(dir, 'conf.yml'), text);
    assertConfigError(() => resolveSettings({ configDir: dir, env: {} }), pattern);
  }
});

test('a broken conf.yml is not read when options and env give every field', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'conf.yml'), ':::: not yaml [');
  const s = resolveSettings({ configDir: dir, env: { PICAS_HOST_URL: 'http://h:1', PICAS_DATABASE: 'd', PICAS_USERNAME: 'u', PICAS_PASSWORD: 'p' } });
  assert.equal(s.url, 'http://h:1');
});

test('a missing, malformed or wrong key.dat is one clear error', () => {
  const missing = withConf();
  rmSync(join(missing, 'key.dat'));
  assertConfigError(() => resolveSettings({ configDir: missing, env: {} }), /key file .*key\.dat is missing/);

  const malformed = withConf();
  writeFileSync(join(malformed, 'key.dat'), 'not a key');
  assertConfigError(() => resolveSettings({ configDir: malformed, env: {} }), /key\.dat is not a Fernet key/);

  const wrong = withConf();
  writeFileSync(join(wrong, 'key.dat'), generateFernetKey());
  assertConfigError(() => resolveSettings({ configDir: wrong, env: {} }), /cannot decrypt encrypted_password in .*conf\.yml with the key in .*key\.dat/);

  // Not needed, not decrypted: the other fields still come from the file.
  const s = resolveSettings({ configDir: missing, env: {}, needPassword: false });
  assert.equal(s.username, 'fileuser');
  assert.equal(s.password, undefined);
  assert.equal(s.sources.password, 'file');
  // A password from the environment makes key.dat irrelevant.
  assert.equal(resolveSettings({ configDir: wrong, env: { PICAS_PASSWORD: 'x' } }).password, 'x');
});

test('a missing or empty password file is one clear error', () => {
  const dir = tempDir();
  assertConfigError(() => resolveSettings({ configDir: dir, env: {}, passwordFile: join(dir, 'nope') }), /cannot read the password file .*nope: no such file/);
  writeFileSync(join(dir, 'empty'), '\n');
  assertConfigError(() => resolveSettings({ configDir: dir, env: {}, passwordFile: join(dir, 'empty') }), /password file .*empty is empty/);
});

test('a malformed embedded credentials file is one clear error', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'embedded-server.json'), '{ not json');
  assertConfigError(() => resolveSettings({ configDir: dir, env: {} }), /embedded-server\.json is not a picas credentials file/);
});
