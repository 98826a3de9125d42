import { hostname as osHostname } from 'node:os';
import { inlineAttachment } from '../couch/database.js';
import type { Token } from './token.js';
import { JOB_ID_FIELDS, jobIdFromEnv } from './job-ids.js';

/**
 * The operations on a token (REFERENCE.md section 1), as pure functions: each returns a changed copy and
 * leaves every other field (user fields included) as it was. Times are epoch seconds, as the original writes.
 */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The error sentinel the original writes into `lock` and `done`. */
export const ERROR_SENTINEL = 99;

export interface LockOptions {
  now?: number;
  hostname?: string;
  env?: NodeJS.ProcessEnv;
}

export function lockToken<T extends Token>(token: T, options: LockOptions = {}): T {
  const next: T = { ...token, lock: options.now ?? nowSeconds(), hostname: options.hostname ?? osHostname() };
  const job = jobIdFromEnv(options.env ?? process.env);
  if (job) (next as Record<string, unknown>)[job.field] = job.value;
  return next;
}

export function markDone<T extends Token>(token: T, now = nowSeconds()): T {
  return { ...token, done: now };
}

export function unlockToken<T extends Token>(token: T): T {
  return { ...token, lock: 0 };
}

export function uncloseToken<T extends Token>(token: T): T {
  return { ...token, done: 0 };
}

function withoutJobIds<T extends Token>(token: T): T {
  const next = { ...token } as Record<string, unknown>;
  for (const f of JOB_ID_FIELDS) delete next[f];
  return next as T;
}

/**
 * Scrub, as the original's Task does: scrub_count + 1, lock and done back to 0 (the original's basic
 * modifier left `done` set: a defect not kept), job ids removed, the scrubbing host recorded.
 */
export function scrubToken<T extends Token>(token: T, options: { hostname?: string } = {}): T {
  return {
    ...withoutJobIds(token),
    scrub_count: (Number(token.scrub_count) || 0) + 1,
    lock: 0,
    done: 0,
    hostname: options.hostname ?? osHostname(),
  };
}

/**
 * Reset, as the original's reset script does: like scrub, but hostname and exit_code cleared and the
 * attachments (old logs) dropped, and picas's own lease/attempt record removed.
 */
export function resetToken<T extends Token>(token: T): T {
  const next = {
    ...withoutJobIds(token),
    scrub_count: (Number(token.scrub_count) || 0) + 1,
    lock: 0,
    done: 0,
    hostname: '',
    exit_code: '',
  } as Record<string, unknown>;
  delete next._attachments;
  delete next.picas;
  return next as T;
}

/** Record an error (message and stack/traceback) and set the 99/99 sentinel. */
export function markError<T extends Token>(token: T, message: string, exception = '', now = nowSeconds()): T {
  const errors = Array.isArray(token.error) ? token.error : [];
  return {
    ...token,
    error: [...errors, { time: now, message, exception }],
    lock: ERROR_SENTINEL,
    done: ERROR_SENTINEL,
  };
}

/** Merge a dict into the token (the original's add-output). `_id` and `_rev` cannot be changed this way. */
export function addOutput<T extends Token>(token: T, output: Record<string, unknown>): T {
  const { _id, _rev, ...rest } = output;
  void _id; void _rev;
  return { ...token, ...rest };
}

export function logAttachmentNames(id: string): { out: string; err: string } {
  return { out: `logs_${id}.out`, err: `logs_${id}.err` };
}

/** Attach stdout and stderr inline, named as the original names them. */
export function attachLogs<T extends Token>(token: T, stdout: Buffer | string, stderr: Buffer | string): T {
  const names = logAttachmentNames(token._id);
  return {
    ...token,
    _attachments: {
      ...(token._attachments ?? {}),
      [names.out]: inlineAttachment(stdout),
      [names.err]: inlineAttachment(stderr),
    },
  };
}
