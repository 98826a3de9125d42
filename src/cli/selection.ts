import { UserError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { NotConfirmedError } from '../maintenance/confirm.js';
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
