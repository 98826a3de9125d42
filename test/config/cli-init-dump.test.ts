import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { CONF_TOOL, PYTHON, pythonSkipReason, runPython } from './python.js';
import { runCli, runCliOnTty, tempHome } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';

const FIXTURE_DIR = new URL('./fixtures/python-conf/', import.meta.url).pathname;
const homes: string[] = [];
after(() => { for (const h of homes) rmSync(h, { recursive: true, force: true }); });
function home() { const h = tempHome(); homes.push(h.home); return h; }

/** One clear line on stderr, nothing else (no stack trace). */
function assertOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, /^picas: /);
  assert.match(lines[0]!, pattern);
}

const mode = (p: string) => statSync(p).mode & 0o777;

test('init writes conf.yml with exactly the four keys, key.dat 0600 in a 0700 folder', async () => {
  const h = home();
  const r = await runCli(['init', '--host-url', 'https://couch.example.org:6984', '--database', 'fractals', '--username', 'alice'],
    { ...h.env, PICAS_PASSWORD: 'pw from env' });
  assert.equal(r.code, 0, r.stderr);
  const conf = YAML.parse(readFileSync(join(h.configDir, 'conf.yml'), 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.keys(conf), ['database', 'encrypted_password', 'host_url', 'username']);
  assert.deepEqual([conf.host_url, conf.database, conf.username], ['https://couch.example.org:6984', 'fractals', 'alice']);
  assert.match(conf.encrypted_password!, /^gAAAAA[A-Za-z0-9_-]+=*$/);
  assert.equal(mode(h.configDir), 0o700);
  assert.equal(mode(join(h.configDir, 'key.dat')), 0o600);
  assert.match(readFileSync(join(h.configDir, 'key.dat'), 'utf8'), /^[A-Za-z0-9_-]{43}=$/);
  assert.doesNotMatch(readFileSync(join(h.configDir, 'conf.yml'), 'utf8'), /pw from env/);
  // picas reads it back (dump-config) ...
  const dumped = await runCli(['dump-config', '--show-password'], h.env);
  assert.equal(dumped.code, 0, dumped.stderr);
  assert.match(dumped.stdout, /^PICAS_PASSWORD = "pw from env"$/m);
});

test('init defaults, --password-file, and an existing key (one Python wrote) is reused', async (t) => {
  const h = home();
  mkdirSync(join(h.home, '.config'), { recursive: true });
  cpSync(FIXTURE_DIR, h.configDir, { recursive: true });
  const pythonKey = readFileSync(join(h.configDir, 'key.dat'), 'utf8');
  const pwFile = join(h.home, 'pw.txt');
  writeFileSync(pwFile, 'from a file\n');
  const r = await runCli(['init', '--username', 'carol', '--password-file', pwFile], h.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /the existing key/);
  assert.equal(readFileSync(join(h.configDir, 'key.dat'), 'utf8'), pythonKey);
  const conf = YAML.parse(readFileSync(join(h.configDir, 'conf.yml'), 'utf8')) as Record<string, string>;
  assert.deepEqual([conf.host_url, conf.database, conf.username], ['http://localhost:5984', 'mypicasdb', 'carol']);
  const skip = pythonSkipReason();
  if (skip) { t.diagnostic(skip); return; }
  const read = runPython(CONF_TOOL, ['read', h.configDir]);
  assert.equal(read.status, 0, read.stderr);
  assert.equal(JSON.parse(read.stdout).password, 'from a file');
});

test('init asks for the password on a terminal without echoing it', async (t) => {
  if (spawnSync('script', ['--version']).status !== 0) { t.skip('skipped: util-linux `script` (for a pseudo-terminal) is not installed'); return; }
  const h = home();
  const secret = 'no-echo-Secret-42';
  const r = await runCliOnTty(['init', '--username', 'dave', '--database', 'ttydb'], h.env, [{ waitFor: "enter the CouchDB password for the account 'dave'", answer: secret }]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /enter the CouchDB password/);
  assert.ok(!r.stdout.includes(secret), `the terminal showed the password:\n${r.stdout}`);
  const dumped = await runCli(['dump-config', '--show-password'], h.env);
  assert.match(dumped.stdout, new RegExp(`^PICAS_PASSWORD = "${secret}"$`, 'm'));
});

test('init: bad inputs are one clear line each', async () => {
  const h = home();
  const noUser = await runCli(['init'], { ...h.env, PICAS_PASSWORD: 'x' });
  assert.equal(noUser.code, 2);
  assertOneLine(noUser.stderr, /needs a user name: give --username/);
  const noFile = await runCli(['init', '--username', 'u', '--password-file', join(h.home, 'missing.txt')], h.env);
  assert.equal(noFile.code, 3);
  assertOneLine(noFile.stderr, /cannot read the password file .*missing\.txt: no such file/);
  const noTty = await runCli(['init', '--username', 'u'], h.env);
  assert.equal(noTty.code, 3);
  assertOneLine(noTty.stderr, /cannot ask for the password: not a terminal\. Give it with --password-file <file> or .*PICAS_PASSWORD/);
  const badUrl = await runCli(['init', '--username', 'u', '--host-url', 'couch dot org'], { ...h.env, PICAS_PASSWORD: 'x' });
  assert.equal(badUrl.code, 2);
  assertOneLine(badUrl.stderr, /--host-url "couch dot org" is not a URL/);
  const brokenKey = home();
  mkdirSync(brokenKey.configDir, { recursive: true });
  writeFileSync(join(brokenKey.configDir, 'key.dat'), 'garbage');
  const r = await runCli(['init', '--username', 'u'], { ...brokenKey.env, PICAS_PASSWORD: 'x' });
  assert.equal(r.code, 3);
  assertOneLine(r.stderr, /key\.dat is not a Fernet key/);
});

test('dump-config prints picasconfig.py from a Python-written conf.yml; Python reads the output', async (t) => {
  const skip = pythonSkipReason();
  if (skip) { t.skip(skip); return; }
  const h = home();
  mkdirSync(join(h.home, '.config'));
  const wrote = runPython(CONF_TOOL, ['write', h.configDir, 'https://py.example:6984', 'pydb', 'erin'], 'py "pw" \\ ü');
  assert.equal(wrote.status, 0, wrote.stderr);
  const hidden = await runCli(['dump-config'], h.env);
  assert.equal(hidden.code, 0, hidden.stderr);
  assert.ok(!hidden.stdout.includes('py "pw"'), hidden.stdout);
  assert.match(hidden.stdout, /^PICAS_PASSWORD = "<hidden: run picas dump-config --show-password/m);
  const shown = await runCli(['dump-config', '--show-password'], h.env);
  const py = spawnSync(PYTHON, ['-c', 'import json,sys; ns={}; exec(sys.stdin.read(), ns); print(json.dumps([ns[k] for k in ("PICAS_HOST_URL","PICAS_DATABASE","PICAS_USERNAME","PICAS_PASSWORD")]))'],
    { input: shown.stdout, encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.deepEqual(JSON.parse(py.stdout), ['https://py.example:6984', 'pydb', 'erin', 'py "pw" \\ ü']);
});

test('dump-config shows the resolved settings: env and options over conf.yml', async () => {
  const h = home();
  assert.equal((await runCli(['init', '--username', 'frank', '--database', 'filedb'], { ...h.env, PICAS_PASSWORD: 'filepw' })).code, 0);
  const r = await runCli(['dump-config', '--show-password', '--database', 'optdb'], { ...h.env, PICAS_HOST_URL: 'https://env.example:6984', PICAS_PASSWORD: 'envpw' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PICAS_HOST_URL = "https:\/\/env\.example:6984"$/m);
  assert.match(r.stdout, /^PICAS_DATABASE = "optdb"$/m);
  assert.match(r.stdout, /^PICAS_USERNAME = "frank"$/m);
  assert.match(r.stdout, /^PICAS_PASSWORD = "envpw"$/m);
  assert.match(r.stdout, /host from env, database from option, username from conf\.yml, password from env/);
  const out = join(h.home, 'picasconfig.py');
  const toFile = await runCli(['dump-config', '--show-password', '-o', out], h.env);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(mode(out), 0o600);
  assert.match(readFileSync(out, 'utf8'), /^PICAS_PASSWORD = "filepw"$/m);
});

test('dump-config: missing key.dat matters only with --show-password; malformed conf.yml is one line', async () => {
  const h = home();
  assert.equal((await runCli(['init', '--username', 'gina'], { ...h.env, PICAS_PASSWORD: 'pw' })).code, 0);
  rmSync(join(h.configDir, 'key.dat'));
  const hidden = await runCli(['dump-config'], h.env);
  assert.equal(hidden.code, 0, hidden.stderr);
  assert.match(hidden.stdout, /^PICAS_USERNAME = "gina"$/m);
  const shown = await runCli(['dump-config', '--show-password'], h.env);
  assert.equal(shown.code, 3);
  assertOneLine(shown.stderr, /key file .*key\.dat is missing/);
  writeFileSync(join(h.configDir, 'conf.yml'), 'host_url: "unclosed\n');
  const malformed = await runCli(['dump-config'], h.env);
  assert.equal(malformed.code, 3);
  assertOneLine(malformed.stderr, /conf\.yml is not valid YAML/);
});

test('dump-config never shows a password given inside the URL unless asked', async () => {
  const h = home();
  const env = { ...h.env, PICAS_HOST_URL: 'https://hank:url%20secret@couch.example.org:6984' };
  const hidden = await runCli(['dump-config'], env);
  assert.equal(hidden.code, 0, hidden.stderr);
  assert.ok(!hidden.stdout.includes('secret'), hidden.stdout);
  assert.match(hidden.stdout, /^PICAS_HOST_URL = "https:\/\/couch\.example\.org:6984"$/m);
  assert.match(hidden.stdout, /^PICAS_USERNAME = "hank"$/m);
  const shown = await runCli(['dump-config', '--show-password'], env);
  assert.match(shown.stdout, /^PICAS_PASSWORD = "url secret"$/m);
});
