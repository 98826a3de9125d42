import { UserError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { CONFIRM_ABOVE, NotConfirmedError, confirm } from '../maintenance/confirm.js';
import type { ChangeFailure, ChangeResult } from '../maintenance/bulk-change.js';
import { tokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';
import type { Session } from './options.js';
import { progressLine } from '../sources/progress.js';
import { SelectionNotFoundError, viewSelection, type Selection } from '../maintenance/select.js';

/** The selection of a maintenance command from its `[view]` argument and `--all`, as the CLI gives them. */
export function selectionFromArgs(command: string, view: string | undefined, all: boolean | undefined, designDoc: string): Selection {
  if (view && all) throw new UserError(`picas ${command}: give a view or --all, not both`, EXIT.usage);
  if (all) return { kind: 'all' };
  if (!view) throw new UserError(`picas ${command}: say which tokens: a view (e.g. \`picas ${command} error\`, \`picas ${command} Monitor/locked\`) or --all`, EXIT.usage);
  return viewSelection(view, designDoc);
}

/** Maintenance errors as CLI errors with their exit codes. */
export function asUserError(err: unknown): unknown {
  if (err instanceof SelectionNotFoundError) return new UserError(err.message, EXIT.notFound);
  if (err instanceof NotConfirmedError) return new UserError(err.message, EXIT.usage);
  if (err instanceof RangeError) return new UserError(err.message, EXIT.usage);
  return err;
}

/** The words one maintenance command uses in its messages (kept as the commands have always said them). */
export interface ChangeWords {
  /** "delete", "reset" */
  verb: string;
  /** "Delete", "Reset" */
  Verb: string;
  /** "deleted", "reset" */
  done: string;
  /** what follows the count in the report: "" or " to todo" */
  doneSuffix: string;
  /** "from", "in" */
  prep: string;
}

/**
 * The flow reset and delete share: count the tokens (listing them on stdout with --dry-run), stop at a dry run
 * or at nothing to do, ask before touching more than CONFIRM_ABOVE without --yes, apply, and report failures
 * one line each. Returns the exit code.
 */
export async function planConfirmApply(
  session: Session,
  words: ChangeWords,
  what: string,
  flags: { dryRun?: boolean; yes?: boolean },
  plan: (onMatch?: (t: Token) => void) => Promise<number>,
  apply: (onFailed: (f: ChangeFailure) => void, onProgress: (sofar: ChangeResult) => void) => Promise<ChangeResult>,
): Promise<number> {
  const { db, out } = session;
  const count = await plan(flags.dryRun ? (t) => out.data(`${t._id}\t${tokenState(t) ?? 'none'}`) : undefined);
  if (flags.dryRun) {
    out.info(`dry run: would ${words.verb} ${count} tokens (${what}) ${words.prep} ${db.name}; nothing changed`);
    return EXIT.ok;
  }
  if (count === 0) {
    out.info(`no tokens to ${words.verb} (${what}) in ${db.name}`);
    return EXIT.ok;
  }
  if (count > CONFIRM_ABOVE && !flags.yes) {
    await confirm(`${words.Verb} ${count} tokens (${what}) ${words.prep} ${db.name}?`, `Add --yes to ${words.verb} them, or --dry-run to list them.`);
  }
  // Many tokens take a while: a bar on a terminal, a line every few seconds in a log file.
  const progress = progressLine(words.done, count);
  const result = await apply((f) => out.error(`token ${f.id}: not ${words.done}: ${f.reason}`), (r) => progress.update(r.changed + r.failed));
  progress.finish(result.changed + result.failed);
  out.info(`${words.done} ${result.changed} tokens${words.doneSuffix} (${what}) ${words.prep} ${db.name}${result.failed ? `; ${result.failed} not ${words.done} (see above)` : ''}`);
  return result.failed ? EXIT.failure : EXIT.ok;
}
