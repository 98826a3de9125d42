import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { snakemakeJobStatus } from '../../snakemake/status.js';
import { seconds } from './snakemake-options.js';

interface StatusFlags extends ConnectionFlags { outagePatience: string }

export function register(program: Command): void {
  const cmd = program.command('snakemake-status')
    .description('Snakemake cluster status command: print success, failed or running for a job id')
    .argument('<id>', 'the id snakemake-submit printed')
    .option('--outage-patience <seconds>', 'retry an unreachable or failing server this long, then fail (exit 4)', '30')
    .addHelpText('after', `
done -> success, error -> failed, todo or locked -> running. A token that does not exist -> failed, with
the reason on stderr. During a server outage nothing is printed until the server answers; past
--outage-patience the command exits 4 (Snakemake 7 then stops: "Failed to obtain job status").`);
  addConnectionOptions(cmd).action(action(async (id: string, flags: StatusFlags) => {
    const patienceMs = seconds(flags.outagePatience, '--outage-patience') * 1000;
    const session = await openSession({ ...flags, quiet: true });
    try {
      const answer = await snakemakeJobStatus(session.db, id, {
        patienceMs,
        onRetry: (err, wait) => session.out.warn(`${err.message}; retrying in ${(wait / 1000).toFixed(1)} s`),
      });
      if (answer.note) session.out.warn(answer.note);
      session.out.data(answer.status);
    } finally {
      await session.close();
    }
  }));
}
