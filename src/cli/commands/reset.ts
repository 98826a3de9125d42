import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { parseAge } from '../../maintenance/age.js';
import { CONFIRM_ABOVE } from '../../maintenance/confirm.js';
import { planReset, resetTokens } from '../../maintenance/reset.js';
import { describeSelection } from '../../maintenance/select.js';
import { asUserError, planConfirmApply, selectionFromArgs } from '../selection.js';

interface ResetFlags extends ConnectionFlags {
  all?: boolean;
  designDoc: string;
  lockedOlderThan?: string;
  expired?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('reset')
    .description('put tokens of a view back to todo (scrub_count + 1; lock, done, hostname, job ids, exit_code and logs cleared)')
    .argument('[view]', 'view whose tokens to reset: locked, error, done, todo, or Design/view')
    .option('--all', 'every token in the database')
    .option('--design-doc <name>', 'design document of the view', 'Monitor')
    .option('--locked-older-than <age>', 'only tokens locked longer ago than this, e.g. 90m, 12h, 2d')
    .option('--expired', 'only tokens whose lease ended (their pilot died or lost contact); default view: locked')
    .option('--dry-run', 'list the tokens that would be reset (stdout) and change nothing')
    .option('-y, --yes', `do not ask before resetting more than ${CONFIRM_ABOVE} tokens`)
    .addHelpText('after', `
Examples:
  picas reset error                          failed tokens get another try
  picas reset locked --locked-older-than 12h   tokens of pilots that died
  picas reset locked --dry-run               what would be reset
  picas reset --expired                      tokens whose pilots' leases ended`);
  addConnectionOptions(cmd).action(action(async (view: string | undefined, flags: ResetFlags) => {
    const selection = selectionFromArgs('reset', view ?? (flags.expired && !flags.all ? 'locked' : undefined), flags.all, flags.designDoc);
    let lockedOlderThanSec: number | undefined;
    try {
      lockedOlderThanSec = flags.lockedOlderThan === undefined ? undefined : parseAge(flags.lockedOlderThan);
    } catch (err) { throw asUserError(err); }
    const session = await openSession(flags);
    const { db } = session;
    try {
      const filter = { lockedOlderThanSec, expired: flags.expired };
      const what = `${describeSelection(selection)}${lockedOlderThanSec !== undefined ? ` locked longer than ${flags.lockedOlderThan} ago` : ''}${flags.expired ? ' whose lease expired' : ''}`;
      return await planConfirmApply(session, { verb: 'reset', Verb: 'Reset', done: 'reset', doneSuffix: ' to todo', prep: 'in' },
        what, flags,
        (onMatch) => planReset(db, selection, filter, onMatch),
        (onFailed, onProgress) => resetTokens(db, selection, filter, { onFailed, onProgress }));
    } catch (err) {
      throw asUserError(err);
    } finally {
      await session.close();
    }
  }));
}
