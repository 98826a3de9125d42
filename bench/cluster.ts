// Issue 17 on a real CouchDB cluster: pilots spread over the nodes (each pilot talks to one node), and pilots
// behind a load balancer (each request to the next node), then counts what must be zero: tokens executed
// twice, executions that overlapped, documents left with _conflicts (tokens and heartbeats), tokens in error;
// and how many writes the nodes answered 202 Accepted.
//
//   node --import tsx bench/cluster.ts --urls http://admin:PW@127.0.0.1:25984,http://admin:PW@127.0.0.1:25986,...
//        [--mode spread|balancer|both] [--tokens 600] [--pilots 12] [--slots 2] [--json file]
//        [--stop-node 'shell command' --start-node 'shell command' [--stop-after 10] [--down-seconds 15]]
//
// With --stop-node, that command is run --stop-after seconds into each scenario (e.g. kill one node's
// process), and --start-node --down-seconds later (start it again): pilots that talk to the stopped node
// ride the outage out, the others go on, and the same counts must be zero.
// The cluster is not started here (see docs/guarantees.md, "Cluster", for how it was set up). Each node is
// reached through a counting loopback proxy of this bench (test/helpers/balancer.ts with one target, or three
// for the balancer mode), so every answer's status is counted on its way to the pilots. Pilots are
// `picas run` processes (CLI, from the sources) with their default settings but --slots; commands append
// their start and end to a shared file, as in the fault benches.
import { mkdirSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import { startBalancer, type Balancer } from '../test/helpers/balancer.js';
import { cliEnv, spawnCli, tempDir, type CliResult } from '../test/helpers/cli.js';
import { CouchServer } from '../src/couch/server.js';
import type { Doc } from '../src/couch/database.js';
import type { TestServer } from '../test/helpers/couch.js';
import { recordingDb } from '../test/faults/scenario.js';
import { readExecutions } from '../test/faults/records.js';
import type { Token } from '../src/tokens/index.js';

interface Args {
  urls: string[]; mode: 'spread' | 'balancer' | 'both'; tokens: number; pilots: number; slots: number; json?: string;
  stopNode?: string; startNode?: string; stopAfter: number; downSeconds: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { urls: [], mode: 'both', tokens: 600, pilots: 12, slots: 2, stopAfter: 10, downSeconds: 15 };
  const usage = 'usage: bench/cluster.ts --urls URL,URL,URL [--mode spread|balancer|both] [--tokens n] [--pilots n] [--slots n] [--json file]';
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--/, '');
    const value = argv[++i];
    if (value === undefined) throw new Error(`${usage} (no value for --${name})`);
    if (name === 'urls') args.urls = value.split(',').filter(Boolean);
    else if (name === 'mode' && ['spread', 'balancer', 'both'].includes(value)) args.mode = value as Args['mode'];
    else if (name === 'json') args.json = value;
    else if (name === 'stop-node') args.stopNode = value;
    else if (name === 'start-node') args.startNode = value;
    else if (name === 'stop-after' && Number(value) >= 0) args.stopAfter = Number(value);
    else if (name === 'down-seconds' && Number(value) >= 0) args.downSeconds = Number(value);
    else if (['tokens', 'pilots', 'slots'].includes(name) && Number.isInteger(Number(value)) && Number(value) > 0) {
      (args as unknown as Record<string, number>)[name] = Number(value);
    } else throw new Error(`${usage} (bad: --${name} ${value})`);
  }
  if (args.urls.length === 0) throw new Error(`${usage} (--urls is required: the nodes' admin URLs)`);
  if (!!args.stopNode !== !!args.startNode) throw new Error(`${usage} (--stop-node and --start-node go together)`);
  return args;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  mode: string; nodeStopped: boolean; tokens: number; pilots: number; slots: number; seconds: number;
  executedTwice: number; overlapping: number; neverRun: number; conflictsLeft: number; errors: number;
  accepted202: number; requests: number; pilotFailures: number;
}

function asServer(url: string): TestServer {
  const u = new URL(url);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = ''; u.password = '';
  const bare = u.toString().replace(/\/$/, '');
  return { url: bare, username, password, owned: false, authUrl: url, client: () => new CouchServer({ url: bare, username, password }) };
}

async function scenario(args: Args, mode: 'spread' | 'balancer'): Promise<Figures> {
  const nodes = args.urls.map(asServer);
  const admin = nodes[0]!.client();
  // Proxies that count answers: one per node (spread), or one in front of all nodes (balancer).
  const proxies: Balancer[] = mode === 'spread'
    ? await Promise.all(nodes.map((n) => startBalancer([n.url])))
    : [await startBalancer(nodes.map((n) => n.url))];
  const dir = tempDir(`bench-cluster-${mode}`);
  const file = join(dir, 'records');
  const { db, ids } = await recordingDb(admin, `picas-bench-cluster-${mode}-${process.pid}`, args.tokens, file, 0.05, 't');
  const started = Date.now();
  const pilots = Array.from({ length: args.pilots }, (_, i) => {
    const proxy = proxies[i % proxies.length]!;
    const env = cliEnv({ ...nodes[0]!, url: proxy.url }, { PICAS_DATABASE: db.name });
    const workDir = join(dir, `work-${i}`);
    mkdirSync(workDir);
    return spawnCli(['run', '-q', '--slots', String(args.slots), '--work-dir', workDir, '--json'], env);
  });
  const watchdog = setTimeout(() => { for (const p of pilots) p.kill('SIGKILL'); }, 15 * 60_000);
  // A node stopped mid-run and started again (bounded: both commands run once, synchronously).
  const outage = args.stopNode ? (async () => {
    await sleep(args.stopAfter * 1000);
    console.log(`  stopping a node: ${args.stopNode}`);
    execSync(args.stopNode!, { stdio: 'inherit', timeout: 60_000 });
    await sleep(args.downSeconds * 1000);
    console.log(`  starting it again: ${args.startNode}`);
    execSync(args.startNode!, { stdio: 'inherit', timeout: 180_000 });
  })() : Promise.resolve();
  const results: CliResult[] = await Promise.all(pilots.map((p) => p.result));
  clearTimeout(watchdog);
  await outage;
  const seconds = (Date.now() - started) / 1000;
  // Let the nodes' internal replication finish before counting conflicts.
  await sleep(3_000);
  const executions = readExecutions(file);
  const perToken = new Map<string, typeof executions>();
  for (const e of executions) (perToken.get(e.id) ?? perToken.set(e.id, []).get(e.id)!).push(e);
  let overlapping = 0;
  for (const list of perToken.values()) {
    const sorted = list.slice().sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) if ((sorted[i - 1]!.end ?? BigInt(Date.now()) * 1_000_000n) > sorted[i]!.start) { overlapping++; break; }
  }
  const all = (await db.allDocs<Doc>({ include_docs: true, conflicts: true })).rows.map((r) => r.doc!).filter(Boolean);
  const tokens = all.filter((d) => ids.includes(d._id)) as Token[];
  const figures: Figures = {
    mode, nodeStopped: !!args.stopNode, tokens: args.tokens, pilots: args.pilots, slots: args.slots, seconds,
    executedTwice: [...perToken.values()].filter((l) => l.length > 1).length,
    overlapping,
    neverRun: ids.filter((id) => !perToken.has(id)).length,
    conflictsLeft: all.filter((d) => (d._conflicts?.length ?? 0) > 0).length,
    errors: tokens.filter((t) => t.lock === 99 || t.done === 99 || (t.done > 0 && t.exit_code !== 0)).length + tokens.filter((t) => !(t.done > 0)).length,
    accepted202: proxies.reduce((s, p) => s + (p.statuses.get(202) ?? 0), 0),
    requests: proxies.reduce((s, p) => s + p.forwarded.reduce((a, b) => a + b, 0), 0),
    pilotFailures: results.filter((r) => r.code !== 0).length,
  };
  for (const [i, r] of results.entries()) if (r.code !== 0) console.error(`pilot ${i} exited ${r.code}: ${r.stderr.slice(-500)}`);
  await db.destroy().catch(() => {});
  for (const p of proxies) await p.close();
  await admin.close();
  return figures;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const keepAlive = setInterval(() => {}, 1_000);
  const modes: ('spread' | 'balancer')[] = args.mode === 'both' ? ['spread', 'balancer'] : [args.mode];
  const all: Figures[] = [];
  for (const mode of modes) {
    console.log(`cluster bench (${mode}): ${args.tokens} tokens, ${args.pilots} pilots x ${args.slots} slots over ${args.urls.length} node(s)...`);
    const f = await scenario(args, mode);
    all.push(f);
    console.log(`  ${f.seconds.toFixed(1)} s; executed twice ${f.executedTwice}, overlapping ${f.overlapping}, never run ${f.neverRun}, ` +
      `conflicts left ${f.conflictsLeft}, errors ${f.errors}, 202 answers ${f.accepted202} of ${f.requests} requests, pilots failed ${f.pilotFailures}`);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(all, null, 2));
  clearInterval(keepAlive);
  const bad = all.some((f) => f.executedTwice || f.overlapping || f.conflictsLeft || f.errors || f.pilotFailures || f.neverRun);
  process.exitCode = bad ? 1 : 0;
}

main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exit(2); });
