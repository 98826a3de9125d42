// Client overhead: sequential GETs of one small document per second with `nano` (a dev dependency) and
// with our CouchServer (node:http keep-alive), against the same server, alternating rounds so that load from
// elsewhere on the machine hits both alike. This is the measured reason src/couch does not use nano.
//   npx tsx bench/client-overhead.ts [--url <couchdb url with credentials>] [--seconds 3] [--rounds 3]
import nano from 'nano';
import { randomBytes } from 'node:crypto';
import { openBenchServer } from './lib/server.js';
import { benchToken } from './lib/tokens.js';
import { cpuSeconds } from './lib/proc.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const seconds = Number(arg('seconds', '3'));
const rounds = Number(arg('rounds', '3'));
const given = process.argv.includes('--url') ? arg('url', '') : undefined;

const server = await openBenchServer(given);
const ours = server.client(30_000);
const dbName = `picas-bench-client-${randomBytes(3).toString('hex')}`;
const db = ours.db(dbName);
await db.create();
await db.put(benchToken('token_1', 'true'));
const authUrl = server.env(dbName).BENCH_COUCH_URL!;
const theirs = nano(authUrl).use(dbName);

interface Figure { client: string; round: number; gets: number; perS: number; benchCpuMsPerGet: number; serverCpuMsPerGet: number | null }
const figures: Figure[] = [];

async function measure(client: string, round: number, get: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 20; i++) await get(); // warm the connection
  const s0 = server.pid ? cpuSeconds(server.pid)?.self ?? null : null;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let gets = 0;
  while (performance.now() < until) { await get(); gets++; }
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const s1 = server.pid ? cpuSeconds(server.pid)?.self ?? null : null;
  figures.push({
    client, round, gets, perS: Math.round(gets / s),
    benchCpuMsPerGet: Math.round((c.user + c.system) / 1000 / gets * 1000) / 1000,
    serverCpuMsPerGet: s0 !== null && s1 !== null ? Math.round((s1 - s0) * 1000 / gets * 1000) / 1000 : null,
  });
}

try {
  for (let r = 1; r <= rounds; r++) {
    await measure('nano 11', r, () => theirs.get('token_1'));
    await measure('CouchServer (node:http)', r, () => db.get('token_1'));
  }
} finally {
  await db.destroy().catch(() => {});
  await ours.close();
  await server.stop();
}

const byClient = new Map<string, Figure[]>();
for (const f of figures) byClient.set(f.client, [...(byClient.get(f.client) ?? []), f]);
console.log(`server: ${server.label}; ${rounds} alternating rounds of ${seconds} s of sequential GETs of one token`);
console.log('| client | GETs/s per round | median GETs/s | client CPU ms per GET (median) |');
console.log('| --- | --- | --- | --- |');
const medianOf = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [client, fs] of byClient) {
  console.log(`| ${client} | ${fs.map((f) => f.perS).join(', ')} | ${medianOf(fs.map((f) => f.perS))} | ${medianOf(fs.map((f) => f.benchCpuMsPerGet))} |`);
}
const n = medianOf(byClient.get('nano 11')!.map((f) => f.perS));
const u = medianOf(byClient.get('CouchServer (node:http)')!.map((f) => f.perS));
console.log(`CouchServer / nano: ${(u / n).toFixed(2)}x`);
console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, figures }));
