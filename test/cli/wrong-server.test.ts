import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, tempHome } from '../helpers/cli.js';
import { closedPortUrl } from '../helpers/misbehaving.js';
import { testServer, uniqueDbName } from '../helpers/couch.js';

// A new user with a wrong --url meets a web server that is not CouchDB, or an outage (nothing listening, a
// proxy's 502 page, 429). Every command that contacts the server names which one it is, in one line, exit 4.

interface Web { url: string; requests: string[]; close(): Promise<void> }

/** A real loopback HTTP server answering every request with `answer`. */
async function web(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Web> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => { requests.push(`${req.method} ${req.url}`); req.resume(); req.on('end', () => answer(req, res)); });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const page = (res: ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!DOCTYPE html><html><body><h1>${text}</h1></body></html>`);
};

let staticSite: Web;
let jsonApi: Web;
let badGateway: Web;
let busy: Web;
let closed: string;
const dir = tempDir('wrong-server');
const file = join(dir, 'jobs.txt');

before(async () => {
  writeFileSync(file, 'echo one\necho two\n');
  // A static site, as `python3 -m http.server` answers: a page for /, 404 pages, 501 for PUT and POST.
  staticSite = await web((req, res) => {
    if (req.method === 'PUT' || req.method === 'POST' || req.method === 'DELETE') return page(res, 501, 'Unsupported method');
    if (req.url === '/') return page(res, 200, 'Directory listing for /');
    return page(res, 404, 'File not found');
  });
  // A JSON API that is not CouchDB: 2xx JSON to everything, a welcome without "couchdb".
  jsonApi = await web((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}'); });
  // A proxy in front of a CouchDB that is down.
  badGateway = await web((_req, res) => page(res, 502, '502 Bad Gateway'));
  busy = await web((_req, res) => { res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' }); res.end('Too Many Requests'); });
  closed = await closedPortUrl();
});
after(async () => { for (const s of [staticSite, jsonApi, badGateway, busy]) await s?.close(); });

/** Every command that contacts the server, as a user would type it. */
const COMMANDS: string[][] = [
  ['ping'], ['status'], ['push', file], ['run', '--outage-patience', '1', '--work-dir', join(dir, 'work')], ['show', 'token_1'],
  ['export', 'done'], ['reset', 'error', '--yes'], ['delete', 'done', '--yes'], ['views'], ['users'], ['drain'],
];

async function each(url: string, check: (args: string[], r: { code: number | null; stderr: string; stdout: string }) => void): Promise<void> {
  const h = tempHome();
  const env = { ...h.env, PICAS_USERNAME: 'someone', PICAS_PASSWORD: 'some-password', PICAS_DATABASE: 'tokens' };
  // Two at a time: each is a process of its own, the machine has few cores.
  for (let i = 0; i < COMMANDS.length; i += 2) {
    await Promise.all(COMMANDS.slice(i, i + 2).map(async (args) => {
      const r = await runCli([args[0]!, '--url', url, ...args.slice(1)], env, { timeoutMs: 60_000, input: '' });
      check(args, r);
    }));
  }
}

function oneLine(args: string[], stderr: string): string {
  const lines = stderr.trimEnd().split('\n').filter((l) => !l.startsWith('warning:'));
  assert.equal(lines.length, 1, `picas ${args[0]}: expected one line, got:\n${stderr}`);
  return lines[0]!;
}

test('a static web site at --url: every command says it is not CouchDB (exit 4) and writes nothing', async () => {
  await each(staticSite.url, (args, r) => {
    assert.equal(r.code, 4, `picas ${args[0]}: ${r.stderr}`);
    assert.match(oneLine(args, r.stderr), /^picas: .*not a CouchDB server/, `picas ${args[0]}`);
    assert.doesNotMatch(r.stderr, /does not exist|not found|server_error|outage/i, `picas ${args[0]}`);
  });
  assert.deepEqual(staticSite.requests.filter((q) => q !== 'GET /'), [], 'nothing but the welcome was asked for');
});

test('a JSON API that is not CouchDB (2xx welcome without "couchdb"): not CouchDB, exit 4', async () => {
  await each(jsonApi.url, (args, r) => {
    assert.equal(r.code, 4, `picas ${args[0]}: ${r.stderr}`);
    assert.match(oneLine(args, r.stderr), /^picas: .*no "couchdb" field in the welcome.*not a CouchDB server/, `picas ${args[0]}`);
  });
});

test('a proxy\'s 502 page and a 429 are outages, not a wrong server: exit 4, said once', async () => {
  for (const [server, status] of [[badGateway, /502/], [busy, /429/]] as const) {
    await each(server.url, (args, r) => {
      assert.equal(r.code, 4, `picas ${args[0]}: ${r.stderr}`);
      const last = r.stderr.trimEnd().split('\n').at(-1)!;
      assert.match(last, /^picas: .*outage of CouchDB or of a proxy in front of it/, `picas ${args[0]}: ${r.stderr}`);
      assert.match(last, status);
      assert.doesNotMatch(r.stderr, /not a CouchDB server|does not exist/, `picas ${args[0]}`);
      // The pilot rides out an outage, saying so as it waits; every other command says it once.
      if (args[0] !== 'run') oneLine(args, r.stderr);
    });
  }
});

test('nothing listening at --url: cannot reach the server, exit 4', async () => {
  await each(closed, (args, r) => {
    assert.equal(r.code, 4, `picas ${args[0]}: ${r.stderr}`);
    const last = r.stderr.trimEnd().split('\n').at(-1)!;
    assert.match(last, /^picas: .*cannot reach the server \(ECONNREFUSED: nothing listens there\)/, `picas ${args[0]}: ${r.stderr}`);
    if (args[0] !== 'run') oneLine(args, r.stderr);
  });
});

test('a proxy that lets only database paths through (its own 403 page for /) is not taken for a wrong server', async () => {
  const server = await testServer();
  const couch = server.client();
  const db = uniqueDbName('db-only-proxy');
  await couch.db(db).create();
  const upstream = new URL(server.url);
  // `/` and server-level paths get the proxy's own page; database paths go to the real server.
  const real = createServer((req, res) => {
    if (req.url === '/' || req.url?.startsWith('/_')) return page(res, 403, 'Forbidden');
    const out = httpRequest({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(out);
  });
  await new Promise<void>((r) => real.listen(0, '127.0.0.1', r));
  try {
    const h = tempHome();
    const env = { ...h.env, PICAS_USERNAME: server.username, PICAS_PASSWORD: server.password };
    const url = `http://127.0.0.1:${(real.address() as AddressInfo).port}`;
    const push = await runCli(['push', file, '--url', url, '--database', db], env, { timeoutMs: 60_000 });
    assert.equal(push.code, 0, push.stderr);
    const status = await runCli(['status', '--json', '--url', url, '--database', db], env, { timeoutMs: 60_000 });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).todo, 2);
  } finally {
    real.closeAllConnections();
    await new Promise<void>((r) => real.close(() => r()));
    await couch.db(db).destroy().catch(() => {});
    await couch.close();
  }
});
