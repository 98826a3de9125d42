import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { Database } from '../../src/couch/database.js';
import type { CouchServer } from '../../src/couch/server.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';
import { logAttachmentNames } from '../../src/tokens/operations.js';
import { recordingCommand, readExecutions, assertNoOverlap, assertSettled } from './records.js';

/** Shared pieces of the fault scenarios: a database of recording tokens, lost-node kills, the final checks. */

let dbCount = 0;

/** A fresh database (name derived from `base`) with `count` recording tokens `<prefix><i>`. */
export async function recordingDb(
  couch: CouchServer, base: string, count: number, file: string, seconds: number | ((i: number) => number), prefix = 'f',
): Promise<{ db: Database; ids: string[] }> {
  const db = couch.db(`${base}-s${dbCount++}`);
  await db.create();
  await ensureDesignDocs(db);
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  const secondsOf = typeof seconds === 'number' ? () => seconds : seconds;
  for (let i = 0; i < ids.length; i += 500) {
    await db.bulkDocs(ids.slice(i, i + 500).map((id, j) => newToken({ _id: id, input: recordingCommand(file, secondsOf(i + j)) })));
  }
  return { db, ids };
}

/** Parent pid of a process, from /proc (undefined when it is gone). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** A process and all its descendants (commands, their children, the watchdog). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const ppid = parentOf(pid);
    if (ppid !== undefined) (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(pid);
  }
  const all: number[] = [];
  const queue = [root];
  while (queue.length && all.length < 10_000) {
    const p = queue.shift()!;
    all.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return all;
}

const signal = (pid: number, sig: NodeJS.Signals) => { try { process.kill(pid, sig); } catch { /* gone */ } };

/**
 * A lost node: the pilot, its commands and its watchdog all die at once. Everything is frozen first (so no
 * process reacts to another's death), then killed. Executions the kill cut short get an end record at the
 * moment of the kill, so overlap checks know when they stopped. Returns how many processes died.
 */
export function killNode(pilotPid: number, recordFile: string): number {
  const tree = processTree(pilotPid);
  for (const pid of tree) signal(pid, 'SIGSTOP');
  // The tree again: a child forked between the listing and the freeze is caught now.
  const all = [...new Set([...tree, ...processTree(pilotPid)])];
  for (const pid of all) signal(pid, 'SIGSTOP');
  for (const pid of all) { signal(-pid, 'SIGKILL'); signal(pid, 'SIGKILL'); }
  const killedAt = BigInt(Date.now()) * 1_000_000n;
  const pids = new Set(all);
  for (const e of readExecutions(recordFile)) {
    if (e.end === undefined && pids.has(e.pid)) appendFileSync(recordFile, `end ${e.id} ${killedAt} killed\n`);
  }
  return all.length;
}

/** Seeded pseudo-random numbers (mulberry32): a failing seed replays the same choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Exactly one recorded result per done token: its stdout log names one execution, and that execution ran
 * to its end (a killed or stopped one can never be the result).
 */
export async function assertOneResult(db: Database, ids: string[], file: string, note = ''): Promise<void> {
  const executions = readExecutions(file);
  for (const id of ids) {
    const t = await db.get<Token>(id);
    if (t.lock === 99) continue;
    const out = (await db.getAttachment(id, logAttachmentNames(id).out)).toString('utf8');
    const lines = out.split('\n').filter((l) => l.startsWith('result '));
    assert.equal(lines.length, 1, `${id}: one result in its log${note}`);
    const pid = Number(lines[0]!.split(' ')[2]);
    const own = executions.find((e) => e.id === id && e.pid === pid);
    assert.ok(own, `${id}: its result comes from a recorded execution${note}`);
    assert.equal(own.how, 'ok', `${id}: its result comes from an execution that finished${note}`);
  }
}

/** All checks after a scenario: settled, no overlap (an execution without an end counts as open until now), one result each. */
export async function assertScenario(db: Database, ids: string[], file: string, note = ''): Promise<void> {
  const executions = readExecutions(file);
  assertNoOverlap(executions, BigInt(Date.now()) * 1_000_000n);
  await assertSettled(db, ids, executions);
  await assertOneResult(db, ids, file, note);
}

/** Stderr of a picas process holds no JavaScript stack trace. */
export function assertNoTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at .+(\(|:\d+:\d+)/m, `no stack trace expected:\n${stderr}`);
}
