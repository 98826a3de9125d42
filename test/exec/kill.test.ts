import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeOutcome, runCommand } from '../../src/exec/index.js';
import { cleanup, isAlive, readPids, tempDir } from './proc.js';

const dir = tempDir('kill');

/** Wait (bounded) until `file` lists `count` pids. */
async function waitForPids(file: string, count: number): Promise<number[]> {
  for (let i = 0; i < 500; i++) {
    if (existsSync(file) && readPids(file).length >= count) return readPids(file);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${file} never listed ${count} pids`);
}

test('the time limit stops the whole process tree, grandchildren and TERM-ignoring ones included', async (t) => {
  const cwd = join(dir, 'tree');
  const script = [
    'sleep 300 & echo $! >> pids',
    // a child shell with two grandchildren of its own
    "bash -c 'sleep 300 & echo $! >> pids; sleep 300 & echo $! >> pids; wait' & echo $! >> pids",
    // one that ignores SIGTERM: only the SIGKILL gets it
    '( trap "" TERM; exec sleep 300 ) & echo $! >> pids',
    'wait',
  ].join('\n');
  let pids: number[] = [];
  t.after(() => cleanup(pids));
  const r = await runCommand({ shell: script, cwd, timeoutMs: 1500, graceMs: 300 });
  pids = readPids(join(cwd, 'pids'));
  assert.equal(pids.length, 5, `expected 5 pids to have been started before the limit, got ${pids.length}`);
  assert.equal(r.timedOut, true);
  assert.equal(r.aborted, false);
  assert.equal(r.exitCode, null);
  assert.equal(r.signal, 'SIGTERM');
  assert.deepEqual(pids.filter(isAlive), [], 'processes left alive');
  assert.match(describeOutcome(r, 1500), /exceeded the time limit of 1\.5 s \(maxTokenTime\) and was stopped with SIGTERM/);
});

test('a command that ignores SIGTERM gets SIGKILL after the grace period', async (t) => {
  const cwd = join(dir, 'stubborn');
  let pids: number[] = [];
  t.after(() => cleanup(pids));
  const r = await runCommand({ shell: "trap '' TERM; echo $$ > pids; sleep 300 & echo $! >> pids; wait; wait", cwd, timeoutMs: 500, graceMs: 300 });
  pids = readPids(join(cwd, 'pids'));
  assert.equal(pids.length, 2);
  assert.equal(r.timedOut, true);
  assert.equal(r.signal, 'SIGKILL');
  assert.deepEqual(pids.filter(isAlive), []);
});

test('aborting stops the command and its children now', async (t) => {
  const cwd = join(dir, 'abort');
  const controller = new AbortController();
  let pids: number[] = [];
  t.after(() => cleanup(pids));
  const running = runCommand({ shell: 'echo $$ > pids; sleep 300 & echo $! >> pids; wait', cwd, signal: controller.signal, timeoutMs: 60_000, graceMs: 300 });
  pids = await waitForPids(join(cwd, 'pids'), 2);
  controller.abort();
  const r = await running;
  assert.equal(r.aborted, true);
  assert.equal(r.timedOut, false);
  assert.equal(r.started, true);
  assert.equal(r.signal, 'SIGTERM');
  assert.deepEqual(pids.filter(isAlive), []);
  assert.match(describeOutcome(r), /stopped because the pilot was stopping, with SIGTERM/);
});

test('an AbortSignal that already fired: nothing runs', async () => {
  const cwd = join(dir, 'pre-abort');
  const r = await runCommand({ shell: 'touch ran', cwd, signal: AbortSignal.abort() });
  assert.equal(r.aborted, true);
  assert.equal(r.started, false);
  assert.equal(existsSync(join(cwd, 'ran')), false);
  assert.equal(describeOutcome(r), 'not started: the pilot was stopping');
});

test('background processes left behind by a finished command are killed', async (t) => {
  const cwd = join(dir, 'leftover');
  let pids: number[] = [];
  t.after(() => cleanup(pids));
  // One keeps our stdout pipe open, one does not: neither may survive the command.
  const r = await runCommand({ shell: 'sleep 300 & echo $! >> pids; sleep 300 >/dev/null 2>&1 & echo $! >> pids; echo bye; exit 3', cwd });
  pids = readPids(join(cwd, 'pids'));
  assert.equal(r.exitCode, 3);
  assert.equal(r.stdout.toString(), 'bye\n');
  assert.equal(r.groupKilledAfterExit, true);
  assert.deepEqual(pids.filter(isAlive), []);
});

test('a process that left the group (setsid) and holds the pipes does not keep runCommand waiting', async (t) => {
  const cwd = join(dir, 'escaped');
  let pids: number[] = [];
  t.after(() => cleanup(pids));
  // The escaped process writes its pid once it has its own session; the command waits for that, then ends.
  const script = "setsid bash -c 'echo $$ >> pids; exec sleep 60' & for i in $(seq 200); do [ -s pids ] && break; sleep 0.05; done; echo started";
  const r = await runCommand({ shell: script, cwd });
  pids = readPids(join(cwd, 'pids'));
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout.toString(), 'started\n');
  // Known limit, stated in the README: a process that makes its own session is out of picas's reach.
  assert.deepEqual(pids.filter(isAlive), pids);
});

test('a time limit longer than a timer can hold does not fire at once', async () => {
  const r = await runCommand({ shell: 'sleep 0.2; echo done', cwd: join(dir, 'long'), timeoutMs: 30 * 24 * 3600 * 1000 });
  assert.equal(r.timedOut, false);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout.toString(), 'done\n');
});

test('a time limit of 0 means no limit', async () => {
  const r = await runCommand({ shell: 'sleep 0.2; echo done', cwd: join(dir, 'zero'), timeoutMs: 0 });
  assert.equal(r.timedOut, false);
  assert.equal(r.stdout.toString(), 'done\n');
});
