import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileRecords, formatOf } from '../../src/sources/format.js';
import { csvRows } from '../../src/sources/csv.js';
import { SourceError } from '../../src/sources/errors.js';
import { parseSweep, sweepRecords, sweepSize } from '../../src/sources/sweep.js';
import { recordToToken } from '../../src/sources/to-token.js';
import { tempDir } from '../helpers/cli.js';

const dir = tempDir('readers');
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const all = async <T>(it: AsyncIterable<T>) => { const out: T[] = []; for await (const x of it) out.push(x); return out; };
const fieldsOf = async (p: string, format = formatOf(p)) => (await all(fileRecords(p, format))).map((r) => r.fields);

async function rejectsAt(p: string, line: number, pattern: RegExp, format = formatOf(p)) {
  await assert.rejects(all(fileRecords(p, format)), (err: unknown) => {
    assert.ok(err instanceof SourceError, String(err));
    assert.match(err.message, new RegExp(`line ${line}\\b`));
    assert.match(err.message, pattern);
    return true;
  });
}

test('text lines: one token per non-blank line, input = the line, CRLF and no final newline handled', async () => {
  const p = file('a.txt', 'echo "A"\r\n\n   \necho B\necho C');
  assert.deepEqual(await fieldsOf(p), [{ input: 'echo "A"' }, { input: 'echo B' }, { input: 'echo C' }]);
});

test('text lines: the line number counts blank lines too', async () => {
  const records = await all(fileRecords(file('b.txt', '\n\nx\n'), 'text'));
  assert.equal(records[0]!.where, `${join(dir, 'b.txt')} line 3`);
});

test('JSON lines: objects become fields; a malformed or non-object line names its line number', async () => {
  assert.deepEqual(await fieldsOf(file('a.jsonl', '{"input":"x","n":1}\n\n{"_id":"t2","q":[1,2]}\n')), [{ input: 'x', n: 1 }, { _id: 't2', q: [1, 2] }]);
  await rejectsAt(file('b.jsonl', '{"a":1}\n{"a":2}\n{"a":\n'), 3, /not valid JSON/);
  await rejectsAt(file('c.jsonl', '{"a":1}\n[1,2]\n'), 2, /expected a JSON object, found an array/);
  await rejectsAt(file('d.jsonl', '{"_rev":"1-x"}\n'), 1, /"_rev" is reserved/);
});

test('JSON array: streamed element by element, with nesting, strings holding brackets and commas', async () => {
  const p = file('a.json', '[\n {"input": "echo [a, b] {c}", "x": {"y": [1, {"z": "]"}]}},\n {"input": "say \\"hi\\""}\n]\n');
  assert.deepEqual(await fieldsOf(p), [{ input: 'echo [a, b] {c}', x: { y: [1, { z: ']' }] } }, { input: 'say "hi"' }]);
  assert.deepEqual(await fieldsOf(file('empty.json', '  [ ]  ')), []);
});

test('JSON array: errors name the element\'s line', async () => {
  await rejectsAt(file('b.json', '[\n{"a":1},\n\n{"a":}\n]'), 4, /not valid JSON/);
  await rejectsAt(file('c.json', '[\n{"a":1},\n"text"\n]'), 3, /must be JSON objects/);
  await rejectsAt(file('d.json', '[{"a":1},\n]'), 2, /trailing ","/);
  await assert.rejects(all(fileRecords(file('e.json', '[{"a":1},\n{"a":2}'), 'json')), /ends inside the JSON array/);
});

test('.json holding one object per line is read as JSON lines', async () => {
  assert.deepEqual(await fieldsOf(file('lines.json', '{"a":1}\n{"a":2}\n')), [{ a: 1 }, { a: 2 }]);
});

test('CSV: header names the fields; quotes, doubled quotes, commas and newlines inside quotes', async () => {
  const p = file('a.csv', 'q,d,input\n0.100,256,"echo ""x, y"""\n0.184,2280,"two\nlines"\n\n');
  assert.deepEqual(await fieldsOf(p), [
    { q: '0.100', d: '256', input: 'echo "x, y"' },
    { q: '0.184', d: '2280', input: 'two\nlines' },
  ]);
});

test('CSV: a row with the wrong number of cells names its line (counting lines inside quotes)', async () => {
  await rejectsAt(file('b.csv', 'a,b\n1,"x\ny"\n1,2,3\n'), 4, /3 cells, but the header has 2 columns/);
  await rejectsAt(file('c.csv', 'a,,b\n1,2,3\n'), 1, /column 2 has no name/);
  await rejectsAt(file('d.csv', 'a\n"open\n'), 2, /never closed/);
});

test('CSV: a "" escape split across read chunks is still one quote', async () => {
  // 256 KiB chunks: put the doubled quote right at the boundary.
  const pad = 'x'.repeat(256 * 1024 - 'a\n"'.length - 1);
  const p = file('big.csv', `a\n"${pad}""y"\n`);
  const rows = await all(csvRows(p));
  assert.equal(rows[1]!.cells[0], `${pad}"y`);
});

test('missing file: one clear error naming the file', async () => {
  await assert.rejects(all(fileRecords(join(dir, 'nope.txt'), 'text')), /nope\.txt: cannot read the file \(no such file\)/);
});

test('format from extension or --format; unknown --format is refused', () => {
  assert.equal(formatOf('x.csv'), 'csv');
  assert.equal(formatOf('x.ndjson'), 'jsonl');
  assert.equal(formatOf('x.whatever'), 'text');
  assert.equal(formatOf('x.txt', 'csv'), 'csv');
  assert.throws(() => formatOf('x.txt', 'yaml'), /unknown format "yaml"/);
});

test('sweep: the fractals example gives 24 tokens, first parameter slowest, values kept as written', () => {
  const params = parseSweep(['q=0.100,0.184', 'd=256,2280,4304,6328', 'm=400,4400,8400']);
  assert.equal(sweepSize(params), 24);
  const records = Array.from(sweepRecords(params, './fractals -q {q} -d {d} -m {m}'));
  assert.equal(records.length, 24);
  assert.deepEqual(records[0]!.fields, { q: '0.100', d: '256', m: '400', input: './fractals -q 0.100 -d 256 -m 400' });
  assert.deepEqual(records[1]!.fields.m, '4400');
  assert.deepEqual(records[23]!.fields, { q: '0.184', d: '6328', m: '8400', input: './fractals -q 0.184 -d 6328 -m 8400' });
  const inputs = new Set(records.map((r) => r.fields.input));
  assert.equal(inputs.size, 24);
});

test('sweep: without a template the input is name=value pairs; bad specs are refused', () => {
  const [first] = Array.from(sweepRecords(parseSweep(['a=1', 'b=x,y'])));
  assert.equal(first!.fields.input, 'a=1 b=x');
  assert.throws(() => parseSweep(['q']), /expected name=value1,value2/);
  assert.throws(() => parseSweep(['q=1,,2']), /empty value/);
  assert.throws(() => parseSweep(['q=1', 'q=2']), /given twice/);
  assert.throws(() => parseSweep(['input=1']), /picas sets itself/);
  assert.throws(() => Array.from(sweepRecords(parseSweep(['q=1']), 'run {Q}')), /\{Q\} is not a sweep parameter/);
  assert.equal(Array.from(sweepRecords(parseSweep(['q=1']), 'awk {{print}} {q}'))[0]!.fields.input, 'awk {print} 1');
});

test('tokens from records: Python defaults, random or content ids, _id kept, bad _id names its line', () => {
  const rec = { fields: { input: 'echo 1', cores: 4 }, where: 'f line 1' };
  const t = recordToToken(rec);
  assert.match(t._id, /^token_[0-9a-f]{32}$/);
  assert.notEqual(recordToToken(rec)._id, t._id);
  assert.deepEqual({ ...t, _id: 'x' }, { _id: 'x', type: 'token', lock: 0, done: 0, hostname: '', scrub_count: 0, input: 'echo 1', exit_code: '', output: {}, uploads: {}, error: [], cores: 4 });
  assert.equal(recordToToken(rec, { deterministic: true })._id, recordToToken({ ...rec, where: 'other' }, { deterministic: true })._id);
  assert.equal(recordToToken({ fields: { _id: 'mine', input: 'x' }, where: 'w' })._id, 'mine');
  assert.throws(() => recordToToken({ fields: { _id: 'a\u0000b' }, where: 'f line 7' }), /f line 7: invalid token id/);
});
