import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { CouchServer } from '../../src/couch/server.js';
import type { Database } from '../../src/couch/database.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

export interface TestServer {
  /** Base URL without credentials. */
  url: string;
  username: string;
  password: string;
  /** True when this test run started the server itself (false with PICAS_TEST_COUCHDB_URL). */
  owned: boolean;
  /** Base URL with credentials, for child processes. */
  authUrl: string;
  client(): CouchServer;
}

/** Start a real embedded server in a child process on a free loopback port; resolves with its URL. */
export async function spawnEmbeddedServer(options: { dataDir?: string; username?: string; password?: string } = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'picas-test-data-'));
  const username = options.username ?? 'admin';
  const password = options.password ?? randomBytes(12).toString('hex');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/serve-child.ts'), dataDir, username, password], {
    stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT,
  });
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      rl.close();
      // Let the test process end on its own: the server is killed in the exit handler or by stop().
      (child.stdout as any)?.unref?.();
      child.unref();
      resolve(JSON.parse(line).url);
    });
    child.once('exit', (code) => reject(new Error(`test server exited with ${code}`)));
  });
  return {
    url, username, password, dataDir, child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
      }
    },
  };
}

let shared: Promise<TestServer> | undefined;

/** The server this test file uses: PICAS_TEST_COUCHDB_URL if set, else an embedded one started here. */
export function testServer(): Promise<TestServer> {
  shared ??= (async () => {
    const given = process.env.PICAS_TEST_COUCHDB_URL;
    if (given) {
      const u = new URL(given);
      const username = decodeURIComponent(u.username);
      const password = decodeURIComponent(u.password);
      u.username = ''; u.password = '';
      const url = u.toString().replace(/\/$/, '');
      return { url, username, password, owned: false, authUrl: given.replace(/\/$/, ''), client: () => new CouchServer({ url, username, password }) };
    }
    const s = await spawnEmbeddedServer();
    // Not an after() hook: this runs inside whichever hook first asked, and node:test would end it there.
    process.once('exit', () => { s.child.kill('SIGKILL'); rmSync(s.dataDir, { recursive: true, force: true }); });
    const u = new URL(s.url); u.username = s.username; u.password = s.password;
    return {
      url: s.url, username: s.username, password: s.password, owned: true, authUrl: u.toString().replace(/\/$/, ''),
      client: () => new CouchServer({ url: s.url, username: s.username, password: s.password }),
    };
  })();
  return shared;
}

/** A unique database name for one test. */
export function uniqueDbName(label: string): string {
  return `picas-test-${label.toLowerCase().replace(/[^a-z0-9]/g, '-')}-${randomBytes(4).toString('hex')}`;
}

/**
 * Registers before/after hooks that create a fresh database on the test server and delete it afterwards.
 * Read `.db`, `.server` and `.couch` inside tests.
 */
export function useTestDb(label: string) {
  const ctx = {} as { db: Database; couch: CouchServer; server: TestServer };
  before(async () => {
    ctx.server = await testServer();
    ctx.couch = ctx.server.client();
    ctx.db = ctx.couch.db(uniqueDbName(label));
    await ctx.db.create();
  });
  after(async () => {
    try { await ctx.db?.destroy(); } catch { /* already gone */ }
    // Databases a test made beside it (`<name>-1`, `<name>-twice`) and did not remove, because it failed
    // half-way: an external CouchDB is somebody's server, and a run leaves nothing on it.
    if (ctx.db) {
      const left = await ctx.couch.allDbs().catch(() => [] as string[]);
      for (const name of left.filter((n) => n.startsWith(`${ctx.db.name}-`))) {
        try { await ctx.couch.db(name).destroy(); } catch { /* already gone */ }
      }
    }
    await ctx.couch?.close();
  });
  return ctx;
}

/** For tests that must own their server: a reason to skip when running against an external CouchDB. */
export function ownServerSkipReason(): string | false {
  if (!process.env.PICAS_TEST_COUCHDB_URL) return false;
  const reason = 'skipped: needs its own server, and PICAS_TEST_COUCHDB_URL points at an external one';
  console.log(`# ${reason}`);
  return reason;
}
