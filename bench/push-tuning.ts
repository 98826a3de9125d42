// Push speed against the raw `_bulk_docs` rate on one server, for a few batch sizes and writes in flight:
// the measurement behind src/sources/push.ts's defaults.
//   npx tsx bench/push-tuning.ts --url <couchdb url with credentials> [--tokens 100000] [--rounds 2]
// Raw: 1,000-doc `_bulk_docs` batches written one after the other (the bench's raw figure), same tokens.
import { randomBytes } from 'node:crypto';
import { CouchServer } from '../src/couch/server.js';
import { pushTokens } from '../src/sources/push.js';
import type { SourceRecord } from '../src/sources/record.js';
import { benchToken } from './lib/tokens.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const tokens = Number(arg('tokens', '100000'));
const rounds = Number(arg('rounds', '2'));
const couch = new CouchServer({ url: arg('url', process.env.BENCH_COUCH_URL ?? ''), timeoutMs: 300_000 });
const line = (i: number) => `./process-sample --input data/sample_${i}.dat --seed ${i}`;
function* records(): Iterable<SourceRecord> {
  for (let i = 0; i < tokens; i++) yield { where: `line ${i + 1}`, fields: { input: line(i) } };
}

async function fresh() {
  const db = couch.db(`picas-push-tuning-${randomBytes(4).toString('hex')}`);
  await db.create();
  return db;
}
async function raw(): Promise<number> {
  const db = await fresh();
  const t0 = performance.now();
  for (let i = 0; i < tokens; i += 1000) {
    await db.bulkDocs(Array.from({ length: Math.min(1000, tokens - i) }, (_, j) => benchToken(`raw-${i + j}`, line(i + j))));
  }
  const perS = tokens / ((performance.now() - t0) / 1000);
  await db.destroy();
  return perS;
}
async function push(batchSize: number, inFlight: number): Promise<number> {
  const db = await fresh();
  const t0 = performance.now();
  const p = await pushTokens(db, records(), { batchSize, inFlight });
  const perS = p.added / ((performance.now() - t0) / 1000);
  await db.destroy();
  return perS;
}

console.log(`| round | raw bulk/s | ${[[500, 1], [500, 2], [500, 3], [1000, 2]].map(([b, f]) => `push ${b}x${f}`).join(' | ')} |`);
for (let r = 0; r < rounds; r++) {
  const rawPerS = await raw();
  const cells: string[] = [];
  for (const [b, f] of [[500, 1], [500, 2], [500, 3], [1000, 2]] as const) {
    const v = await push(b, f);
    cells.push(`${Math.round(v)} (${Math.round((v / rawPerS) * 100)}%)`);
  }
  console.log(`| ${r + 1} | ${Math.round(rawPerS)} | ${cells.join(' | ')} |`);
}
await couch.close();
