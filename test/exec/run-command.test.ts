import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandSpecError, describeOutcome, runCommand } from '../../src/exec/index.js';
import { tempDir } from './proc.js';

const dir = tempDir('run');

test('exit codes 0, 1 and 42 are reported as they are', async () => {
  for (const code of [0, 1, 42]) {
    const r = await runCommand({ shell: `exit ${code}`, cwd: dir });
    assert.equal(r.exitCode, code);
    assert.equal(r.signal, null);
    assert.equal(r.timedOut, false);
    assert.equal(r.aborted, false);
    assert.equal(r.started, true);
  }
});

test('stdout and stderr are captured separately, with sizes and times', async () => {
  const before = Date.now();
  const r = await runCommand({ shell: 'echo to-out; echo to-err >&2; printf more', cwd: dir });
  assert.equal(r.stdout.toString(), 'to-out\nmore');
  assert.equal(r.stderr.toString(), 'to-err\n');
  assert.equal(r.stdoutBytes, 11);
  assert.equal(r.stderrBytes, 7);
  assert.ok(r.startTime >= before && r.endTime >= r.startTime);
  assert.ok(r.durationMs >= 0);
  assert.equal(describeOutcome(r), 'exited with code 0');
});

test('binary output is kept byte for byte', async () => {
  const r = await runCommand({ shell: "printf '\\000\\377\\200abc\\n'", cwd: dir });
  assert.deepEqual([...r.stdout], [0, 255, 128, 97, 98, 99, 10]);
});

test('beyond maxLogBytes only the tail is kept, after a line saying how much was cut', async () => {
  // 10000 lines "line-00001" .. "line-10000", 11 bytes each.
  const r = await runCommand({ shell: 'for i in $(seq -f %05g 1 10000); do echo line-$i; done; echo err >&2', cwd: dir, maxLogBytes: 110 });
  assert.equal(r.stdoutBytes, 110000);
  const text = r.stdout.toString();
  const [note, ...rest] = text.split('\n');
  assert.match(note!, /109890 bytes cut from the start of stdout/);
  assert.equal(rest.join('\n'), Array.from({ length: 10 }, (_, i) => `line-${String(9991 + i).padStart(5, '0')}`).join('\n') + '\n');
  assert.equal(r.stderr.toString(), 'err\n'); // the other stream, under the bound, is untouched
});

test('a command printing 50 MB is bounded to its tail', async () => {
  const r = await runCommand({ shell: 'head -c 50000000 /dev/zero; printf END', cwd: dir, maxLogBytes: 64 * 1024 });
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdoutBytes, 50_000_003);
  assert.ok(r.stdout.length < 64 * 1024 + 200, `kept ${r.stdout.length} bytes`);
  assert.equal(r.stdout.subarray(-3).toString(), 'END');
});

test('stdin is closed: a command reading it ends at once instead of waiting', async () => {
  const r = await runCommand({ shell: 'cat; echo after-cat', cwd: dir, timeoutMs: 20_000 });
  assert.equal(r.timedOut, false);
  assert.equal(r.stdout.toString(), 'after-cat\n');
});

test('the working directory is created and used', async () => {
  const cwd = join(dir, 'deep', 'er');
  const r = await runCommand({ shell: 'pwd; touch made-here', cwd });
  assert.equal(r.stdout.toString().trim(), cwd);
  assert.ok(existsSync(join(cwd, 'made-here')));
});

test('a program that does not exist: exit code 127 and a message, no exception', async () => {
  const r = await runCommand({ argv: ['./no-such-program-here'], cwd: dir });
  assert.equal(r.exitCode, 127);
  assert.equal(r.started, false);
  assert.match(r.startError!, /cannot start "\.\/no-such-program-here"/);
  assert.match(r.stderr.toString(), /ENOENT/);
  // In shell mode bash itself says so, with the same exit code.
  const viaShell = await runCommand({ shell: './no-such-program-here', cwd: dir });
  assert.equal(viaShell.exitCode, 127);
});

test('options that describe no command are refused before running', async () => {
  await assert.rejects(runCommand({ cwd: dir }), CommandSpecError);
  await assert.rejects(runCommand({ shell: '   ', cwd: dir }), /input is empty/);
  await assert.rejects(runCommand({ shell: 'true', argv: ['true'], cwd: dir }), /not both/);
  await assert.rejects(runCommand({ shell: 'true', cwd: dir, timeoutMs: -1 }), /timeoutMs must be/);
  await assert.rejects(runCommand({ shell: 'echo a\0b', cwd: dir }), /NUL byte/);
});

test('a working directory that cannot be created is a clear error', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  await assert.rejects(runCommand({ shell: 'true', cwd: join(file, 'sub') }), /cannot create the working directory .*a-file\/sub: ENOTDIR/);
});
