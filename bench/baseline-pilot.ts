// The original Python client's protocol, re-implemented from REFERENCE.md section 3 as the baseline that
// picas is compared with on the same server: query `todo` with limit=100, pick one row at random, GET the
// document, PUT it locked with the `_rev` just read — WITHOUT re-checking it is still free, as the
// original — run the (no-op) work, PUT the result with inline log attachments. A 409 on the lock means
// try again (view query included), at most 10 times in a row, then the pilot gives up with an error, as
// the original does. A 409 on the result is logged and the result dropped, as the original does.
// Started by bench/lib/children.ts (jobs on stdin).
//   BENCH_COUCH_URL=<url with credentials> tsx bench/baseline-pilot.ts
import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CouchServer } from '../src/couch/server.js';
import { ConflictError } from '../src/couch/errors.js';
import type { Database, Doc } from '../src/couch/database.js';
import { serveJobs, usageSince } from './lib/children.js';

export interface BaselineJob { database: string; execFile: string; maxS: number }

const couch = new CouchServer({ url: process.env.BENCH_COUCH_URL!, timeoutMs: 120_000 });
const host = hostname();
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Stats { done: number; lockConflicts: number; resultsDropped: number; gaveUp: boolean }

/** The original's claim: up to 10 tries, each a fresh view query, random pick, GET and PUT. */
async function claim(db: Database, stats: Stats): Promise<Doc | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const rows = (await db.view('Monitor', 'todo', { limit: 100 })).rows;
    if (rows.length === 0) return undefined;
    const id = rows[Math.floor(Math.random() * rows.length)]!.id!;
    const doc = await db.get(id);
    const locked = { ...doc, lock: Math.floor(Date.now() / 1000), hostname: host };
    try {
      const { rev } = await db.put(locked);
      return { ...locked, _rev: rev };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      stats.lockConflicts++;
    }
  }
  stats.gaveUp = true;
  return undefined;
}

await serveJobs<BaselineJob>(async (job) => {
  Object.assign(couch.stats, { requests: 0, bytesOut: 0, bytesIn: 0 });
  const usage = usageSince();
  const db = couch.db(job.database);
  const stats: Stats = { done: 0, lockConflicts: 0, resultsDropped: 0, gaveUp: false };
  const started = Date.now();
  while (Date.now() - started < job.maxS * 1000) {
    const token = await claim(db, stats);
    if (!token) break;
    appendFileSync(job.execFile, `${token._id}\n`);
    const now = Math.floor(Date.now() / 1000);
    const result = {
      ...token, done: now, exit_code: 0,
      _attachments: {
        [`logs_${token._id}.out`]: { content_type: 'text/plain', data: b64('') },
        [`logs_${token._id}.err`]: { content_type: 'text/plain', data: b64('') },
      },
    };
    try {
      await db.put(result);
      stats.done++;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      stats.resultsDropped++;
    }
  }
  return { ...stats, http: { ...couch.stats }, ...usage() };
});
await couch.close();
