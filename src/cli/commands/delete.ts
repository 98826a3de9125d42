import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { CONFIRM_ABOVE } from '../../maintenance/confirm.js';
import { deleteTokens, planDelete } from '../../maintenance/delete.js';
import { describeSelection } from '../../maintenance/select.js';
import { asUserError, planConfirmApply, selectionFromArgs } from '../selection.js';

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
    const { db } = session;
    try {
      return await planConfirmApply(session, { verb: 'delete', Verb: 'Delete', done: 'deleted', doneSuffix: '', prep: 'from' },
        describeSelection(selection), flags,
        (onMatch) => planDelete(db, selection, onMatch),
        (onFailed, onProgress) => deleteTokens(db, selection, { onFailed, onProgress }));
    } catch (err) {
      throw asUserError(err);
    } finally {
      await session.close();
    }
  }));
}
