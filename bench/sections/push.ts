// Push: tokens/s from a text file (one token per line) through the push API, and the peak RSS of the
// pushing process at several sizes, each ten times the last, to show whether memory grows with the number of tokens.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildPool } from '../lib/children.js';
import { round, type BenchContext } from '../lib/context.js';
import { cpuSeconds } from '../lib/proc.js';
import { dropDb, freshDb } from '../lib/tokens.js';
import type { PushJob } from '../push-process.js';
import { bulkWrite } from './raw.js';
import { newToken, randomTokenId } from '../../src/tokens/index.js';

interface PushReport {
  progress: { sent: number; added: number; existing: number; failed: number };
  ms: number; rssBeforeMb: number; peakMb: number; cpuS: number;
  http: { requests: number; bytesOut: number; bytesIn: number };
}

export interface PushFigures {
  tokens: number;
  added: number;
  perS: number;
  rssBeforeMb: number;
  peakRssMb: number;
  pushCpuS: number;
  serverCpuS: number | null;
  requests: number;
  /**
   * The raw `_bulk_docs` rate of the same tokens (rawBulkRate), measured on a fresh database just before
   * and just after this push (their mean; the speed size only): the push's yardstick, taken beside it on a
   * machine whose speed drifts, and of documents of the push's size.
   */
  adjacentRawBulkPerS?: number;
}

const lineOf = (i: number) => `./process-sample --input data/sample_${i}.dat --seed ${i}`;

async function writeLines(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    if (!out.write(`${lineOf(i)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * docs/s of one sequential `_bulk_docs` write of `count` documents into a fresh database: the tokens the
 * push makes of the same lines (same fields, same id scheme), built in this process and sent in batches of
 * 1,000. The raw section's documents are smaller (short ids, input `true`), and CouchDB writes small
 * documents faster: this is what the server allows for these tokens.
 */
async function rawBulkRate(ctx: BenchContext, count: number): Promise<number> {
  const db = await freshDb(ctx.couch, `push-raw-${count}`);
  try {
    const m = await bulkWrite(ctx, db, count, (i) => newToken({ _id: randomTokenId(), input: lineOf(i) }));
    return round(count / m.s);
  } finally {
    await dropDb(db);
  }
}

export async function pushSection(ctx: BenchContext): Promise<PushFigures[]> {
  // The speed figure is the 100,000-token push; 1,000,000 shows whether memory grows with the number of
  // tokens (a push keeps at most two batches, so it should not).
  const sizes = ctx.short ? [500, 5_000] : [10_000, 100_000, 1_000_000];
  const dir = mkdtempSync(join(tmpdir(), 'picas-bench-push-'));
  const out: PushFigures[] = [];
  try {
    for (const tokens of sizes) {
      const file = join(dir, `tokens-${tokens}.txt`);
      await writeLines(file, tokens);
      const speedSize = tokens === (sizes.includes(100_000) ? 100_000 : sizes[sizes.length - 1]);
      const raw = speedSize ? [await rawBulkRate(ctx, tokens)] : [];
      const db = await freshDb(ctx.couch, `push-${tokens}`);
      // A fresh process per size: its peak RSS belongs to this push alone.
      const pool = new ChildPool<PushJob, PushReport>('push-process.ts', 1, ctx.server.env(''));
      try {
        await pool.ready();
        const pid = ctx.server.pid;
        const s0 = pid ? cpuSeconds(pid)?.self ?? null : null;
        const { results: [r] } = await pool.runAll(() => ({ database: db.name, file }), 900_000);
        const s1 = pid ? cpuSeconds(pid)?.self ?? null : null;
        const f: PushFigures = {
          tokens, added: r!.progress.added, perS: round(r!.progress.added / (r!.ms / 1000)),
          rssBeforeMb: round(r!.rssBeforeMb), peakRssMb: round(r!.peakMb), pushCpuS: round(r!.cpuS, 2),
          serverCpuS: s0 !== null && s1 !== null ? round(s1 - s0, 2) : null, requests: r!.http.requests,
        };
        if (speedSize) {
          raw.push(await rawBulkRate(ctx, tokens));
          f.adjacentRawBulkPerS = round((raw[0]! + raw[1]!) / 2);
          ctx.log(`push: raw _bulk_docs of the same ${tokens} tokens just before and after: ${raw.join(' and ')}/s`);
        }
        ctx.log(`push: ${tokens} tokens: ${f.perS}/s, peak RSS ${f.peakRssMb} MB (${f.rssBeforeMb} MB before)`);
        out.push(f);
      } finally {
        await pool.close();
        await dropDb(db);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
