// A picas pilot process for the processing section: for each job, runPilot (the public API) on the job's
// database with a no-op task that only records its execution. Reports the pilot's summary, its HTTP
// requests and bytes, CPU seconds and peak RSS. Started by bench/lib/children.ts (jobs on stdin).
//   BENCH_COUCH_URL=<url with credentials> tsx bench/pilot-process.ts
import { appendFileSync } from 'node:fs';
import { CouchServer } from '../src/couch/server.js';
import { runPilot } from '../src/worker/run-pilot.js';
import { serveJobs, usageSince } from './lib/children.js';
import { memoryMb } from './lib/proc.js';

export interface PilotJob { database: string; execFile: string; batch: number; slots?: number; maxS: number }

// RSS with every module loaded and nothing done yet: what node + tsx cost before the pilot works.
const idleRssMb = memoryMb(process.pid)?.rss ?? 0;
const couch = new CouchServer({ url: process.env.BENCH_COUCH_URL!, timeoutMs: 120_000 });

await serveJobs<PilotJob>(async (job) => {
  Object.assign(couch.stats, { requests: 0, bytesOut: 0, bytesIn: 0 });
  const usage = usageSince();
  const summary = await runPilot({
    processTask: (token) => {
      appendFileSync(job.execFile, `${token._id}\n`);
    },
  }, {
    db: couch.db(job.database),
    batchSize: job.batch,
    slots: job.slots ?? 1,
    maxTotalTimeMs: job.maxS * 1000,
  });
  return { summary, http: { ...couch.stats }, idleRssMb, ...usage() };
});
await couch.close();
