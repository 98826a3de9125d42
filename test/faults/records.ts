import { readFileSync, existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { Database } from '../../src/couch/database.js';
import { countStates } from '../../src/tokens/status.js';
import type { Token } from '../../src/tokens/token.js';

/**
 * A command for fault tests: it records its start and end (with the reason it ended) in a shared file opened
 * for append, sleeps `seconds`, and exits 0. The TERM trap records when a watchdog or pilot stopped it.
 * Its stdout names its own process id (`result <id> <pid>`), so the token's log says which execution's
 * result was recorded.
 */
export function recordingCommand(file: string, seconds: number): string {
  return `trap 'echo "end $PICAS_TOKEN_ID $(date +%s%N) term" >> "${file}"; exit 143' TERM; ` +
    `echo "start $PICAS_TOKEN_ID $(date +%s%N) $$" >> "${file}"; sleep ${seconds} & wait $!; ` +
    `echo "end $PICAS_TOKEN_ID $(date +%s%N) ok" >> "${file}"; echo "result $PICAS_TOKEN_ID $$"`;
}

export interface Execution { id: string; start: bigint; end?: bigint; how?: string; pid: number }

export function readExecutions(file: string): Execution[] {
  if (!existsSync(file)) return [];
  const open = new Map<string, Execution[]>();
  const all: Execution[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, id, ns, extra] = line.split(' ');
    if (!kind || !id || !ns) continue;
    if (kind === 'start') {
      const e: Execution = { id, start: BigInt(ns), pid: Number(extra) };
      all.push(e);
      (open.get(id) ?? open.set(id, []).get(id)!).push(e);
    } else {
      const e = open.get(id)?.find((x) => x.end === undefined);
      if (e) { e.end = BigInt(ns); e.how = extra; }
    }
  }
  return all;
}

/** No two executions of one token overlap in time (an execution with no end is open until `openEnd`). */
export function assertNoOverlap(executions: Execution[], openEnd: bigint): void {
  const byId = new Map<string, Execution[]>();
  for (const e of executions) (byId.get(e.id) ?? byId.set(e.id, []).get(e.id)!).push(e);
  for (const [id, list] of byId) {
    const sorted = list.slice().sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) {
      const prevEnd = sorted[i - 1]!.end ?? openEnd;
      assert.ok(prevEnd <= sorted[i]!.start, `token ${id}: executions overlap (${sorted[i - 1]!.start}-${prevEnd} and ${sorted[i]!.start})`);
    }
  }
}

/** Every token done (or error with a reason), nothing locked, exactly one result per token. */
export async function assertSettled(db: Database, ids: string[], executions: Execution[]): Promise<void> {
  const counts = await countStates(db);
  assert.equal(counts.locked, 0, 'nothing stays locked');
  assert.equal(counts.todo, 0, 'nothing left to do');
  for (const id of ids) {
    const t = await db.get<Token>(id);
    if (t.lock === 99) {
      assert.ok(t.error.length > 0 && t.error.at(-1)!.message, `${id}: error with a reason`);
      continue;
    }
    assert.equal(t.exit_code, 0, `${id}: one recorded result (exit code 0)`);
    assert.ok(t.done > 0);
    const finished = executions.filter((e) => e.id === id && e.how === 'ok');
    assert.ok(finished.length >= 1, `${id}: its result comes from an execution that finished`);
  }
}
