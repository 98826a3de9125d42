// The benchmark suite of issue 7: every section measured in one run against one server.
//   npm run bench -- [--url <couchdb url with credentials>] [--short] [--json <file>] [--only raw,baseline,push,processing,waiting,scale]
// Without --url an embedded server is started in a child process on a free loopback port with a temp data
// dir. --short is the CI mode (seconds, small sizes). Prints markdown tables and the targets; --json
// writes every figure.
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { BenchUsageError, parseArgs, type BenchArgs } from './lib/args.js';
import { openBenchServer } from './lib/server.js';
import type { BenchContext } from './lib/context.js';
import { redactUrl } from '../src/couch/server.js';
import { rawSection } from './sections/raw.js';
import { baselineSection } from './sections/baseline.js';
import { pushSection } from './sections/push.js';
import { processingSection } from './sections/processing.js';
import { scaleSection } from './sections/scale.js';
import { waitingSection } from './sections/waiting.js';
import { judgeTargets, type BenchResults } from './targets.js';
import { formatReport } from './report.js';

async function main(args: BenchArgs): Promise<number> {
  const started = new Date();
  const load0 = loadavg();
  const server = await openBenchServer(args.url);
  const couch = server.client();
  const ctx: BenchContext = { server, couch, short: args.short, log: (line) => process.stderr.write(`${line}\n`) };
  const pilots = args.short ? [1, 4] : [1, 8, 32];
  const batches = args.short ? [1, 10] : [1, 10, 50];
  const res: BenchResults = {};
  const errors: string[] = [];
  const section = async <T>(name: BenchArgs['only'] extends Set<infer S> ? S : never, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!args.only.has(name)) return undefined;
    ctx.log(`== ${name}`);
    const t0 = performance.now();
    try {
      return await fn();
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
      ctx.log(`${name} FAILED: ${(err as Error).stack}`);
      return undefined;
    } finally {
      ctx.log(`== ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  };
  try {
    res.raw = await section('raw', () => rawSection(ctx));
    res.baseline = await section('baseline', () => baselineSection(ctx, pilots));
    res.push = await section('push', () => pushSection(ctx));
    res.processing = await section('processing', () => processingSection(ctx, pilots, batches));
    res.waiting = await section('waiting', () => waitingSection(ctx, args.waitingPilots, args.waitWindowS));
    res.scale = await section('scale', () => scaleSection(ctx, args.scaleSizes, args.scaleBudgetS));
  } finally {
    await couch.close();
    await server.stop();
  }
  const targets = judgeTargets(res);
  const command = ['npm run bench --', ...process.argv.slice(2).map((a) => (/^https?:\/\//.test(a) ? redactUrl(a) : a))].join(' ');
  console.log(`## picas bench, ${started.toISOString()}`);
  console.log(`server: ${server.label}; machine: ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GB, node ${process.version}; ` +
    `load average at start ${load0.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ` +
    `took ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s; command: ${command}\n`);
  console.log(formatReport(res, targets));
  if (errors.length) console.log(`\nsections that failed:\n${errors.map((e) => `- ${e}`).join('\n')}`);
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify({
      date: started.toISOString(), command, server: server.label, short: args.short,
      machine: { cores: availableParallelism(), memGb: Math.round(totalmem() / 2 ** 30), node: process.version, loadStart: load0, loadEnd: loadavg() },
      elapsedS: (Date.now() - started.getTime()) / 1000, results: res, targets, errors,
    }, null, 2)}\n`);
  }
  return errors.length ? 1 : 0;
}

try {
  process.exitCode = await main(parseArgs(process.argv.slice(2)));
} catch (err) {
  if (err instanceof BenchUsageError) {
    console.error(`bench: ${err.message}`);
    process.exitCode = 2;
  } else throw err;
}
