import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { Token } from '../../tokens/token.js';
import { readLogs } from '../../status/token-logs.js';
import { followLogs } from '../../status/log-follow.js';
import { checkTokenId } from '../token-id.js';

interface LogsFlags extends ConnectionFlags { follow?: boolean; stdout?: boolean; stderr?: boolean; interval: string }

export function register(program: Command): void {
  const cmd = program.command('logs')
    .description('print a token\'s stdout and stderr; --follow prints a running token\'s output as it is produced')
    .argument('<id>', 'token id')
    .option('-f, --follow', 'follow a running token\'s output until the token ends (its pilot publishes it while someone follows)')
    .option('--stdout', 'only stdout')
    .option('--stderr', 'only stderr')
    .option('--interval <seconds>', 'with --follow: how often to look for new output', '2')
    .addHelpText('after', '\nExamples:\n  picas logs token_1\n  picas logs token_1 --stderr\n  picas logs token_1 --follow');
  addConnectionOptions(cmd).action(action(async (id: string, flags: LogsFlags) => {
    checkTokenId(id);
    const interval = Number(flags.interval);
    if (!Number.isFinite(interval) || interval <= 0) throw new UserError(`--interval must be a positive number of seconds, not ${JSON.stringify(flags.interval)}`, EXIT.usage);
    const which = { stdout: flags.stdout || !flags.stderr, stderr: flags.stderr || !flags.stdout };
    const session = await openSession(flags);
    try {
      const { db, out } = session;
      const token = await db.find<Token>(id);
      if (!token) throw new UserError(`no token "${id}" in database "${db.name}"`, EXIT.notFound);
      if (flags.follow) {
        const stop = new AbortController();
        const onSig = () => stop.abort();
        process.once('SIGINT', onSig);
        try {
          await followLogs(db, token, {
            intervalMs: interval * 1000, signal: stop.signal, which,
            write: (stream, text) => (stream === 'stdout' ? process.stdout : process.stderr).write(text),
            note: (line) => out.info(line),
          });
        } finally {
          process.off('SIGINT', onSig);
        }
        return;
      }
      const logs = await readLogs(db, token);
      if (logs.stdout === undefined && logs.stderr === undefined) {
        out.info(Number(token.done) > 0 ? `token ${id} has no logs attached` : `token ${id} has not finished: its logs are attached when it ends (picas logs ${id} --follow prints them as they come)`);
        return;
      }
      if (which.stdout && logs.stdout !== undefined) process.stdout.write(logs.stdout);
      if (which.stderr && logs.stderr !== undefined) process.stderr.write(logs.stderr);
    } finally {
      await session.close();
    }
  }));
}
