/**
 * What `picas status` and the dashboard cost as the database grows, and what the status views cost per
 * token write.
 *
 *   npx tsx bench/status.ts [--tokens 100000] [--url <couchdb url with credentials>] [--json out.json]
 *
 * Fills a database with tokens in a run's mix of states (60% done, 3% error, 1% locked, the rest todo),
 * builds the indexes, then measures:
 * - the index build: Monitor's state views (what status counts) and picas-status's views (rate, recent
 *   errors), each as ms of server time per 1,000 tokens;
 * - the per-write cost of the picas-status views: after 5,000 token updates, the time to bring each design
 *   document's index up to date, per token write;
 * - `farmStatus` (everything `picas status` and the dashboard show) and the consistent counts alone: median
 *   and worst of 20 reads on the built indexes;
 * - `picas dashboard` over HTTP: its page, its first status, a page of tokens by state and by prefix, one token,
 *   and when its chart had arrived (an upper bound: asked for after the other reads);
 * - while a push of 20,000 tokens is not indexed yet: how long status takes to answer (it must not wait),
 *   and again while the indexers that answer started are at work.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './lib/children.js';
import { openBenchServer } from './lib/server.js';
import { indexersDone, untilBuilt } from './lib/tokens.js';
import { ensureDesignDocs, ensureDesignDoc, newToken, lockToken, markDone, type Token } from '../src/tokens/index.js';
import { STATUS_DESIGN } from '../src/status/design.js';
import { farmStatus } from '../src/status/farm-status.js';
import { readStateSnapshot } from '../src/tokens/status.js';
import { heartbeatId } from '../src/lease/heartbeat.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const N = Number(opt('--tokens') ?? 100_000);
const server = await openBenchServer(opt('--url'));
const couch = server.client(3_600_000);
const db = couch.db(`bench-status-${Date.now()}`);
await db.create();
const results: Record<string, unknown> = { server: server.label, tokens: N };
const ms = (t0: number) => Math.round(performance.now() - t0);
const now = () => Math.floor(Date.now() / 1000);

function tokenAt(i: number): Token {
  const t = newToken({ _id: `bench_${String(i).padStart(8, '0')}`, input: `run ${i}` });
  const r = i % 100;
  if (r < 60) return { ...markDone(lockToken(t, { now: now() - 600 }), now() - (i % 600)), exit_code: 0 };
  if (r < 63) return { ...markDone(lockToken(t, { now: now() - 600 }), now() - (i % 600)), exit_code: 1 };
  if (r < 64) return { ...lockToken(t, { now: now() - 60 }), picas: { attempt: `a${i}`, pilot: `p${i % 50}`, host: 'node', claimed_at: now() - 60, lease_until: now() + 240 } } as Token;
  return t;
}

try {
  await ensureDesignDocs(db);
  await ensureDesignDoc(db, STATUS_DESIGN);
  let t0 = performance.now();
  for (let i = 0; i < N; i += 5_000) await db.bulkDocs(Array.from({ length: Math.min(5_000, N - i) }, (_, j) => tokenAt(i + j)));
  // 50 pilots' heartbeats, as a run would have.
  await db.bulkDocs(Array.from({ length: 50 }, (_, i) => ({ _id: heartbeatId(`p${i}`), type: 'picas-pilot', pilot: `p${i}`, host: 'node', started_at: now() - 900, alive_until: now() + 300, holding: [] })));
  results.pushSeconds = ms(t0) / 1000;
  console.log(`pushed ${N} tokens in ${results.pushSeconds} s`);

  t0 = performance.now();
  // CouchDB answers a read that waits longer than its request timeout (a minute) `500 timeout` and goes on
  // building: untilBuilt asks again, and the time is the build's.
  await Promise.all(['todo', 'locked', 'done', 'error'].map((v) => untilBuilt(() => db.view('Monitor', v, { limit: 0 }))));
  const monitorBuild = ms(t0);
  t0 = performance.now();
  await Promise.all(['finished', 'errors'].map((v) => untilBuilt(() => db.view('picas-status', v, { limit: 0 }))));
  const statusBuild = ms(t0);
  results.indexBuildMsPer1000 = { monitor: +(monitorBuild / (N / 1000)).toFixed(1), picasStatus: +(statusBuild / (N / 1000)).toFixed(1) };
  console.log(`index build: Monitor ${monitorBuild} ms, picas-status ${statusBuild} ms (${JSON.stringify(results.indexBuildMsPer1000)} per 1,000 tokens)`);
  await untilBuilt(() => db.view('picas', 'leases', { limit: 0 }));

  // Per-write cost: 5,000 tokens change state (claim-like writes), then each index catches up.
  const W = Math.min(5_000, Math.floor(N / 10));
  const some = (await db.allDocs<Token>({ include_docs: true, limit: W, startkey: 'bench_' })).rows.map((r) => r.doc!);
  await db.bulkDocs(some.map((d) => ({ ...d, lock: now(), done: 0 })));
  t0 = performance.now();
  await Promise.all(['todo', 'locked', 'done', 'error'].map((v) => db.view('Monitor', v, { limit: 0 })));
  const monitorPerWrite = (performance.now() - t0) / W;
  t0 = performance.now();
  await Promise.all(['finished', 'errors'].map((v) => db.view('picas-status', v, { limit: 0 })));
  const statusPerWrite = (performance.now() - t0) / W;
  results.indexMsPerTokenWrite = { monitor: +monitorPerWrite.toFixed(3), picasStatus: +statusPerWrite.toFixed(3) };
  console.log(`index upkeep per token write: Monitor ${monitorPerWrite.toFixed(3)} ms, picas-status ${statusPerWrite.toFixed(3)} ms`);

  const timeIt = async (f: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) { const s = performance.now(); await f(); times.push(performance.now() - s); }
    const inOrder = times.map((t) => Math.round(t));
    times.sort((a, b) => a - b);
    return { medianMs: +times[10]!.toFixed(1), worstMs: +times[19]!.toFixed(1), eachMs: inOrder };
  };
  // CouchDB's background indexer may still be building after the writes: the reads are timed after it.
  await indexersDone(db);
  results.counts = await timeIt(() => readStateSnapshot(db));
  results.farmStatus = await timeIt(() => farmStatus(db));
  console.log(`consistent counts: ${JSON.stringify(results.counts)}; everything status shows: ${JSON.stringify(results.farmStatus)}`);

  results.dashboard = await timeDashboard(db.name, timeIt);
  console.log(`dashboard (picas dashboard, over HTTP): ${JSON.stringify(results.dashboard)}`);

  // A push not indexed yet: status answers at once, from the index as it is.
  for (let i = 0; i < 20_000; i += 5_000) await db.bulkDocs(Array.from({ length: 5_000 }, (_, j) => newToken({ _id: `late_${i + j}` })));
  t0 = performance.now();
  const lagging = await farmStatus(db);
  results.whileCatchingUp = { ms: ms(t0), catchingUp: lagging.index.catchingUp, indexLag: lagging.index.indexLag };
  console.log(`right after a push of 20,000: answered in ${ms(t0)} ms, catching up: ${lagging.index.catchingUp} (${lagging.index.indexLag} changes behind)`);
  // ...and again while the indexers that read started (update=lazy) are at work, as with a dashboard open
  // during a push: status must not wait for them either.
  const again: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    const s = await farmStatus(db);
    again.push(ms(t0));
    if (!s.index.catchingUp) break;
  }
  results.whileIndexing = { eachMs: again };
  console.log(`again while the indexers run: ${again.join(', ')} ms`);
} finally {
  await db.destroy().catch(() => undefined);
  await couch.close();
  await server.stop();
}
/**
 * `picas dashboard` as a user starts it (the built CLI when there is one), asked over HTTP what its page
 * asks: the page itself, the first status (a cold read of everything status shows), the status again
 * (served from its watcher), a page of error tokens, a page by id prefix, and one token with its logs.
 */
async function timeDashboard(database: string, timeIt: (f: () => Promise<unknown>) => Promise<unknown>) {
  const built = join(ROOT, 'dist/cli/main.js');
  const argv = existsSync(built) ? [built] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...argv, 'dashboard', '--port', '0'], { env: server.env(database), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      rl.once('line', (line) => { rl.close(); resolve(line.trim()); });
      child.once('exit', (code) => reject(new Error(`picas dashboard exited with ${code}: ${stderr}`)));
    });
    const origin = new URL(url).origin;
    let t0 = performance.now();
    const home = await fetch(url);
    const cookie = (home.headers.get('set-cookie') ?? '').split(';')[0]!;
    await home.text();
    const pageMs = ms(t0);
    const get = async (path: string) => {
      const res = await fetch(`${origin}${path}`, { headers: { cookie } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    t0 = performance.now();
    await get('/api/status');
    const firstStatusMs = ms(t0);
    const errors = (await get('/api/tokens?state=error&limit=1')).tokens as { id: string }[];
    const timings = {
      pageMs,
      firstStatusMs,
      status: await timeIt(() => get('/api/status')),
      errorTokensPage: await timeIt(() => get('/api/tokens?state=error&limit=50')),
      prefixPage: await timeIt(() => get('/api/tokens?prefix=bench_0005&limit=50')),
      oneToken: await timeIt(() => get(`/api/token?id=${encodeURIComponent(errors[0]?.id ?? 'bench_00000061')}`)),
    };
    // The chart's first read (the last hour, up to 20,000 rows) follows the first status; the dashboard is
    // stopped only once it has arrived, so the server is not still answering it during the next section.
    let chartSeenAfterMs: number | undefined;
    for (let i = 0; i < 240 && chartSeenAfterMs === undefined; i++) {
      if ((await get('/api/status')).throughput) chartSeenAfterMs = ms(t0);
      else await new Promise((r) => setTimeout(r, 250));
    }
    return { ...timings, chartSeenAfterMs };
  } finally {
    child.kill('SIGTERM');
  }
}

const out = opt('--json');
if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results));
