// Size and start-up time of each way to run picas, for the lone-file builds of `npm run bundle` above all:
// Snakemake runs `picas snakemake-status <id>` once per job and poll, so its start-up is paid constantly.
//   npx tsx bench/bundle.ts [--runs 20] [--url <couchdb url with credentials>]
// Needs `npm run build` (dist/cli/main.js) and `npm run bundle` (dist/picas.mjs, dist/picas) first; a build
// that is missing is skipped with a note. Prints a markdown table: file size, median and 90th percentile
// wall time of `--version` (start-up alone) and of `snakemake-status` on an existing token (start-up,
// connection and one request), against an embedded server started here unless --url is given.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { openBenchServer } from './lib/server.js';
import { ROOT } from '../test/helpers/couch.js';
import { newToken } from '../src/tokens/token.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 20);

interface Way { name: string; size: string; cmd: string; pre: string[]; present: boolean }
const file = (p: string) => join(ROOT, p);
const ways: Way[] = [
  { name: 'node dist/cli/main.js (npm package)', size: 'dist/ + node_modules', cmd: process.execPath, pre: [file('dist/cli/main.js')], present: existsSync(file('dist/cli/main.js')) },
  { name: 'node dist/picas.mjs', size: '', cmd: process.execPath, pre: [file('dist/picas.mjs')], present: existsSync(file('dist/picas.mjs')) },
  { name: 'dist/picas (single executable)', size: '', cmd: file('dist/picas'), pre: [], present: existsSync(file('dist/picas')) },
];
for (const w of ways) if (w.present && !w.size) w.size = `${(statSync(w.cmd === process.execPath ? w.pre[0]! : w.cmd).size / 1e6).toFixed(2)} MB`;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** Wall and CPU (user + system) milliseconds of one run each; CPU time is what a loaded machine distorts least. */
function time(w: Way, args: string[], env: NodeJS.ProcessEnv): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  const line = [w.cmd, ...w.pre, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  for (let i = 0; i < runs + 2; i++) {
    // bash's own `time` reports the child's real, user and system seconds.
    const r = spawnSync('bash', ['-c', `TIMEFORMAT='%R %U %S'; time ${line} >/dev/null`], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${w.name} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    const [real, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
    if (i >= 2) { wall.push(real * 1000); cpu.push((user + sys) * 1000); } // the first two warm the page cache
  }
  return { wall, cpu };
}

const server = await openBenchServer(arg('--url'));
const couch = server.client();
const dbName = `picas-bench-bundle-${Date.now()}`;
const db = couch.db(dbName);
try {
  await db.create();
  await db.put(newToken({ _id: 'bench-status' }));
  const env = { ...server.env(dbName), PICAS_CONFIG_DIR: join(ROOT, '.bench-no-config') };
  console.log(`picas start-up, ${runs} runs each (node ${process.version}; server: ${server.label})\n`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${availableParallelism()} cores)\n`);
  console.log('| how | size | `--version` wall median / p90 | CPU median | `snakemake-status` wall median / p90 | CPU median |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  for (const w of ways) {
    if (!w.present) { console.log(`| ${w.name} | (not built) | | | | |`); continue; }
    const v = time(w, ['--version'], env);
    const s = time(w, ['snakemake-status', 'bench-status'], env);
    console.log(`| ${w.name} | ${w.size} | ${ms(quantile(v.wall, 0.5))} / ${ms(quantile(v.wall, 0.9))} | ${ms(quantile(v.cpu, 0.5))} | ${ms(quantile(s.wall, 0.5))} / ${ms(quantile(s.wall, 0.9))} | ${ms(quantile(s.cpu, 0.5))} |`);
  }
} finally {
  await db.destroy().catch(() => {});
  await couch.close();
  await server.stop();
}
