import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CouchServer } from '../../src/couch/server.js';
import { TlsError } from '../../src/couch/errors.js';
import { runCli, tempHome } from '../helpers/cli.js';

/**
 * TLS against a real HTTPS server on loopback, with a certificate made here by `openssl`: a CA of our own,
 * and a server certificate it signed for 127.0.0.1 (subjectAltName IP:127.0.0.1). The server answers the
 * few requests a client makes to recognise CouchDB; what is under test is certificate verification.
 */
let dir: string;
let server: Server;
let url: string;
let caFile: string;
let otherCaFile: string;

function openssl(args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(name: string) {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=picas test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'picas-tls-'));
  makeCa('ca');
  makeCa('other-ca');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  caFile = join(dir, 'ca.pem');
  otherCaFile = join(dir, 'other-ca.pem');
  server = createServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) }, (req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
    };
    if (req.url === '/') return json(200, { couchdb: 'Welcome', version: '3.3.3' });
    if (req.url === '/_session') return json(200, { ok: true, userCtx: { name: null, roles: [] } });
    return json(404, { error: 'not_found', reason: 'missing' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function welcome(options: ConstructorParameters<typeof CouchServer>[0]) {
  const couch = new CouchServer(options);
  try {
    return await couch.welcome();
  } finally {
    await couch.close();
  }
}

test('verification succeeds with the CA given (tls.caFile)', async () => {
  assert.equal((await welcome({ url, tls: { caFile } })).couchdb, 'Welcome');
});

test('verification fails with a TlsError without the CA, or with another CA', async () => {
  for (const tls of [undefined, { caFile: otherCaFile }]) {
    await assert.rejects(welcome({ url, tls }), (err: unknown) => {
      assert.ok(err instanceof TlsError, `expected TlsError, got ${String(err)}`);
      assert.match(err.message, new RegExp(`GET ${url.replace(/\./g, '\\.')}/`));
      assert.match(err.code, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN/);
      return true;
    });
  }
});

test('a certificate for another name fails even with the right CA', async () => {
  // The certificate is for IP 127.0.0.1; reached as "localhost" the name does not match.
  const asLocalhost = url.replace('127.0.0.1', 'localhost');
  await assert.rejects(welcome({ url: asLocalhost, tls: { caFile } }), (err: unknown) => {
    assert.ok(err instanceof TlsError, `expected TlsError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    return true;
  });
});

test('verification off (verify: false) connects without the CA', async () => {
  assert.equal((await welcome({ url, tls: { verify: false } })).couchdb, 'Welcome');
});

test('CLI: --ca-file and PICAS_CA_FILE verify, no CA fails in one clear line, --insecure connects', async () => {
  const h = tempHome();
  try {
    const env = { ...h.env, PICAS_HOST_URL: url };
    const withCa = await runCli(['ping', '--ca-file', caFile], env);
    assert.equal(withCa.code, 0, withCa.stderr);
    assert.match(withCa.stdout, /CouchDB 3\.3\.3/);
    const withCaEnv = await runCli(['ping'], { ...env, PICAS_CA_FILE: caFile });
    assert.equal(withCaEnv.code, 0, withCaEnv.stderr);

    const without = await runCli(['ping'], env);
    assert.equal(without.code, 4, without.stderr);
    const lines = without.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, without.stderr);
    assert.match(lines[0]!, /^picas: GET https:\/\/127\.0\.0\.1:\d+\/: cannot reach the server \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    assert.match(lines[0]!, /Give the server's CA with --ca-file, or \(unsafe\) --insecure/);

    const insecure = await runCli(['ping', '--insecure'], env);
    assert.equal(insecure.code, 0, insecure.stderr);
  } finally {
    rmSync(h.home, { recursive: true, force: true });
  }
});

test('CLI: a --ca-file that does not exist is one clear line', async () => {
  const h = tempHome();
  try {
    const r = await runCli(['ping', '--ca-file', join(dir, 'no-such-ca.pem')], { ...h.env, PICAS_HOST_URL: url });
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^picas: cannot read the CA file .*no-such-ca\.pem \(--ca-file\): no such file\. Give the PEM file of the CA/);
  } finally {
    rmSync(h.home, { recursive: true, force: true });
  }
});

test('CLI: an https:// URL at a plain-HTTP port, and http:// at an HTTPS port, say which scheme the port speaks', async () => {
  const plain = createHttpServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"couchdb":"Welcome"}'); });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const plainPort = (plain.address() as AddressInfo).port;
  const h = tempHome();
  try {
    for (const command of [['ping'], ['status'], ['push', '--sweep', 'q=1,2', '--input', 'echo {q}']]) {
      const toPlain = await runCli([...command, '--url', `https://127.0.0.1:${plainPort}`], { ...h.env, PICAS_DATABASE: 'tokens' });
      assert.equal(toPlain.code, 4, toPlain.stderr);
      const line = toPlain.stderr.trimEnd();
      assert.equal(line.split('\n').length, 1, line);
      assert.match(line, new RegExp(`^picas: .*the server at https://127\\.0\\.0\\.1:${plainPort} does not speak TLS \\(https\\) at that address\\. Use http://127\\.0\\.0\\.1:${plainPort} `));
      assert.doesNotMatch(line, /--ca-file|--insecure|SSL routines/);

      const toTls = await runCli([...command, '--url', url.replace('https:', 'http:')], { ...h.env, PICAS_DATABASE: 'tokens' });
      assert.equal(toTls.code, 4, toTls.stderr);
      assert.equal(toTls.stderr.trimEnd().split('\n').length, 1, toTls.stderr);
      assert.match(toTls.stderr, new RegExp(`^picas: .*speaks TLS at that address: use ${url.replace(/\./g, '\\.')} instead\\.\\n$`));
    }
  } finally {
    plain.closeAllConnections();
    await new Promise<void>((resolve) => plain.close(() => resolve()));
    rmSync(h.home, { recursive: true, force: true });
  }
});
