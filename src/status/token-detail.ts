import { toJson } from '../couch/json.js';
import { tokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';
import { attemptHistory } from './attempt-history.js';
import { duration, localTime, printable } from './format.js';
import { lastLines, type TokenLogs } from './token-logs.js';
import { JOB_ID_FIELDS } from '../tokens/job-ids.js';

/** Fields of the data contract and of picas, shown in their own lines; every other field is the user's. */
const KNOWN = new Set(['_id', '_rev', '_attachments', 'type', 'lock', 'done', 'hostname', 'scrub_count', 'input', 'exit_code', 'output', 'uploads', 'error', 'picas',
  'start_time', 'end_time', 'run_time', 'exec_host', ...JOB_ID_FIELDS]);

const block = (text: string) => printable(text).replace(/\\x09/g, '\t');

/**
 * One token as a person reads it: state, times as local dates with durations, host, attempts with their
 * outcome and lost runs, exit code, errors recorded, the user's own fields, and the tail of each log.
 */
export function describeToken(token: Token, logs: TokenLogs, nowSeconds: number, options: { logLines?: number } = {}): string[] {
  const t = token as Token & Record<string, unknown>;
  const picas = (t.picas ?? {}) as Record<string, unknown>;
  const state = tokenState(token) ?? 'unknown';
  const lines: string[] = [];
  const when = (s: unknown) => (Number(s) > 0 ? `${localTime(Number(s))} (${duration(nowSeconds - Number(s))} ago)` : '-');
  lines.push(`token ${printable(token._id)}`);
  lines.push(`  state: ${state}${state === 'done' || state === 'error' ? ` (exit code ${printable(toJson(token.exit_code) ?? '')})` : ''}`);
  lines.push(`  input: ${printable(typeof token.input === 'string' ? token.input : toJson(token.input) ?? '')}`);
  if (Number(token.lock) > 0) lines.push(`  claimed: ${when(token.lock)}${token.hostname ? ` by ${printable(String(token.hostname))}` : ''}`);
  if (Number(token.done) > 0) lines.push(`  finished: ${when(token.done)}`);
  if (state === 'locked' && typeof picas.pilot === 'string') {
    lines.push(`  running: for ${duration(nowSeconds - Number(picas.claimed_at ?? token.lock))} in pilot ${printable(picas.pilot)} on ${printable(String(picas.host ?? ''))}${picas.job ? `, job ${printable(String(picas.job))}` : ''}`);
    if (typeof picas.lease_until === 'number') lines.push(`  lease: claimed until ${localTime(picas.lease_until)}, renewed by its pilot's heartbeat`);
  }
  if (t.run_time !== undefined) lines.push(`  run time: ${duration(Number(t.run_time))}${t.exec_host ? ` on ${printable(String(t.exec_host))}` : ''}`);
  const jobs = JOB_ID_FIELDS.filter((f) => t[f]).map((f) => `${f}=${printable(String(t[f]))}`);
  if (jobs.length) lines.push(`  batch job: ${jobs.join(' ')}`);
  const history = attemptHistory(token);
  const attempts = Number(picas.attempts) || history.length;
  const lost = Number(picas.lost_runs) || 0;
  const scrubs = Number(token.scrub_count) || 0;
  lines.push(`  attempts: ${attempts || (Number(token.lock) > 0 ? 1 : 0)}${lost ? `, ${lost} lost (pilot died or lost contact)` : ''}${scrubs ? `, scrubbed ${scrubs} time(s)` : ''}`);
  for (const [i, h] of history.entries()) {
    lines.push(`    ${String(attempts - history.length + i + 1).padStart(2)}. ${h.outcome.padEnd(11)} ${h.start ? localTime(h.start) : '?'}${h.start ? ` for ${duration(h.end - h.start)}` : ''}  ${printable(h.host ?? '')}${h.job ? ` job ${printable(h.job)}` : ''}${h.pilot ? `  pilot ${printable(h.pilot)}` : ''}${h.exit_code !== undefined ? `  exit ${printable(toJson(h.exit_code) ?? '')}` : ''}`);
  }
  const stale = Array.isArray(picas.stale_attempts) ? picas.stale_attempts as Record<string, unknown>[] : [];
  for (const s of stale) lines.push(`  stale attempt: ${printable(String(s.pilot ?? ''))} on ${printable(String(s.host ?? ''))} at ${localTime(Number(s.recorded_at))}: ${printable(String(s.note ?? ''))}`);
  if (Array.isArray(token.error) && token.error.length) {
    lines.push(`  errors recorded:`);
    for (const e of token.error.slice(-5)) lines.push(`    ${localTime(Number(e?.time))}  ${printable(String(e?.message ?? ''))}`);
  }
  const user = Object.entries(t).filter(([k]) => !KNOWN.has(k));
  if (Object.keys(token.output ?? {}).length) user.unshift(['output', token.output]);
  if (user.length) {
    lines.push('  fields:');
    for (const [k, v] of user) lines.push(`    ${printable(k)}: ${printable(toJson(v) ?? '')}`);
  }
  const n = options.logLines ?? 20;
  for (const [name, text] of [['stdout', logs.stdout], ['stderr', logs.stderr]] as const) {
    if (text === undefined) {
      if (state === 'done' || state === 'error') lines.push(`--- ${name}: no log attached ---`);
      continue;
    }
    const tail = lastLines(text, n);
    lines.push(`--- ${name}${tail.omitted ? ` (last ${n} lines; ${tail.omitted} earlier: picas logs ${printable(token._id)})` : ''} ---`);
    if (tail.text) lines.push(block(tail.text));
  }
  return lines;
}
