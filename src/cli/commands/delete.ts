import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { EXIT } from '../exit-codes.js';
import { CONFIRM_ABOVE, confirm } from '../../maintenance/confirm.js';
import { deleteTokens, planDelete } from '../../maintenance/delete.js';
import { describeSelection } from '../../maintenance/select.js';
import { asUserError, selectionFromArgs } from '../selection.js';
import { tokenState } from '../../tokens/state.js';

interface DeleteFlags extends ConnectionFlags {
  all?: boolean;
  designDoc: string;
  dryRun?: boolean;
  yes?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('delete')
    .description('delete the tokens of a view (or all tokens); design documents and other documents stay')
    .argument('[view]', 'view whose tokens to delete: todo, locked, done, error, or Design/view')
    .option('--all', 'every token in the database')
    .option('--design-doc <name>', 'design document of the view', 'Monitor')
    .option('--dry-run', 'list the tokens that would be deleted (stdout) and change nothing')
    .option('-y, --yes', `do not ask before deleting more than ${CONFIRM_ABOVE} tokens`)
    .addHelpText('after', `
Examples:
  picas delete done --dry-run
  picas delete error --yes
  picas delete --all --yes`);
  addConnectionOptions(cmd).action(action(async (view: string | undefined, flags: DeleteFlags) => {
    const selection = selectionFromArgs('delete', view, flags.all, flags.designDoc);
    const session = await openSession(flags);
    const { db, out } = session;
    try {
      const what = describeSelection(selection);
      const count = await planDelete(db, selection, flags.dryRun ? (t) => out.data(`${t._id}\t${tokenState(t) ?? 'none'}`) : undefined);
      if (flags.dryRun) {
        out.info(`dry run: would delete ${count} tokens (${what}) from ${db.name}; nothing changed`);
        return EXIT.ok;
      }
      if (count === 0) {
        out.info(`no tokens to delete (${what}) in ${db.name}`);
        return EXIT.ok;
      }
      if (count > CONFIRM_ABOVE && !flags.yes) {
        await confirm(`Delete ${count} tokens (${what}) from ${db.name}?`, 'Add --yes to delete them, or --dry-run to list them.');
      }
      const result = await deleteTokens(db, selection, { onFailed: (f) => out.error(`token ${f.id}: not deleted: ${f.reason}`) });
      out.info(`deleted ${result.changed} tokens (${what}) from ${db.name}${result.failed ? `; ${result.failed} not deleted (see above)` : ''}`);
      return result.failed ? EXIT.failure : EXIT.ok;
    } catch (err) {
      throw asUserError(err);
    } finally {
      await session.close();
    }
  }));
}
