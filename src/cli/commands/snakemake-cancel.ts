import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { EXIT } from '../exit-codes.js';
import { cancelToken, type CancelOutcome } from '../../snakemake/cancel.js';
import { describeError } from '../errors.js';
import { seconds } from './snakemake-options.js';

interface CancelFlags extends ConnectionFlags { outagePatience: string }

const SAY: Record<CancelOutcome, string> = {
  withdrawn: 'not started: withdrawn (error "cancelled"), no pilot will run it',
  stopping: 'running: error "cancelled"; its pilot stops the command at its next lease renewal (within lease/3 s) and saves nothing',
  finished: 'already finished: left as it is',
  missing: 'no such token',
};

export function register(program: Command): void {
  const cmd = program.command('snakemake-cancel')
    .description('Snakemake cluster cancel command: cancel jobs by id (waiting ones withdrawn, running ones stopped)')
    .argument('<id...>', 'ids snakemake-submit printed')
    .option('--outage-patience <seconds>', 'retry an unreachable or failing server this long (Snakemake gives the command 2 s)', '1.5')
    .addHelpText('after', `
Each token ends in error with the message "cancelled" and is never reset for another try by a pilot's
--max-scrub. A running command is stopped by its pilot at the pilot's next lease renewal: within a third
of --lease (100 s with the default 300 s lease), then the stop grace. Snakemake 7 runs the cancel command
without a shell: use the profile's cancel script (examples/snakemake/), which calls this command.`);
  addConnectionOptions(cmd).action(action(async (ids: string[], flags: CancelFlags) => {
    const patienceMs = seconds(flags.outagePatience, '--outage-patience') * 1000;
    const session = await openSession(flags);
    let failed = 0;
    try {
      // All at once: Snakemake gives the whole call 2 s.
      await Promise.all(ids.map(async (id) => {
        try {
          const outcome = await cancelToken(session.db, id, { patienceMs });
          if (outcome === 'missing') session.out.warn(`${id}: ${SAY[outcome]}`);
          else session.out.info(`${id}: ${SAY[outcome]}`);
        } catch (err) {
          failed++;
          session.out.error(`${id}: not cancelled: ${describeError(err).message}`);
        }
      }));
    } finally {
      await session.close();
    }
    return failed ? EXIT.failure : EXIT.ok;
  }));
}
