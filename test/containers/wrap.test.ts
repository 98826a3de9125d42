import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { heavySkipReason } from '../helpers/heavy.js';
import { ROOT, useTestDb } from '../helpers/couch.js';
import { alive, cliEnv, waitFor } from '../helpers/cli.js';
import { runIn } from '../bundle/lone-dir.js';
import { preparePodman, pidsWithEnv, type Podman } from './podman.js';
import { runCommand } from '../../src/exec/run-command.js';
import { runWrapped } from '../../src/exec/wrap.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';

/**
 * Commands under a wrapper, with podman as the container engine (Apptainer cannot be installed here; it
 * runs the work as a child in the command's process group, which the plain process-group stop covers).
 * Podman's client is not the container's process: these tests show the work inside the container is gone
 * after --max-token-time, SIGTERM and the watchdog, not only the client.
 */
const heavy = heavySkipReason('containers');
let podman: Podman | undefined;
let skip: string | false = heavy;
if (!skip) {
  const p = preparePodman();
  if (typeof p === 'string') skip = p;
  else { podman = p; console.log(`# podman: ${p.setup}; image ${p.image}`); }
}
if (skip) console.log(`# skipped: ${skip}`);

const ctx = useTestDb('containers');
const work = mkdtempSync(join(tmpdir(), 'picas-wrap-'));
/** The wrapper as the README documents it for podman: environment and folders passed in. */
const prefix = () => `podman run --rm --pull=never --network=none --env 'PICAS_*' -v "$PWD:$PWD" -v "$PICAS_TOKEN_WORK_DIR:$PICAS_TOKEN_WORK_DIR" -w "$PWD" --name "picas-$PICAS_COMMAND_ID" ${podman!.image}`;

after(() => {
  // Nothing of ours may be left: containers named picas-<command id> are removed, then the image.
  if (podman) {
    const names = spawnSync('podman', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8', env: { ...process.env, ...podman.env } }).stdout.split('\n').filter((n) => /^picas-[0-9a-f]{24}$/.test(n));
    if (names.length) spawnSync('podman', ['rm', '-f', '-t', '0', ...names], { env: { ...process.env, ...podman.env } });
    podman.remove();
  }
  rmSync(work, { recursive: true, force: true });
});

/** `picas <args>` from the sources in any folder (tsx loaded by absolute path, as a cwd of /tmp cannot resolve it). */
const picas = (args: string[], cwd: string) => runIn(process.execPath, ['--import', `file://${join(ROOT, 'node_modules/tsx/dist/loader.mjs')}`, join(ROOT, 'src/cli/main.ts'), ...args], {
  cwd, env: cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name, ...podman!.env }), timeoutMs: 150_000,
});

/** The host pid of the token's `sleep` inside its container (found by the token id in its environment). */
async function containerSleep(tokenId: string): Promise<number> {
  let pid: number | undefined;
  const found = await waitFor(() => {
    pid = pidsWithEnv(`PICAS_TOKEN_ID=${tokenId}`).find((p) => { try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep'; } catch { return false; } });
    return pid !== undefined;
  }, 60_000, 200);
  assert.ok(found, 'the container\'s sleep is running');
  return pid!;
}

/** A process in another PID namespace than ours: the container's, not the client's. */
const isInContainer = (pid: number): boolean => {
  try { return readlinkSync(`/proc/${pid}/ns/pid`) !== readlinkSync('/proc/self/ns/pid'); } catch { return false; }
};

test('runWrapped: the token\'s command runs inside the container with its environment and folders; output and exit code come back', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(work, 'inside-'));
  const r = await runWrapped({
    shell: 'echo "token=$PICAS_TOKEN_ID field=$PICAS_TOKEN_FIELD_COLOR pwd=$(pwd)"; ls / | tr "\\n" " "; echo; touch "$PICAS_TOKEN_WORK_DIR/made-inside"; exit 3',
    fields: { _id: 'box-1', color: 'blue' }, cwd: dir, workDir: join(dir, 'w'), env: { ...process.env, ...podman!.env }, graceMs: 2_000,
  }, prefix());
  assert.equal(r.exitCode, 3, r.stderr.toString());
  const out = r.stdout.toString();
  assert.match(out, new RegExp(`token=box-1 field=blue pwd=${dir}`));
  assert.doesNotMatch(out, /\bhome\b|\busr\b/, 'the tiny image\'s root, not the host\'s');
  assert.ok(existsSync(join(dir, 'w', 'made-inside')), 'the token\'s work folder is the same inside and out');
});

test('control: stopping only the client\'s process group (no wrapper stop) leaves the container\'s process running', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(work, 'control-'));
  const abort = new AbortController();
  const env = { ...process.env, ...podman!.env, PICAS_COMMAND_ID: 'c0ffee000000000000000000' };
  const running = runCommand({ shell: `exec ${prefix().replace('"picas-$PICAS_COMMAND_ID"', 'picas-c0ffee000000000000000000')} bash -c 'exec sleep 300'`, fields: { _id: 'control-1' }, cwd: dir, workDir: join(dir, 'w'), env, graceMs: 1_000, signal: abort.signal });
  const pid = await containerSleep('control-1');
  assert.ok(isInContainer(pid));
  abort.abort();
  await running;
  await new Promise((r) => setTimeout(r, 2_000));
  assert.ok(alive(pid), 'the client was stopped, the container\'s process was not: what the wrapper\'s stop is for');
  spawnSync('podman', ['rm', '-f', '-t', '0', 'picas-c0ffee000000000000000000'], { env });
  assert.ok(await waitFor(() => !alive(pid), 20_000));
});

test('picas run --wrap --max-token-time: the token ends in error and the container\'s process is gone', { skip, timeout: 180_000 }, async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'box-timeout', input: 'exec sleep 300' }));
  const run = picas(['run', '--wrap', prefix(), '--max-token-time', '15', '--grace', '2', '--work-dir', join(work, 'pw1')], work);
  const pid = await containerSleep('box-timeout');
  assert.ok(isInContainer(pid));
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(await waitFor(() => !alive(pid), 10_000), 'the container\'s sleep was stopped');
  const token = await ctx.db.get<Token>('box-timeout');
  assert.equal(token.lock, 99);
  assert.match(token.error.at(-1)!.message, /maxTokenTime/);
});

test('picas run --wrap, SIGTERM to the pilot: the container\'s process is gone and the token is back in todo', { skip, timeout: 180_000 }, async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'box-term', input: 'exec sleep 300' }));
  const pilot = picas(['run', '--wrap', prefix(), '--grace', '2', '--work-dir', join(work, 'pw2')], work);
  const pid = await containerSleep('box-term');
  pilot.kill('SIGTERM');
  const r = await pilot;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(await waitFor(() => !alive(pid), 10_000), 'the container\'s sleep was stopped');
  const token = await ctx.db.get<Token>('box-term');
  assert.equal(token.lock, 0);
  assert.equal(token.done, 0);
  await ctx.db.put({ ...token, lock: 99, done: 99 }); // out of the way of the next test
});

test('a token\'s own wrap field; the pilot killed: its watchdog stops the container\'s process', { skip, timeout: 180_000 }, async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'box-kill', input: 'exec sleep 300', wrap: prefix() }));
  const pilot = picas(['run', '--grace', '2', '--work-dir', join(work, 'pw3')], work);
  const pid = await containerSleep('box-kill');
  assert.ok(isInContainer(pid), 'run in a container by the token\'s own wrap field');
  pilot.kill('SIGKILL');
  await pilot;
  assert.ok(await waitFor(() => !alive(pid), 30_000), 'the watchdog stopped the container\'s sleep');
});
