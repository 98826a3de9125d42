// The large fault-injection run (issue 6): thousands of tokens, dozens of pilot processes, many seeded
// SIGKILLs (lost nodes and lone pilots) and server outages, then the guarantees counted from the database
// and from each command's start/end record. Prints tokens, pilots, kills, outages, overlaps, lost, stuck.
//
//   node --import tsx bench/faults.ts [--tokens 2000] [--pilots 24] [--kills 40] [--outages 2]
//                                     [--lease 5] [--slots 2] [--seed n] [--json file]
//
// The server is an embedded one in its own process, behind a loopback proxy so that it can be killed and
// started again on the same data (a new port) while pilots keep one address.
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnEmbeddedServer, type TestServer } from '../test/helpers/couch.js';
import { cliEnv, spawnCli, tempDir, type CliResult } from '../test/helpers/cli.js';
import { startProxy } from '../test/helpers/proxy.js';
import { CouchServer } from '../src/couch/server.js';
import { logAttachmentNames, type Token } from '../src/tokens/index.js';
import { readExecutions, type Execution } from '../test/faults/records.js';
import { recordingDb, killNode, seededRandom } from '../test/faults/scenario.js';

interface Args { tokens: number; pilots: number; kills: number; outages: number; lease: number; slots: number; seed: number; json?: string }

function parseArgs(argv: string[]): Args {
  const args: Args = { tokens: 2000, pilots: 24, kills: 40, outages: 2, lease: 5, slots: 2, seed: Math.floor(Math.random() * 2 ** 31) };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--/, '');
    const value = argv[++i];
    if (name === 'json') { args.json = value; continue; }
    if (!(name in args) || value === undefined || !Number.isFinite(Number(value))) {
      throw new Error(`usage: bench/faults.ts [--tokens n] [--pilots n] [--kills n] [--outages n] [--lease s] [--slots n] [--seed n] [--json file] (bad: --${name})`);
    }
    (args as unknown as Record<string, number>)[name] = Number(value);
  }
  return args;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEADLINE_MS = 9 * 60_000;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const rnd = seededRandom(args.seed);
  console.log(`faults bench: ${args.tokens} tokens, ${args.pilots} pilots, ${args.kills} kills, ${args.outages} outages, lease ${args.lease} s, ${args.slots} slots per pilot, seed ${args.seed}`);
  const keepAlive = setInterval(() => {}, 1_000);
  let server = await spawnEmbeddedServer();
  server.child.ref();
  const { dataDir, username, password } = server;
  const proxy = await startProxy(server.url);
  const dir = tempDir('bench-faults');
  const file = join(dir, 'records');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  let couch = new CouchServer({ url: server.url, username, password, timeoutMs: 120_000 });
  // Commands of 0.05 to 0.5 s: a few minutes of work in all, spread over the pilots.
  const { db, ids } = await recordingDb(couch, 'picas-bench-faults', args.tokens, file, () => 0.05 + Math.round(rnd() * 45) / 100, 't');
  const env = cliEnv({ url: proxy.url, username, password } as TestServer, { PICAS_DATABASE: db.name });
  const runArgs = ['run', '-q', '--slots', String(args.slots), '--lease', String(args.lease), '--grace', '1', '--outage-patience', '120', '--max-lost', '20'];

  type Pilot = ReturnType<typeof spawnCli> & { done?: CliResult; killed?: boolean };
  const pilots: Pilot[] = [];
  const startPilot = () => {
    const i = pilots.length;
    const p = spawnCli([...runArgs, '--work-dir', join(dir, `w${i}`)], env) as Pilot;
    p.stderr!.on('data', (d) => appendFileSync(join(logs, `pilot-${i}.log`), d));
    void p.result.then((r) => { p.done = r; });
    pilots.push(p);
  };
  for (let i = 0; i < args.pilots; i++) startPilot();

  // Faults placed by progress (share of tokens started), so they all fall within the run whatever its speed.
  let nodeKills = 0;
  let pilotKills = 0;
  let outages = 0;
  const plan: { at: number; kind: 'kill' | 'outage' }[] = [
    ...Array.from({ length: args.kills }, () => ({ at: 0.02 + rnd() * 0.8, kind: 'kill' as const })),
    ...Array.from({ length: args.outages }, (_, i) => ({ at: ((i + 1) * 0.8) / (args.outages + 1), kind: 'outage' as const })),
  ].sort((a, b) => a.at - b.at);
  const progress = () => new Set(readExecutions(file).map((e) => e.id)).size / args.tokens;
  for (const step of plan) {
    while (progress() < step.at && Date.now() - started < DEADLINE_MS && !pilots.every((p) => p.done || p.killed)) await sleep(250);
    if (pilots.every((p) => p.done || p.killed)) break;
    if (step.kind === 'kill') {
      const live = pilots.filter((p) => !p.done && !p.killed);
      const victim = live[Math.floor(rnd() * live.length)];
      if (!victim) continue;
      victim.killed = true;
      if (rnd() < 0.5) { killNode(victim.pid!, file); nodeKills++; } else { victim.kill('SIGKILL'); pilotKills++; }
      startPilot();
    } else {
      // The server killed and started again on its data after 2 leases; new connections refused meanwhile.
      outages++;
      await couch.close();
      await server.stop('SIGKILL');
      proxy.setMode('refuse');
      await sleep(args.lease * 2_000);
      server = await spawnEmbeddedServer({ dataDir, username, password });
      server.child.ref();
      proxy.setTarget(server.url);
      proxy.setMode('pass');
      couch = new CouchServer({ url: server.url, username, password, timeoutMs: 120_000 });
    }
  }
  const guard = setTimeout(() => { for (const p of pilots) if (!p.done) p.kill('SIGKILL'); }, Math.max(10_000, DEADLINE_MS - (Date.now() - started)));
  const results = await Promise.all(pilots.map((p) => p.result));
  clearTimeout(guard);
  const runMs = Date.now() - started;

  // The checks, counted rather than asserted.
  const database = couch.db(db.name);
  const executions = readExecutions(file);
  const byId = new Map<string, Execution[]>();
  for (const e of executions) (byId.get(e.id) ?? byId.set(e.id, []).get(e.id)!).push(e);
  const now = BigInt(Date.now()) * 1_000_000n;
  let overlaps = 0;
  for (const list of byId.values()) {
    const sorted = list.slice().sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) if ((sorted[i - 1]!.end ?? now) > sorted[i]!.start) overlaps++;
  }
  let done = 0; let errors = 0; let stuck = 0; let lost = 0; let badResult = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await database.allDocs<Token>({ keys: ids.slice(i, i + 500), include_docs: true } as never)).rows;
    for (const row of rows) {
      const t = row.doc;
      if (!t) { lost++; continue; }
      if (t.lock > 0 && t.done === 0) { stuck++; continue; }
      if (t.lock === 0) { lost++; continue; }
      if (t.lock === 99) { if (t.error.at(-1)?.message) errors++; else lost++; continue; }
      done++;
      const out = (await database.getAttachment(t._id, logAttachmentNames(t._id).out)).toString();
      const lines = out.split('\n').filter((l) => l.startsWith('result '));
      const pid = Number(lines[0]?.split(' ')[2]);
      const own = byId.get(t._id)?.find((e) => e.pid === pid);
      if (lines.length !== 1 || own?.how !== 'ok') badResult++;
    }
  }
  const failedPilots = results.filter((r, i) => !pilots[i]!.killed && r.code !== 0).length;
  const figures = {
    date: new Date().toISOString(), seed: args.seed, tokens: args.tokens, slots: args.slots, pilots: pilots.length, kills: nodeKills + pilotKills,
    node_kills: nodeKills, pilot_kills: pilotKills, outages, executions: executions.length,
    reruns: executions.length - byId.size, done, errors, overlaps, lost, stuck, bad_results: badResult,
    pilots_failed: failedPilots, seconds: Math.round(runMs / 1000),
  };
  console.log('');
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(14)} ${v}`);
  if (args.json) writeFileSync(args.json, JSON.stringify(figures, null, 2));
  if (failedPilots) console.log(`pilot logs: ${logs}`);
  await couch.db(db.name).destroy().catch(() => {});
  await couch.close();
  await proxy.close();
  await server.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  if (!failedPilots) rmSync(dir, { recursive: true, force: true });
  clearInterval(keepAlive);
  process.exitCode = overlaps || lost || stuck || badResult || failedPilots ? 1 : 0;
}

await main();
