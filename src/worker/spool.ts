import { parseJson, toJson } from '../couch/json.js';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Database } from '../couch/database.js';
import type { RetryOptions } from '../couch/retry.js';
import type { ClaimedToken } from '../claim/claim.js';
import type { Token } from '../tokens/token.js';
import { saveResult, type SaveOutcome } from './save-result.js';

/**
 * A local spool for results the database could not take (an outage longer than the pilot's patience):
 * each is appended as one JSON line, and the next start of a pilot with the same spool file delivers it,
 * through the same attempt-checked path as any result (a token taken over meanwhile gets it as a stale
 * record). A result counts as delivered once it is in the database or in this file.
 */
export interface SpoolEntry {
  id: string;
  attempt: string;
  claimed: ClaimedToken;
  /** Fields the result set (values as in the result) and fields it removed. */
  set: Record<string, unknown>;
  removed: string[];
  spooled_at: number;
}

export function spoolResult(file: string, claimed: ClaimedToken, result: Token): void {
  const set: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) {
    if (k === '_rev') continue;
    if (toJson(v) !== toJson((claimed as Record<string, unknown>)[k])) set[k] = v;
  }
  const removed = Object.keys(claimed).filter((k) => k !== '_rev' && !(k in result));
  const entry: SpoolEntry = { id: claimed._id, attempt: claimed.picas.attempt, claimed, set, removed, spooled_at: Date.now() };
  appendFileSync(file, `${toJson(entry)}\n`, { mode: 0o600 });
}

/** The result of a spool entry applied to the token as it is now. */
export function applySpooled(entry: SpoolEntry): (current: Token) => Token {
  return (current) => {
    const next = { ...current, ...entry.set } as Record<string, unknown>;
    for (const k of entry.removed) delete next[k];
    return next as Token;
  };
}

/**
 * Deliver the spooled results; those that still cannot be delivered stay in the file. Returns what happened
 * to each delivered entry.
 */
export async function deliverSpool(db: Database, file: string, retry: RetryOptions = {}, log: (line: string) => void = () => {}): Promise<SaveOutcome[]> {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const outcomes: SaveOutcome[] = [];
  const kept: string[] = [];
  for (const line of lines) {
    let entry: SpoolEntry;
    try {
      entry = parseJson<SpoolEntry>(line);
    } catch {
      log(`spool ${file}: an unreadable line was kept aside`);
      kept.push(line);
      continue;
    }
    try {
      const outcome = await saveResult(db, entry.claimed, applySpooled(entry), retry);
      outcomes.push(outcome);
      log(`${entry.id}: spooled result ${outcome.kind === 'saved' ? 'delivered' : 'kept as a stale-attempt record (the token was taken over)'}`);
    } catch (err) {
      log(`${entry.id}: spooled result still not delivered (${(err as Error).message})`);
      kept.push(line);
    }
  }
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  renameSync(tmp, file);
  return outcomes;
}
