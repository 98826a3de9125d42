import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { snakemakeToken, submitToken } from '../../snakemake/submit.js';
import { seconds } from './snakemake-options.js';

interface SubmitFlags extends ConnectionFlags { outagePatience: string }

export function register(program: Command): void {
  const cmd = program.command('snakemake-submit')
    .description('Snakemake cluster submit command: store a job script as one token, print its id')
    .argument('<jobscript>', 'the job script Snakemake wrote (its last argument)')
    .option('--outage-patience <seconds>', 'keep retrying an unreachable or failing server this long', '60')
    .addHelpText('after', `
Snakemake 7: snakemake --cluster "picas snakemake-submit" --cluster-status "picas snakemake-status" ...
(or the profile in examples/snakemake/). The token's input is the script's content; its \`properties\`
field holds the job's properties. Only the id is printed on stdout.`);
  addConnectionOptions(cmd).action(action(async (jobscript: string, flags: SubmitFlags) => {
    let script: string;
    try {
      script = readFileSync(jobscript, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read the job script ${jobscript}: ${(err as Error).message}`, EXIT.usage);
    }
    if (!script.trim()) throw new UserError(`the job script ${jobscript} is empty: nothing to run`, EXIT.usage);
    const session = await openSession({ ...flags, quiet: true });
    try {
      const retry = {
        patienceMs: seconds(flags.outagePatience, '--outage-patience') * 1000,
        onRetry: (err: Error, wait: number) => session.out.warn(`${err.message}; retrying in ${(wait / 1000).toFixed(1)} s`),
      };
      const id = await submitToken(session.db, snakemakeToken(script, basename(jobscript)), retry);
      session.out.data(id);
    } finally {
      await session.close();
    }
  }));
}
