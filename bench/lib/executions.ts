// Per-execution records: every run of a token's work appends its id as one line to a file of the process
// that ran it. Counting lines per id gives executions, duplicate runs and tokens run at all.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function executionDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `picas-bench-${label}-`));
}

export interface ExecutionCount {
  executions: number;
  distinct: number;
  /** Executions beyond the first of each token. */
  duplicates: number;
  /** Tokens that ran more than once. */
  tokensRunTwice: number;
}

export function countExecutions(dir: string): ExecutionCount {
  const perToken = new Map<string, number>();
  let executions = 0;
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const id = line.trim();
      if (!id) continue;
      executions++;
      perToken.set(id, (perToken.get(id) ?? 0) + 1);
    }
  }
  let tokensRunTwice = 0;
  for (const n of perToken.values()) if (n > 1) tokensRunTwice++;
  return { executions, distinct: perToken.size, duplicates: executions - perToken.size, tokensRunTwice };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
