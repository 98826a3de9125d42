import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CommandSpecError, expandArgvTemplate, runCommand } from '../../src/exec/index.js';
import { tempDir } from './proc.js';

const dir = tempDir('argv');

/** The arguments a real program received: printf prints each one followed by a NUL byte. */
function receivedArgs(stdout: Buffer): string[] {
  return stdout.toString('utf8').split('\0').slice(0, -1);
}

test('a field full of shell syntax arrives as one literal argument, and nothing is interpreted', async () => {
  const cwd = join(dir, 'literal');
  const nasty = `it's "quoted" $(touch pwned) \`touch pwned2\`; touch pwned3 && echo $HOME | cat > pwned4 *`;
  const r = await runCommand({
    argv: ['printf', '%s\\0', '-q', '{q}', '{_id}.ppm', 'plain'],
    fields: { _id: 'token 1', q: nasty },
    cwd,
  });
  assert.equal(r.exitCode, 0, r.stderr.toString());
  assert.deepEqual(receivedArgs(r.stdout), ['-q', nasty, 'token 1.ppm', 'plain']);
  assert.deepEqual(readdirSync(cwd), [], 'the command created files: something was interpreted');
});

test('numbers, booleans, nested fields and braces', () => {
  const fields = { _id: 't1', q: 0.5, d: 256, flag: true, input: { m: 'x y' } };
  assert.deepEqual(
    expandArgvTemplate(['./fractals', '-q', '{q}', '-d', '{d}', '{flag}', '{input.m}', '{{literal}}', 'a{{b}}c', '{_id}-{d}'], fields),
    ['./fractals', '-q', '0.5', '-d', '256', 'true', 'x y', '{literal}', 'a{b}c', 't1-256'],
  );
  assert.deepEqual(expandArgvTemplate(['echo', '{input}'], { input: { a: [1, 2] } }), ['echo', '{"a":[1,2]}']);
});

test('an unknown placeholder is an error before anything runs', async () => {
  const cwd = join(dir, 'unknown');
  await assert.rejects(
    runCommand({ argv: ['touch', 'ran', '{nope}'], fields: { _id: 't', q: 1 }, cwd }),
    (err: unknown) => err instanceof CommandSpecError && /unknown placeholder \{nope\} in argument 2 .*fields are: _id, q/.test(err.message),
  );
  assert.equal(existsSync(join(cwd, 'ran')), false, 'the command ran despite the bad template');
  assert.throws(() => expandArgvTemplate(['echo', '{input.missing}'], { input: {} }), /unknown placeholder \{input\.missing\}/);
});

test('malformed templates and impossible values are clear errors', () => {
  assert.throws(() => expandArgvTemplate([]), /argument template is empty/);
  assert.throws(() => expandArgvTemplate(['echo', 'a}b']), /stray '\}' in argument 1/);
  assert.throws(() => expandArgvTemplate(['echo', '{open']), /unclosed or empty placeholder in argument 1/);
  assert.throws(() => expandArgvTemplate(['echo', '{}']), /unclosed or empty placeholder/);
  assert.throws(() => expandArgvTemplate(['echo', '{x}'], { x: null }), /\{x\} in argument 1 .*is null/);
  assert.throws(() => expandArgvTemplate(['echo', '{x}'], { x: 'a\0b' }), /NUL byte/);
  assert.throws(() => expandArgvTemplate(['{p}'], { p: '' }), /program name .* is empty/);
});
