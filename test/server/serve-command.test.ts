import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { ownServerSkipReason, ROOT } from '../helpers/couch.js';
import { call } from './fixture.js';

const MAIN = join(ROOT, 'src/cli/main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'picas-serve-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function envFor(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PICAS_CONFIG_DIR: join(dir, "config") };
  delete env.PICAS_USERNAME; delete env.PICAS_PASSWORD; delete env.PICAS_HOST_URL;
  return env;
}

/** Start `picas serve`, wait for the URL line on stdout. */
async function startServe(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 30 s: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).once('line', (line) => { clearTimeout(timer); resolve(line.trim()); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`picas serve exited ${code}: ${stderr}`)); });
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, url, stderr: () => stderr, exited };
}

function runServe(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
}

describe('picas serve', { skip: ownServerSkipReason() }, () => {
  it('generates admin credentials (0600), prints the URL but never the password, stops cleanly on SIGTERM', async () => {
    const dir = join(tmp, 'gen');
    const env = envFor(dir);
    const s = await startServe(['--port', '0', '--data-dir', join(dir, 'data')], env);
    const credFile = join(dir, 'config', 'embedded-server.json');
    const creds = JSON.parse(readFileSync(credFile, 'utf8'));
    assert.equal(statSync(credFile).mode & 0o777, 0o600);
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await call(s.url, 'GET', '/_session', { auth: creds })).status, 200);
    assert.equal((await call(s.url, 'GET', '/_all_dbs', { auth: null })).status, 401);
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    assert.ok(!s.stderr().includes(creds.password), 'password printed');
  });

  it('many open _changes long polls (waiting pilots) print no listener-leak warning', async () => {
    const dir = join(tmp, 'feeds');
    const s = await startServe(['--port', '0', '--data-dir', join(dir, 'data')], envFor(dir));
    try {
      const creds = JSON.parse(readFileSync(join(dir, 'config', 'embedded-server.json'), 'utf8'));
      assert.equal((await call(s.url, 'PUT', '/feeds', { auth: creds })).status, 201);
      const auth = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      // Fourteen at once, as fourteen pilots waiting with --wait hold them (Node warns past ten listeners).
      const polls = Array.from({ length: 14 }, () => fetch(`${s.url}/feeds/_changes?feed=longpoll&since=now&timeout=1500&filter=_selector`, {
        method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ selector: { lock: 0 } }),
      }).then((r) => r.status));
      assert.deepEqual(await Promise.all(polls), Array(14).fill(200));
      assert.doesNotMatch(s.stderr(), /MaxListenersExceeded|memory leak/);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('a port in use is one clear line', async () => {
    const dir = join(tmp, 'busy');
    const env = envFor(dir);
    const s = await startServe(['--port', '0', '--data-dir', join(dir, 'a')], env);
    try {
      const port = new URL(s.url).port;
      const r = runServe(['--port', port, '--data-dir', join(dir, 'b')], env);
      assert.notEqual(r.status, 0);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /already in use.*--port/);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('refuses a non-loopback address with generated credentials', () => {
    const dir = join(tmp, 'wide');
    const r = runServe(['--host', '0.0.0.0', '--port', '0', '--data-dir', join(dir, 'data')], envFor(dir));
    assert.equal(r.status, 3);
    assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0.*PICAS_USERNAME/);
  });

  it('serves HTTPS with --tls-cert/--tls-key and explicit credentials', async (t) => {
    const dir = join(tmp, 'tls');
    const key = join(tmp, 'key.pem'); const cert = join(tmp, 'cert.pem');
    const ossl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    if (ossl.status !== 0) { t.skip('openssl not available'); return; }
    const pwFile = join(tmp, 'pw.txt'); writeFileSync(pwFile, 'tls-secret\n');
    const s = await startServe(['--port', '0', '--data-dir', join(dir, 'data'), '--tls-cert', cert, '--tls-key', key, '--username', 'root', '--password-file', pwFile], envFor(dir));
    try {
      assert.match(s.url, /^https:\/\//);
      const r = await new Promise<number>((resolve, reject) => {
        import('node:https').then(({ get }) => get(`${s.url}/_session`, { ca: readFileSync(cert), auth: 'root:tls-secret' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject));
      });
      assert.equal(r, 200);
    } finally {
      s.child.kill('SIGINT');
      assert.equal(await s.exited, 0);
    }
  });
});
