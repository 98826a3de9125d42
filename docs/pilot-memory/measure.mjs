// Peak RSS (VmHWM from /proc, as bench/lib/proc.ts reads it) of compiled `picas` processes, on an embedded
// server started with `picas serve` in a temp folder: `picas --version`; an idle `picas run --wait` on an
// empty database (6 s, then SIGTERM); `picas run --batch 50` over N `true` tokens (peak, pilot CPU, tokens/s).
// Usage, from the root of a checkout after `npm run build`:
//   node docs/pilot-memory/measure.mjs [tokens=3000] [--probe]
// --probe preloads probe.mjs into each picas process to report V8's heap spaces at the moment of peak RSS.
// PM_NODE_ARGS="--flag ..." passes node flags to the measured picas processes (e.g. --trace-gc with PM_STDOUT=1).
// Linux only (/proc). Not part of bench/ because bench/ belongs to another change; a candidate to move there.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
const ROOT = process.cwd();
const MAIN = join(ROOT, 'dist/cli/main.js');
const N = Number(process.argv[2] ?? 3000);
const PROBE = process.argv.includes('--probe');
const { CouchServer } = await import(join(ROOT, 'dist/index.js'));
const { ensureDesignDocs } = await import(join(ROOT, 'dist/tokens/design.js'));

function cpuS(pid) {
  try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) / 100; } catch { return null; }
}
function hwm(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024;
  } catch { return 0; }
}
let probeN = 0;
function runPicas(args, env, { killAfterMs } = {}) {
  const out = join(tmp, `probe-${probeN++}.json`);
  const pre = [...(process.env.PM_NODE_ARGS ? process.env.PM_NODE_ARGS.split(' ') : []), ...(PROBE ? ['--import', new URL('./probe.mjs', import.meta.url).pathname] : [])];
  const child = spawn(process.execPath, [...pre, MAIN, ...args], { env: { ...process.env, ...env, PM_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] });
  let peak = 0; let stderr = ''; let cpu = 0;
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.resume(); if (process.env.PM_STDOUT) child.stdout.pipe(process.stderr);
  const t = setInterval(() => { peak = Math.max(peak, hwm(child.pid)); cpu = cpuS(child.pid) ?? cpu; }, 5);
  const t0 = performance.now();
  if (killAfterMs) setTimeout(() => child.kill('SIGTERM'), killAfterMs);
  return new Promise((res) => child.once('exit', (code) => {
    clearInterval(t);
    let probe; try { probe = JSON.parse(readFileSync(out, 'utf8')); } catch {}
    res({ code, peakMb: +peak.toFixed(1), cpuS: cpu, s: +((performance.now() - t0) / 1000).toFixed(2), probe, stderr: stderr.slice(-500) });
  }));
}

const tmp = mkdtempSync(join(tmpdir(), 'picas-mem-'));
const conf = join(tmp, 'conf');
const server = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', join(tmp, 'data'), '-q'], { env: { ...process.env, PICAS_CONFIG_DIR: conf }, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((r) => createInterface({ input: server.stdout }).once('line', r));
const creds = JSON.parse(readFileSync(join(conf, 'embedded-server.json'), 'utf8'));
const couch = new CouchServer({ url, username: creds.username, password: creds.password, timeoutMs: 60000 });
const env = (db) => ({ PICAS_CONFIG_DIR: conf, PICAS_HOST_URL: url, PICAS_DATABASE: db, PICAS_USERNAME: creds.username, PICAS_PASSWORD: creds.password });
try {
  const results = {};
  results.version = await runPicas(['--version'], env('x'));
  const idle = couch.db('idle'); await idle.create(); await ensureDesignDocs(idle);
  results.idle = await runPicas(['run', '-q', '--wait', '--poll-interval', '1', '--work-dir', join(tmp, 'w')], env('idle'), { killAfterMs: 6000 });
  const work = couch.db('work'); await work.create(); await ensureDesignDocs(work);
  for (let s = 0; s < N; s += 1000) {
    const docs = [];
    for (let i = s; i < Math.min(N, s + 1000); i++) docs.push({ _id: `t${String(i).padStart(6, '0')}`, type: 'token', lock: 0, done: 0, hostname: '', scrub_count: 0, input: 'true', exit_code: '', output: {}, uploads: {}, error: [] });
    await work.bulkDocs(docs);
  }
  await work.view('Monitor', 'todo', { limit: 1 });
  results.run = await runPicas(['run', '-q', '--batch', '50', '--work-dir', join(tmp, 'w')], env('work'));
  const left = (await work.view('Monitor', 'todo', { limit: 0 })).total_rows;
  results.run.tokensPerS = +(N / results.run.s).toFixed(1);
  results.run.todoLeft = left;
  console.log(JSON.stringify(results, null, 1));
} finally {
  await couch.close?.();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(tmp, { recursive: true, force: true });
}
