// Where the embedded server's CPU goes while pilots process no-op tokens: starts the server under
// `--cpu-prof`, fills a database, runs P pilot processes (the bench's API pilot), stops the server and
// sums the profile's self time by package and by function. The figures behind bench/RESULTS.md's profile.
//   npx tsx bench/profile-server.ts [--tokens 4000] [--pilots 1] [--batch 50] [--seconds 20] [--top 25]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { CouchServer } from '../src/couch/server.js';
import { ChildPool } from './lib/children.js';
import { fillTokens, freshDb, warmViews } from './lib/tokens.js';
import { cpuSeconds } from './lib/proc.js';
import { sumProfile } from './lib/cpu-profile.js';
import { startRequestCensus } from './lib/request-census.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const tokens = arg('tokens', 4000);
const pilots = arg('pilots', 1);
const batch = arg('batch', 50);
const seconds = arg('seconds', 20);
const top = arg('top', 25);

const ROOT = new URL('..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'picas-profile-data-'));
const profDir = mkdtempSync(join(tmpdir(), 'picas-profile-'));
const password = randomBytes(8).toString('hex');
const server = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--import', 'tsx',
  join(ROOT, 'test/helpers/serve-child.ts'), dataDir, 'admin', password], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: server.stdout! }).once('line', (line) => resolve(JSON.parse(line).url));
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const withAuth = new URL(url);
withAuth.username = 'admin'; withAuth.password = password;
const couch = new CouchServer({ url: withAuth.toString(), timeoutMs: 120_000 });

try {
  const db = await freshDb(couch, 'profile');
  await fillTokens(db, tokens);
  await warmViews(db);
  const execDir = mkdtempSync(join(tmpdir(), 'picas-profile-exec-'));
  // Pilots go through a counting relay: the relay costs the pilots a little, the server nothing.
  const census = await startRequestCensus(withAuth.toString());
  const pool = new ChildPool<any, any>('pilot-process.ts', pilots, { ...process.env, BENCH_COUCH_URL: census.url });
  await pool.ready();
  const cpu0 = cpuSeconds(server.pid!)!.self;
  const t0 = performance.now();
  const { results } = await pool.runAll((i) => ({ database: db.name, execFile: join(execDir, `p${i}`), batch, maxS: seconds }), (seconds + 120) * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(server.pid!)!.self - cpu0;
  await pool.close();
  const done = results.reduce((n: number, r: any) => n + (r.summary?.done ?? 0), 0);
  console.log(`${pilots} pilot(s), batch ${batch}: ${done} tokens in ${wall.toFixed(1)} s = ${(done / wall).toFixed(1)}/s; ` +
    `server CPU ${cpu.toFixed(2)} s = ${((cpu * 1000) / Math.max(1, done)).toFixed(2)} ms/token`);
  await census.close();
  console.log('\n| request | count | per token |\n| --- | --- | --- |');
  for (const [kind, n] of [...census.counts].sort((a, b) => b[1] - a[1])) {
    console.log(`| ${kind} | ${n} | ${(n / Math.max(1, done)).toFixed(3)} |`);
  }
  rmSync(execDir, { recursive: true, force: true });
} finally {
  await couch.close();
  await new Promise((r) => { server.once('exit', r); server.kill('SIGTERM'); });
}
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${profDir}`);
const summary = sumProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')), top);
console.log(summary);
rmSync(dataDir, { recursive: true, force: true });
console.log(`profile kept: ${join(profDir, file)}`);
