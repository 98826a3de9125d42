import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServer, uniqueDbName, ROOT, type TestServer } from '../helpers/couch.js';
import { alive, waitFor } from '../helpers/cli.js';
import type { CouchServer } from '../../src/couch/server.js';
import { buildBundles, runIn, toolsWithoutNode, writeLines } from './lone-dir.js';

/**
 * The two lone-file builds of `npm run bundle`, each run as a Grid node would: copied alone into an empty
 * folder with a config written by the build itself (picas init), PATH holding a shell and coreutils but no
 * node (for the executable) and no picas, against the test server.
 */
const out = mkdtempSync(join(tmpdir(), 'picas-bundle-'));
let server: TestServer;
let couch: CouchServer;
const dbs: string[] = [];
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

before(async () => {
  buildBundles(out);
  server = await testServer();
  couch = server.client();
});
after(async () => {
  for (const name of dbs) await couch.db(name).destroy().catch(() => {});
  await couch.close();
  rmSync(out, { recursive: true, force: true });
});

interface Build { name: string; file: string; argv: (dir: string) => { cmd: string; pre: string[] }; needsNode: boolean }
const builds: Build[] = [
  { name: 'dist/picas.mjs (node >= 20, nothing installed)', file: 'picas.mjs', needsNode: true, argv: (dir) => ({ cmd: process.execPath, pre: [join(dir, 'picas.mjs')] }) },
  { name: 'dist/picas (single executable, no node)', file: 'picas', needsNode: false, argv: (dir) => ({ cmd: join(dir, 'picas'), pre: [] }) },
];

for (const build of builds) {
  describe(build.name, () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let db: string;
    const picas = (args: string[], timeoutMs?: number) => {
      const { cmd, pre } = build.argv(dir);
      return runIn(cmd, [...pre, ...args], { cwd: dir, env, timeoutMs });
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'picas-lone-'));
      copyFileSync(join(out, build.file), join(dir, build.file));
      const tools = toolsWithoutNode(mkdtempSync(join(tmpdir(), 'picas-tools-')));
      // HOME and the config folder inside the empty folder: nothing of this machine's picas setup is seen.
      env = { PATH: tools, HOME: dir, PICAS_CONFIG_DIR: join(dir, 'config') };
      db = uniqueDbName('lone');
      dbs.push(db);
      const pw = join(mkdtempSync(join(tmpdir(), 'picas-pw-')), 'pw');
      writeFileSync(pw, `${server.password}\n`, { mode: 0o600 });
      const init = await picas(['init', '--host-url', server.url, '--database', db, '--username', server.username, '--password-file', pw]);
      assert.equal(init.code, 0, init.stderr);
      rmSync(pw);
    });

    test('holds everything it needs: version, no package.json beside it, node absent from PATH', async () => {
      assert.deepEqual(readdirSync(dir).sort(), [build.file, 'config'].sort());
      const v = await picas(['--version']);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.trim(), version);
      const which = await runIn('bash', ['-c', 'command -v node picas || echo none'], { cwd: dir, env });
      assert.equal(which.stdout.trim(), 'none');
      const serve = await picas(['serve']);
      assert.equal(serve.code, 2);
      assert.match(serve.stderr, /`picas serve` is not part of this single-file build/);
    });

    test('push, run a real command, status', async () => {
      writeLines(join(dir, 'jobs.txt'), ['echo "A $PICAS_TOKEN_ID" && uname -s', 'echo B | wc -c']);
      const push = await picas(['push', 'jobs.txt']);
      assert.equal(push.code, 0, push.stderr);
      const run = await picas(['run', '--work-dir', join(dir, 'work')]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /2 done, 0 failed/);
      const status = await picas(['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.equal((JSON.parse(status.stdout) as { done: number }).done, 2);
      const listed = await picas(['status', '--tokens', '--logs', '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      const tokens = (JSON.parse(listed.stdout) as { tokens: { id: string; stdout: string }[] }).tokens;
      assert.deepEqual(tokens.map((t) => t.stdout).sort(), ['2\n', `A ${tokens.find((t) => t.stdout.startsWith('A'))!.id}\nLinux\n`].sort());
      rmSync(join(dir, 'jobs.txt'));
    });

    // The watchdog is the build itself started again (PICAS_RUN_AS_WATCHDOG=1): no node -e, no other file.
    test('a killed pilot\'s watchdog stops its command', { timeout: 90_000 }, async () => {
      const pidFile = join(dir, 'cmd.pid');
      writeLines(join(dir, 'long.txt'), [`echo $$ > '${pidFile}'; exec sleep 300`]);
      const push = await picas(['push', 'long.txt']);
      assert.equal(push.code, 0, push.stderr);
      const pilot = picas(['run', '--work-dir', join(dir, 'work'), '--grace', '2'], 60_000);
      assert.ok(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 30_000), 'the command started');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(alive(pid));
      pilot.kill('SIGKILL');
      const r = await pilot;
      assert.equal(r.signal, 'SIGKILL');
      const stopped = await waitFor(() => !alive(pid), 20_000);
      if (!stopped) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      assert.ok(stopped, `the watchdog stopped the command (pid ${pid}); pilot stderr:\n${r.stderr}`);
      rmSync(pidFile, { force: true });
    });

    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
  });
}

test('the builds are the sizes recorded by bench/bundle.ts (reported, not judged)', () => {
  for (const b of builds) console.log(`# ${b.file}: ${(statSync(join(out, b.file)).size / 1e6).toFixed(2)} MB`);
});
