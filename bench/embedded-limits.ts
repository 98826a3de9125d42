// How far the embedded server goes on this machine: tokens held, Monitor view build time, claim rate with
// N concurrent clients, state-count query time and the server's memory, as the number of tokens grows.
//   npx tsx bench/embedded-limits.ts [--sizes 10000,100000] [--clients 8] [--claims 400] [--short]
// Each size gets a fresh data folder and a fresh server process (the one the tests use); its RSS is
// sampled from /proc every 100 ms. Prints a table, then the figures as JSON.
import { readFileSync, rmSync } from 'node:fs';
import { spawnEmbeddedServer } from '../test/helpers/couch.js';
import { CouchServer } from '../src/couch/server.js';
import { ConflictError } from '../src/couch/errors.js';
import type { Database } from '../src/couch/database.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const short = process.argv.includes('--short');
const sizes = (arg('sizes') ?? (short ? '1000' : '10000,100000')).split(',').map(Number);
const clients = Number(arg('clients') ?? (short ? 4 : 8));
const claimsWanted = Number(arg('claims') ?? (short ? 100 : 400));
/** No phase may run longer than this; a phase that does is reported as not finished. */
const PHASE_LIMIT_MS = Number(arg('phase-limit-s') ?? (short ? 60 : 1200)) * 1000;

// The Monitor design document as REFERENCE.md section 2 states it (written by hand here so the bench
// does not depend on the library's generator).
const isToken = 'doc.type == "token"';
const STATES = {
  todo: 'doc.lock == 0 && doc.done == 0',
  locked: 'doc.lock > 0 && doc.done == 0',
  done: 'doc.lock > 0 && doc.done > 0 && parseInt(doc.exit_code) == 0',
  error: 'doc.lock > 0 && doc.done > 0 && parseInt(doc.exit_code) != 0',
};
const MONITOR = {
  _id: '_design/Monitor',
  language: 'javascript',
  views: {
    ...Object.fromEntries(Object.entries(STATES).map(([name, cond]) => [name, { map: `function (doc) { if (${isToken}) { if (${cond}) { emit(doc._id, doc._id); } } }` }])),
    overview_total: {
      map: `function (doc) { if (${isToken}) { ${Object.entries(STATES).map(([name, cond]) => `if (${cond}) { emit("${name}", 1); }`).join(' ')} } }`,
      reduce: '_sum',
    },
  },
};

class RssSampler {
  peakKb = 0;
  private timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 100);
  }
  sample(): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      const kb = m ? Number(m[1]) : 0;
      this.peakKb = Math.max(this.peakKb, kb);
      return kb;
    } catch { return 0; }
  }
  resetPeak(): void { this.peakKb = this.sample(); }
  stop(): void { clearInterval(this.timer); }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; timedOut: boolean }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), PHASE_LIMIT_MS); });
  const result = await Promise.race([fn(), limit]);
  clearTimeout(timer);
  return { ms: performance.now() - t0, value: result === 'timeout' ? undefined : result as T, timedOut: result === 'timeout' };
}

async function claimOne(db: Database, worker: string): Promise<'claimed' | 'empty' | 'conflict'> {
  const todo = await db.view<string>('Monitor', 'todo', { limit: 100 });
  if (todo.rows.length === 0) return 'empty';
  const id = todo.rows[Math.floor(Math.random() * todo.rows.length)]!.id!;
  const doc = await db.get(id);
  if (doc.lock !== 0 || doc.done !== 0) return 'conflict';
  try {
    await db.put({ ...doc, lock: Math.floor(Date.now() / 1000), hostname: worker });
    return 'claimed';
  } catch (err) {
    if (err instanceof ConflictError) return 'conflict';
    throw err;
  }
}

interface Row {
  tokens: number;
  insertS: number | null;
  insertPerS: number | null;
  viewBuildS: number | null;
  buildPeakRssMb: number;
  claims: number;
  conflicts: number;
  claimsPerS: number | null;
  countQueryMs: number | null;
  endRssMb: number;
  peakRssMb: number;
  notes: string[];
}

async function measure(tokens: number): Promise<Row> {
  const server = await spawnEmbeddedServer();
  server.child.ref();
  const rss = new RssSampler(server.child.pid!);
  const couch = new CouchServer({ url: server.url, username: server.username, password: server.password, timeoutMs: PHASE_LIMIT_MS });
  const db = couch.db('bench');
  const row: Row = { tokens, insertS: null, insertPerS: null, viewBuildS: null, buildPeakRssMb: 0, claims: 0, conflicts: 0, claimsPerS: null, countQueryMs: null, endRssMb: 0, peakRssMb: 0, notes: [] };
  try {
    await db.create();
    const insert = await timed(async () => {
      for (let start = 0; start < tokens; start += 1000) {
        const docs = [];
        for (let i = start; i < Math.min(tokens, start + 1000); i++) {
          docs.push({ _id: `token_${i}`, type: 'token', lock: 0, done: 0, hostname: '', scrub_count: 0, input: `echo ${i}`, exit_code: '', output: {}, uploads: {}, error: [] });
        }
        await db.bulkDocs(docs);
      }
    });
    if (insert.timedOut) { row.notes.push('insert did not finish'); return row; }
    row.insertS = insert.ms / 1000;
    row.insertPerS = tokens / row.insertS;

    await db.put(MONITOR as any);
    rss.resetPeak();
    const build = await timed(async () => {
      for (const view of Object.keys(MONITOR.views)) await db.view('Monitor', view, { limit: 1 });
    });
    row.buildPeakRssMb = rss.peakKb / 1024;
    if (build.timedOut) { row.notes.push('view build did not finish'); return row; }
    row.viewBuildS = build.ms / 1000;

    let claimed = 0;
    let conflicts = 0;
    const claims = await timed(async () => {
      await Promise.all(Array.from({ length: clients }, async (_, c) => {
        for (let attempts = 0; claimed < claimsWanted && attempts < claimsWanted * 4; attempts++) {
          const r = await claimOne(db, `bench-${c}`);
          if (r === 'claimed') claimed++;
          else if (r === 'conflict') conflicts++;
          else break;
        }
      }));
    });
    row.claims = claimed;
    row.conflicts = conflicts;
    row.claimsPerS = claimed / (claims.ms / 1000);
    if (claims.timedOut) row.notes.push('claims stopped at the phase limit');

    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await db.view<number>('Monitor', 'overview_total', { group: true });
      times.push(performance.now() - t0);
      if (i === 0) {
        const locked = r.rows.find((x) => x.key === 'locked')?.value ?? 0;
        if (locked !== claimed) row.notes.push(`overview_total says ${locked} locked, ${claimed} claimed`);
      }
    }
    times.sort((a, b) => a - b);
    row.countQueryMs = times[2]!;
    return row;
  } finally {
    row.endRssMb = rss.sample() / 1024;
    row.peakRssMb = rss.peakKb / 1024;
    rss.stop();
    await couch.close();
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}

const fmt = (v: number | null, digits = 1) => (v === null ? '—' : v.toFixed(digits));
const rows: Row[] = [];
for (const n of sizes) {
  process.stderr.write(`measuring ${n} tokens...\n`);
  rows.push(await measure(n));
}
const header = ['tokens', 'insert s', 'insert/s', 'view build s', 'build peak RSS MB', `claims/s (${clients} clients)`, 'conflicts', 'count query ms', 'end RSS MB', 'notes'];
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const r of rows) {
  console.log(`| ${[r.tokens, fmt(r.insertS), fmt(r.insertPerS, 0), fmt(r.viewBuildS), fmt(r.buildPeakRssMb, 0), fmt(r.claimsPerS), r.conflicts, fmt(r.countQueryMs), fmt(r.endRssMb, 0), r.notes.join('; ')].join(' | ')} |`);
}
console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, clients, claimsWanted, rows }, null, 2));
