import type { Token } from '../tokens/token.js';

/** How one attempt at a token ended. */
export type AttemptOutcome = 'done' | 'error' | 'scrubbed' | 'lost' | 'interrupted' | 'released';

/** One attempt at a token, kept in `picas.history` (picas's own field; the Python client ignores it). */
export interface AttemptHistoryEntry {
  attempt?: string;
  pilot?: string;
  host?: string;
  job?: string;
  /** Epoch seconds (the server's, as the claim recorded it). */
  start?: number;
  end: number;
  outcome: AttemptOutcome;
  exit_code?: unknown;
}

/** The most attempts a token keeps: the newest ones; older ones are counted in `picas.attempts`. */
export const MAX_HISTORY = 10;

/**
 * The token with one more attempt in its history, made from the lease record it holds now (attempt,
 * pilot, host, job, claim time). Bounded: the last MAX_HISTORY attempts are kept, and `picas.attempts`
 * counts them all, so a token retried a thousand times stays small.
 */
export function withAttempt<T extends Token>(token: T, outcome: AttemptOutcome, end: number, exitCode?: unknown): T {
  const picas = { ...(((token as Record<string, unknown>).picas ?? {}) as Record<string, unknown>) };
  const entry: AttemptHistoryEntry = {
    ...(typeof picas.attempt === 'string' ? { attempt: picas.attempt } : {}),
    ...(typeof picas.pilot === 'string' ? { pilot: picas.pilot } : {}),
    ...(typeof picas.host === 'string' ? { host: picas.host } : {}),
    ...(typeof picas.job === 'string' ? { job: picas.job } : {}),
    ...(typeof picas.claimed_at === 'number' ? { start: picas.claimed_at } : {}),
    end, outcome,
    ...(exitCode !== undefined ? { exit_code: exitCode } : {}),
  };
  const history = Array.isArray(picas.history) ? picas.history as AttemptHistoryEntry[] : [];
  picas.history = [...history, entry].slice(-MAX_HISTORY);
  picas.attempts = (Number(picas.attempts) || history.length) + 1;
  return { ...token, picas } as T;
}

/** A token's attempt history, oldest first (empty for tokens run before picas kept one). */
export function attemptHistory(token: Token): AttemptHistoryEntry[] {
  const history = ((token as Record<string, unknown>).picas as { history?: unknown } | undefined)?.history;
  return Array.isArray(history) ? history as AttemptHistoryEntry[] : [];
}
