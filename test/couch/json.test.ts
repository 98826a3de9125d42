import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson, toJson } from '../../src/couch/json.js';

test('integers beyond 2^53 parse to bigint and serialise back digit for digit', () => {
  const text = '{"a":12345678901234567891,"b":[-9007199254740993,1.5,9007199254740991],"c":{"d":100000000000000000000000}}';
  const value = parseJson<{ a: unknown; b: unknown[]; c: { d: unknown } }>(text);
  assert.equal(value.a, 12345678901234567891n);
  assert.deepEqual(value.b, [-9007199254740993n, 1.5, 9007199254740991]);
  assert.equal(value.c.d, 100000000000000000000000n);
  assert.equal(toJson(value), text);
});

test('safe numbers stay numbers, also on the slow path, and floats are not made integers', () => {
  const value = parseJson<Record<string, unknown>>('{"big":12345678901234567891,"small":42,"f":12345678901234567.5,"e":1e300}');
  assert.equal(value.small, 42);
  assert.equal(typeof value.f, 'number');
  assert.equal(value.e, 1e300);
});

test('16-digit runs inside strings do not change the result', () => {
  const text = '{"_rev":"2-1234567890123456789abc","s":"x:12345678901234567891"}';
  assert.deepEqual(parseJson(text), JSON.parse(text));
});

test('toJson indents like JSON.stringify, also with a bigint inside', () => {
  const plain = { a: 1, b: ['x', null], c: {} };
  assert.equal(toJson(plain, 2), JSON.stringify(plain, null, 2));
  assert.equal(toJson({ a: 1n << 70n, b: [1] }, 2), '{\n  "a": 1180591620717411303424,\n  "b": [\n    1\n  ]\n}');
});

test('malformed JSON still throws SyntaxError on both paths', () => {
  assert.throws(() => parseJson('{"a":'), SyntaxError);
  assert.throws(() => parseJson('{"a":12345678901234567891,}'), SyntaxError);
});

test('a long integer is found wherever it stands (the scan looks at every 16th character)', () => {
  for (let pad = 0; pad < 40; pad++) {
    const key = 'k'.repeat(pad);
    assert.equal(parseJson<Record<string, unknown>>(`{"${key}":12345678901234567891}`)[key], 12345678901234567891n, `after ${pad} characters`);
    assert.equal(parseJson<unknown[]>(`[${'1,'.repeat(pad)}-9007199254740993]`).at(-1), -9007199254740993n);
  }
  assert.equal(parseJson('12345678901234567891'), 12345678901234567891n);
  assert.deepEqual(parseJson('{"a":123456789012345}'), { a: 123456789012345 }, '15 digits: a number');
});
