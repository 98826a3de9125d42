/**
 * The floor under any claim protocol with picas's guarantees, on one server: what the database itself
 * allows per token when every token needs a read of its document, a write conditional on that read (the
 * claim) and a second write (the result), done in batches, by loops that never collide (loop i takes the
 * i-th slice of the ids: no index to read, no lost claim). picas's no-op pilots do the same work plus
 * reading candidates from an index, collisions and their bookkeeping; `processing (API)` in the main
 * bench divided by this floor is picas's share of what the server can do with this protocol, where the
 * share of raw `_bulk_docs`/2 also counts the reads and updates no protocol can skip.
 *
 *   npx tsx bench/claim-floor.ts [--url <couchdb url with credentials>] [--tokens 10000] [--batch 50] [--loops 1,8,32]
 *
 * Without --url it starts an embedded server. Prints one line per loop count, and raw `_bulk_docs` inserts
 * measured in the same run (1,000 per request, as the main bench's raw section).
 */
import { openBenchServer } from './lib/server.js';
import { benchToken, dropDb, freshDb, BULK_BATCH } from './lib/tokens.js';
import type { Database } from '../src/couch/database.js';
import type { Token } from '../src/tokens/token.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const N = Number(opt('--tokens') ?? 10_000);
const BATCH = Number(opt('--batch') ?? 50);
const LOOPS = (opt('--loops') ?? '1,8,32').split(',').map(Number);

const server = await openBenchServer(opt('--url'));
const couch = server.client(600_000);
const ids = Array.from({ length: N }, (_, i) => `t${String(i).padStart(7, '0')}`);

async function fill(db: Database): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i += BULK_BATCH) await db.bulkDocs(ids.slice(i, i + BULK_BATCH).map((id) => benchToken(id, 'true')));
  return N / ((performance.now() - t0) / 1000);
}

/** Each loop: read a batch of its own tokens, write them locked (conditional on the read), write them done. */
async function cycle(db: Database, loops: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: loops }, async (_, loop) => {
    const mine = ids.filter((_, i) => i % loops === loop);
    for (let i = 0; i < mine.length; i += BATCH) {
      const read = await db.allDocs<Token>({ keys: mine.slice(i, i + BATCH), include_docs: true });
      const docs = read.rows.map((r) => r.doc!).filter(Boolean);
      const locked = await db.bulkDocs(docs.map((d) => ({ ...d, lock: Math.floor(Date.now() / 1000) })));
      await db.bulkDocs(docs.map((d, k) => ({ ...d, _rev: locked[k]!.rev, lock: 1, done: Math.floor(Date.now() / 1000), exit_code: 0 })));
    }
  }));
  return N / ((performance.now() - t0) / 1000);
}

try {
  console.log(`server: ${server.label}; ${N} tokens, batch ${BATCH}`);
  const rawDb = await freshDb(couch, 'floor-raw');
  const raw = await fill(rawDb);
  await dropDb(rawDb);
  console.log(`raw _bulk_docs inserts (${BULK_BATCH} per request): ${Math.round(raw)} docs/s; bulk/2 = ${Math.round(raw / 2)} tokens/s`);
  for (const loops of LOOPS) {
    const db = await freshDb(couch, `floor-${loops}`);
    await fill(db);
    const rate = await cycle(db, loops);
    await dropDb(db);
    console.log(`claim floor, ${loops} loops: ${Math.round(rate)} tokens/s (read + claim write + result write per token, batch ${BATCH}, no index, no collision) = ${(100 * rate / (raw / 2)).toFixed(1)}% of bulk/2`);
  }
} finally {
  await server.stop();
}
