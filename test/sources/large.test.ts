import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { useTestDb } from '../helpers/couch.js';
import { fileRecords } from '../../src/sources/format.js';
import { pushTokens } from '../../src/sources/push.js';
import { tempDir } from '../helpers/cli.js';

const LINES = 200_000;
const ctx = useTestDb('push-large');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => { gc(); return process.memoryUsage().heapUsed; };

async function writeLines(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    // ~100 bytes per line, so holding the file's tokens would take well over 60 MB.
    if (!out.write(`echo ${String(i).padStart(8, '0')} ${'x'.repeat(80)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

test(`a ${LINES}-line file is pushed in flat memory: the heap after GC stays near where it started`, async () => {
  const file = join(tempDir('large'), 'many.txt');
  await writeLines(file, LINES);
  const baseline = heapAfterGc();
  let peak = 0;
  let batches = 0;
  const result = await pushTokens(ctx.db, fileRecords(file, 'text'), {
    batchSize: 1000,
    onProgress: () => { if (++batches % 20 === 0) peak = Math.max(peak, heapAfterGc() - baseline); },
  });
  assert.deepEqual(result, { sent: LINES, added: LINES, existing: 0, failed: 0 });
  assert.equal((await ctx.db.info()).doc_count, LINES);
  console.log(`heap growth while pushing: ${(peak / 1048576).toFixed(1)} MB`);
  // Holding all tokens would add >60 MB; one batch in flight is ~1 MB. 20 MB leaves room for the HTTP client.
  assert.ok(peak < 20 * 1024 * 1024, `heap grew by ${(peak / 1048576).toFixed(1)} MB while pushing`);
});
