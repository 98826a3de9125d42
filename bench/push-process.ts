// The pushing process of the push section: tokens from a text file (one per line) through the push API
// (`pushTokens` over the streaming text reader, as `picas push` does after its check pass). Reports its
// time, the tokens added, its RSS before pushing and its peak RSS. One process per job, so that the peak
// belongs to that push alone. Started by bench/lib/children.ts (one job on stdin).
//   BENCH_COUCH_URL=<url with credentials> tsx bench/push-process.ts
import { CouchServer } from '../src/couch/server.js';
import { pushTokens } from '../src/sources/push.js';
import { textLineRecords } from '../src/sources/text-lines.js';
import { memoryMb } from './lib/proc.js';
import { serveJobs, usageSince } from './lib/children.js';

export interface PushJob { database: string; file: string }

const couch = new CouchServer({ url: process.env.BENCH_COUCH_URL!, timeoutMs: 120_000 });
await serveJobs<PushJob>(async (job) => {
  const rssBeforeMb = memoryMb(process.pid)?.rss ?? 0;
  const usage = usageSince();
  const t0 = performance.now();
  const progress = await pushTokens(couch.db(job.database), textLineRecords(job.file));
  const ms = performance.now() - t0;
  const peakMb = memoryMb(process.pid)?.peak ?? 0;
  return { progress, ms, rssBeforeMb, peakMb, http: { ...couch.stats }, ...usage() };
});
await couch.close();
