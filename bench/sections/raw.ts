// Raw limits of the server: single-document PUT rate at concurrency 1, 8, 32, `_bulk_docs` rate with
// 1,000-document batches of token-shaped documents, and the rate at which the server indexes the
// Monitor views (every claim's view query pays for the changes since the previous one).
import { randomBytes } from 'node:crypto';
import { BULK_BATCH, benchToken, dropDb } from '../lib/tokens.js';
import { metered, round, type BenchContext } from '../lib/context.js';
import { ensureDesignDocs } from '../../src/tokens/design.js';
import type { Database, Doc } from '../../src/couch/database.js';

export interface RawResult {
  put: { concurrency: number; docs: number; perS: number; serverCpuS: number | null; benchCpuS: number }[];
  bulk: { batch: number; docs: number; perS: number; serverCpuS: number | null; benchCpuS: number };
  viewIndex: { docs: number; perS: number; serverCpuS: number | null };
  /** Median time of read requests a claim makes, on an up-to-date index (nothing to index). */
  reads: { what: string; medianMs: number; serverCpuMsPerCall: number | null }[];
}

const READS = 15;

/**
 * Write `count` documents in batches of BULK_BATCH, one batch after another: the raw `_bulk_docs` rate.
 * By default token-shaped documents with short ids and input; `make` gives other documents.
 */
export function bulkWrite(ctx: BenchContext, db: Database, count: number, make: (i: number) => Doc = (i) => benchToken(`bulk_${String(i).padStart(8, '0')}`, 'true')) {
  return metered(ctx, async () => {
    for (let start = 0; start < count; start += BULK_BATCH) {
      const docs = Array.from({ length: Math.min(BULK_BATCH, count - start) }, (_, i) => make(start + i));
      await db.bulkDocs(docs);
    }
    return count;
  });
}

export async function rawSection(ctx: BenchContext): Promise<RawResult> {
  const seconds = ctx.short ? 1.5 : 6;
  const bulkDocs = ctx.short ? 5_000 : 50_000;
  const db = ctx.couch.db(`picas-bench-raw-${randomBytes(3).toString('hex')}`);
  await db.create();
  try {
    const put: RawResult['put'] = [];
    let n = 0;
    for (const concurrency of ctx.short ? [1, 8] : [1, 8, 32]) {
      const m = await metered(ctx, async () => {
        const until = performance.now() + seconds * 1000;
        let docs = 0;
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (performance.now() < until) {
            await db.put(benchToken(`put_${String(n++).padStart(8, '0')}`, 'true'));
            docs++;
          }
        }));
        return docs;
      });
      put.push({ concurrency, docs: m.value, perS: round(m.value / m.s), serverCpuS: m.serverCpuS, benchCpuS: m.benchCpuS });
      ctx.log(`raw: PUT x${concurrency}: ${round(m.value / m.s)}/s`);
    }
    const b = await bulkWrite(ctx, db, bulkDocs);
    ctx.log(`raw: _bulk_docs: ${round(bulkDocs / b.s)}/s`);
    const total = n + bulkDocs;
    await ensureDesignDocs(db);
    const v = await metered(ctx, () => db.view('Monitor', 'todo', { limit: 1 }));
    ctx.log(`raw: Monitor/todo index build over ${total} docs: ${round(total / v.s)} docs/s`);
    const reads: RawResult['reads'] = [];
    const probes: [string, () => Promise<unknown>][] = [
      ['GET one token', () => db.get('bulk_00000001')],
      ['Monitor/todo limit=100 (ids only: the original\'s claim)', () => db.view('Monitor', 'todo', { limit: 100 })],
      ['Monitor/todo limit=100 include_docs (picas\'s claim window)', () => db.view('Monitor', 'todo', { limit: 100, include_docs: true })],
      ['Monitor/todo limit=10 include_docs', () => db.view('Monitor', 'todo', { limit: 10, include_docs: true })],
    ];
    for (const [what, call] of probes) {
      await call();
      const times: number[] = [];
      const m = await metered(ctx, async () => {
        for (let i = 0; i < READS; i++) { const t0 = performance.now(); await call(); times.push(performance.now() - t0); }
      });
      times.sort((a, b) => a - b);
      reads.push({ what, medianMs: round(times[Math.floor(READS / 2)]!, 2), serverCpuMsPerCall: m.serverCpuS === null ? null : round(m.serverCpuS * 1000 / READS, 1) });
    }
    return {
      reads,
      put,
      bulk: { batch: BULK_BATCH, docs: bulkDocs, perS: round(bulkDocs / b.s), serverCpuS: b.serverCpuS, benchCpuS: b.benchCpuS },
      viewIndex: { docs: total, perS: round(total / v.s), serverCpuS: v.serverCpuS },
    };
  } finally {
    await dropDb(db);
  }
}
