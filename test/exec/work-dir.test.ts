import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { MAX_SAFE_NAME_BYTES, freshDir, safeFileName, slotWorkDir } from '../../src/exec/index.js';
import { tempDir } from './proc.js';

const dir = tempDir('workdir');

/** What every safe name must be, whatever the id. */
function assertSafe(name: string, id: string): void {
  const where = `safeFileName(${JSON.stringify(id.slice(0, 40))}) = ${JSON.stringify(name)}`;
  assert.ok(name.length > 0, where);
  assert.ok(Buffer.byteLength(name) <= MAX_SAFE_NAME_BYTES, where);
  assert.ok(!/[/\\\0]/.test(name), where);
  assert.ok(name !== '.' && name !== '..' && !name.startsWith('.') && !name.startsWith('-'), where);
  assert.equal(basename(name), name, where);
}

test('ordinary ids are kept as they are', () => {
  for (const id of ['token_1', 'task_0f3a9c', 'run-2024.01.05', 'a=b,c@d+e']) assert.equal(safeFileName(id), id);
});

test('hostile and odd ids become safe names', () => {
  const cases = ['../x', '/etc/x', 'a\u0000b', 'x'.repeat(300), '.', '..', '', '-rf', '.hidden', 'a\\b', '../../../etc/passwd', 'ümlaut ✓', 'a b'];
  for (const id of cases) {
    const name = safeFileName(id);
    assertSafe(name, id);
    // Inside a directory it stays inside: no '..' escape.
    assert.equal(dirname(join(dir, name)), dir, `${JSON.stringify(id)} escapes`);
  }
  assert.equal(safeFileName('x'.repeat(300)).length, MAX_SAFE_NAME_BYTES);
  // A 4-byte character repeated: the bound is in bytes, not characters.
  assertSafe(safeFileName('😀'.repeat(100)), '😀 x100');
});

test('distinct ids stay distinct, also when their cleaned forms would coincide', () => {
  const ids = ['a/b', 'a\\b', 'a_b', 'a b', 'a\u0000b', '.', '..', '_', '', '../x', '__x', '.x', '-x', '_x',
    'x'.repeat(300), 'x'.repeat(301), `${'x'.repeat(250)}y`, `${'x'.repeat(250)}z`];
  const names = ids.map(safeFileName);
  assert.equal(new Set(names).size, ids.length, JSON.stringify(names));
  // Deterministic: the same id always gives the same name.
  assert.deepEqual(ids.map(safeFileName), names);
});

test('each slot and token gets its own directory inside the base directory', () => {
  const a = slotWorkDir(dir, 0, 'token_1');
  const b = slotWorkDir(dir, 1, 'token_1');
  const c = slotWorkDir(dir, 0, 'token_2');
  const evil = slotWorkDir(dir, 0, '../../etc');
  assert.equal(new Set([a, b, c, evil]).size, 4);
  for (const d of [a, b, c, evil]) {
    const rel = relative(dir, d);
    assert.ok(!rel.startsWith('..') && rel.split('/').length === 2, `${d} not in its slot under ${dir}`);
  }
  assert.throws(() => slotWorkDir(dir, -1, 't'), /slot must be a whole number/);
  assert.throws(() => slotWorkDir(dir, 1.5, 't'), /slot must be a whole number/);
});

test('freshDir empties what an earlier attempt left', async () => {
  const d = slotWorkDir(dir, 3, 'token_9');
  await freshDir(d);
  writeFileSync(join(d, 'old-output'), 'x');
  await freshDir(d);
  assert.ok(existsSync(d));
  assert.deepEqual(readdirSync(d), []);
});
