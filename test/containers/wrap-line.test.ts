import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWrapped, shellQuote, wrappedCommandLine, wrapperFor } from '../../src/exec/wrap.js';

/** The wrapper's command line without a container engine: a plain `env` prefix shows what the wrapper gets. */
const dir = mkdtempSync(join(tmpdir(), 'picas-wrapline-'));

test('an argument template under a wrapper: each argument arrives exactly, quotes, spaces and $ untouched', async () => {
  const r = await runWrapped({
    argv: ['printf', '[%s]\\n', '{a}', "it's", '$HOME', 'two words'], fields: { _id: 't1', a: 'x"y' }, cwd: dir,
  }, 'env WRAPPED=yes');
  assert.equal(r.exitCode, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), '[x"y]\n[it\'s]\n[$HOME]\n[two words]\n');
});

test('a shell command line under a wrapper runs as bash -c <input> after the prefix, with the token\'s variables', async () => {
  const r = await runWrapped({ shell: 'echo "$WRAPPED $PICAS_TOKEN_ID"; exit 4', fields: { _id: 't2' }, cwd: dir }, 'env WRAPPED=yes');
  assert.equal(r.exitCode, 4);
  assert.equal(r.stdout.toString(), 'yes t2\n');
});

test('the prefix is read by bash: it can name the token\'s variables; each command gets a marker of its own', async () => {
  const r = await runWrapped({ shell: 'echo "$WRAPPED|$PICAS_COMMAND_ID"', fields: { _id: 't3' }, cwd: dir }, 'env WRAPPED="$PICAS_TOKEN_ID-inside"');
  const [wrapped, marker] = r.stdout.toString().trim().split('|');
  assert.equal(wrapped, 't3-inside');
  assert.match(marker!, /^[0-9a-f]{24}$/);
});

test('wrapperFor: a token\'s own wrap field wins over the run\'s; empty means none', () => {
  assert.equal(wrapperFor({ wrap: 'apptainer exec a.sif' }, 'apptainer exec b.sif'), 'apptainer exec a.sif');
  assert.equal(wrapperFor({}, 'apptainer exec b.sif'), 'apptainer exec b.sif');
  assert.equal(wrapperFor({ wrap: '  ' }, undefined), undefined);
  assert.equal(wrapperFor({ wrap: 3 }, ''), undefined);
});

test('wrappedCommandLine and shellQuote: what bash is given', () => {
  assert.equal(wrappedCommandLine('apptainer exec a.sif', { shell: "echo 'hi' $X" }), `exec apptainer exec a.sif bash -c 'echo '\\''hi'\\'' $X'`);
  assert.equal(shellQuote('plain/path-1.txt'), 'plain/path-1.txt');
  assert.equal(shellQuote(''), "''");
});

test('without a wrapper it is runCommand itself: no marker in the environment', async () => {
  const r = await runWrapped({ shell: 'echo "[${PICAS_COMMAND_ID-none}]"', fields: { _id: 't4' }, cwd: dir }, undefined);
  assert.equal(r.stdout.toString(), '[none]\n');
});
