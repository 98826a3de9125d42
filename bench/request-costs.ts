// What each request of a pilot's claim cycle costs the embedded server, in server CPU: the cycle of a
// batch-B pilot, done by hand one request at a time, each kind's CPU summed over many cycles (the kernel
// counts CPU in 10 ms ticks, so single requests are too short to time one by one).
//   npx tsx bench/request-costs.ts [--batch 50] [--cycles 60] [--tokens 20000]
import { spawnEmbeddedServer } from '../test/helpers/couch.js';
import { CouchServer } from '../src/couch/server.js';
import { fillTokens, freshDb, warmViews } from './lib/tokens.js';
import { cpuSeconds } from './lib/proc.js';
import type { Token } from '../src/tokens/token.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const batch = arg('batch', 50);
const cycles = arg('cycles', 60);
const tokens = arg('tokens', Math.max(20_000, batch * cycles * 2));

const server = await spawnEmbeddedServer();
const url = new URL(server.url);
url.username = server.username; url.password = server.password;
const couch = new CouchServer({ url: url.toString(), timeoutMs: 120_000 });
const pid = server.child.pid!;
const cpu = new Map<string, number>();
const count = new Map<string, number>();
async function timed<T>(kind: string, fn: () => Promise<T>): Promise<T> {
  const c0 = cpuSeconds(pid)!.self;
  const out = await fn();
  // Let the server finish what it does after answering (e.g. writing out) before reading its CPU.
  await new Promise((r) => setImmediate(r));
  cpu.set(kind, (cpu.get(kind) ?? 0) + cpuSeconds(pid)!.self - c0);
  count.set(kind, (count.get(kind) ?? 0) + 1);
  return out;
}

try {
  const db = await freshDb(couch, 'costs');
  await fillTokens(db, tokens);
  await warmViews(db);
  let next = 0;
  const id = (i: number) => `token_${String(i).padStart(8, '0')}`;
  for (let c = 0; c < cycles; c++) {
    // The view query that follows a batch's claims and results: it indexes those changes first.
    await timed(`view todo, ${2 * batch} rows, after ${batch} changed tokens`, () =>
      db.view('Monitor', 'todo', { startkey: id(next), limit: 2 * batch }));
    await timed(`view todo, ${2 * batch} rows, index up to date`, () =>
      db.view('Monitor', 'todo', { startkey: id(next), limit: 2 * batch }));
    const ids = Array.from({ length: batch }, (_, i) => id(next + i));
    next += batch;
    const docs = (await timed(`_all_docs keys=${batch} include_docs`, () => db.allDocs<Token>({ keys: ids, include_docs: true })))
      .rows.map((r) => r.doc!);
    const claimed = await timed(`_bulk_docs ${batch} updates (claim)`, () => db.bulkDocs(docs.map((d) => ({ ...d, lock: 1 }))));
    await timed(`_bulk_docs ${batch} updates (result)`, () =>
      db.bulkDocs(docs.map((d, i) => ({ ...d, _rev: claimed[i]!.rev!, lock: 1, done: 1, exit_code: 0 }))));
  }
  console.log(`embedded server, batch ${batch}, ${cycles} cycles, ${tokens} tokens in the database\n`);
  console.log('| request | server CPU ms per request | per token |\n| --- | --- | --- |');
  let total = 0;
  for (const [kind, s] of cpu) {
    const perRequest = (s * 1000) / count.get(kind)!;
    const counts = !kind.includes('index up to date');
    if (counts) total += perRequest / batch;
    console.log(`| ${kind} | ${perRequest.toFixed(1)} | ${counts ? (perRequest / batch).toFixed(3) : '(not in a cycle)'} |`);
  }
  console.log(`| **a claim cycle, per token** | | **${total.toFixed(3)}** |`);
  await db.destroy();
} finally {
  await couch.close();
  await server.stop();
}
