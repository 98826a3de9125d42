import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailBuffer } from '../../src/exec/index.js';

test('holds at most the bound plus one chunk, whatever passes through', () => {
  const bound = 1000;
  const buf = new TailBuffer(bound, 'stdout');
  let expectedTail = Buffer.alloc(0);
  for (let i = 0; i < 5000; i++) {
    const chunk = Buffer.alloc(1 + (i * 37) % 300, i % 256);
    buf.push(chunk);
    expectedTail = Buffer.concat([expectedTail, chunk]).subarray(-bound);
    assert.ok(buf.heldBytes <= bound + 300, `held ${buf.heldBytes} bytes`);
  }
  const out = buf.result();
  const nl = out.indexOf(10);
  assert.match(out.subarray(0, nl).toString(), new RegExp(`^\\[picas: ${buf.totalBytes - bound} bytes cut from the start of stdout`));
  assert.deepEqual(out.subarray(nl + 1), expectedTail);
});

test('a single chunk bigger than the bound keeps only its tail', () => {
  const buf = new TailBuffer(4, 'stderr');
  buf.push(Buffer.from('abc'));
  buf.push(Buffer.from('0123456789'));
  assert.equal(buf.heldBytes, 4);
  assert.match(buf.result().toString(), /^\[picas: 9 bytes cut from the start of stderr; the last 4 of 13 bytes follow\]\n6789$/);
});

test('under the bound nothing is added; a zero bound keeps only the note', () => {
  const small = new TailBuffer(10, 'stdout');
  small.push(Buffer.from('0123456789'));
  assert.equal(small.result().toString(), '0123456789');
  const none = new TailBuffer(0, 'stdout');
  none.push(Buffer.from('abc'));
  assert.equal(none.result().toString(), '[picas: 3 bytes cut from the start of stdout; the last 0 of 3 bytes follow]\n');
  assert.throws(() => new TailBuffer(-1, 'x'), /maxLogBytes must be/);
});
