// What a picas process loads: the embedded server's packages (PouchDB, LevelDB, express) cost tens of MB
// of memory merely imported, so only `picas serve` and a call of startEmbeddedServer may load them; and
// the HTTP client is node:http, not undici (~22 MB more per pilot) (docs/pilot-memory.md). Checked by the
// list of loaded CommonJS modules, never by memory figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT } from '../helpers/couch.js';

const HEAVY_PACKAGES = ['pouchdb-node', 'express', 'express-pouchdb', 'leveldown', 'undici'];

/** Prelude of a child script: `loaded()` names the npm packages loaded so far (from the CommonJS cache). */
const LOADED = `
  import { createRequire } from 'node:module';
  const cache = createRequire(import.meta.url).cache;
  const loaded = () => [...new Set(Object.keys(cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\/(?!.*node_modules)/.exec(f)?.[1]).filter(Boolean))].sort();
`;

/** Run an ES module script under tsx in a child process; its last stdout line is JSON. */
function runScript(source: string, args: string[] = []): Promise<{ code: number | null; out: unknown; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source, '--', ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d; });
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(limit);
    const last = stdout.trim().split('\n').pop() ?? '';
    let out: unknown;
    try { out = JSON.parse(last); } catch { out = undefined; }
    resolve({ code, out, stdout, stderr });
  }));
}

test('picas --version loads the CLI but none of the embedded server\'s packages, nor undici', async () => {
  const r = await runScript(`${LOADED}
    process.argv = [process.argv[0], 'picas', '--version'];
    await import(${JSON.stringify(join(ROOT, 'src/cli/main.ts'))});
    console.log(JSON.stringify(loaded()));
  `);
  assert.equal(r.code, 0, r.stderr);
  const loaded = r.out as string[];
  assert.match(r.stdout, /^\d+\.\d+\.\d+/, 'the version is printed');
  assert.ok(loaded.includes('commander'), `the check sees the CLI's own packages: ${loaded.join(', ')}`);
  for (const p of HEAVY_PACKAGES) assert.ok(!loaded.includes(p), `picas --version loaded ${p}`);
});

test('the library loads the embedded server only when startEmbeddedServer is called, and it then serves', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'picas-lazy-server-'));
  try {
    const r = await runScript(`${LOADED}
      const picas = await import(${JSON.stringify(join(ROOT, 'src/index.ts'))});
      const before = loaded();
      const server = await picas.startEmbeddedServer({ dataDir: process.argv.at(-1), host: '127.0.0.1', port: 0, admin: { username: 'admin', password: 'lazy-test-pw' } });
      let welcome;
      try {
        const res = await fetch(server.url + '/');
        welcome = { status: res.status, body: await res.json() };
      } finally {
        await server.close();
      }
      console.log(JSON.stringify({ before, after: loaded(), welcome }));
    `, [dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const { before, after, welcome } = r.out as { before: string[]; after: string[]; welcome: { status: number; body: Record<string, unknown> } };
    for (const p of HEAVY_PACKAGES) assert.ok(!before.includes(p), `importing picas loaded ${p}`);
    assert.ok(after.includes('pouchdb-node'), `startEmbeddedServer loaded PouchDB: ${after.join(', ')}`);
    assert.equal(welcome.status, 200);
    assert.ok('version' in welcome.body, `the server answered with its welcome: ${JSON.stringify(welcome.body)}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
