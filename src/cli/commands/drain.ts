import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { setDrain } from '../../lease/control.js';

interface DrainFlags extends ConnectionFlags { undo?: boolean; pilot?: string }

export function register(program: Command): void {
  const cmd = program.command('drain')
    .description('ask the pilots of a database to finish their current tokens, claim no more, and exit')
    .option('--pilot <id>', 'only this pilot (its id is in the tokens it holds and in its log)')
    .option('--undo', 'let pilots started from now on claim again')
    .addHelpText('after', '\nExamples:\n  picas drain\n  picas drain --pilot pilot_1c3d6206c81046a6\n  picas drain --undo');
  addConnectionOptions(cmd).action(action(async (flags: DrainFlags) => {
    const session = await openSession(flags);
    try {
      await setDrain(session.db, !flags.undo, flags.pilot);
      session.out.info(flags.undo ? `pilots of ${session.db.name} may claim again` : `asked ${flags.pilot ?? 'every pilot'} of ${session.db.name} to drain; pilots notice at their next lease renewal`);
    } finally {
      await session.close();
    }
  }));
}
