import { toJson } from '../../couch/json.js';
import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { Token } from '../../tokens/token.js';
import { describeToken } from '../../status/token-detail.js';
import { readLogs } from '../../status/token-logs.js';
import { checkTokenId } from '../token-id.js';

interface ShowFlags extends ConnectionFlags { json?: boolean; logs: boolean; lines: string }

export function register(program: Command): void {
  const cmd = program.command('show')
    .description('one token as a person reads it: state, times, host, attempts, exit code, the tail of its logs')
    .argument('<id>', 'token id')
    .option('--json', 'print the raw document as JSON (with its logs unless --no-logs)')
    .option('--no-logs', 'do not print the attached logs')
    .option('--lines <n>', 'lines of each log shown (the full logs: picas logs <id>)', '20')
    .addHelpText('after', '\nExamples:\n  picas show token_1\n  picas show token_1 --lines 100\n  picas show token_1 --json --no-logs');
  addConnectionOptions(cmd).action(action(async (id: string, flags: ShowFlags) => {
    checkTokenId(id);
    const lines = Number(flags.lines);
    if (!Number.isInteger(lines) || lines < 0) throw new UserError(`--lines must be a whole number >= 0, not ${JSON.stringify(flags.lines)}`, EXIT.usage);
    const session = await openSession(flags);
    try {
      const token = await session.db.find<Token>(id);
      if (!token) throw new UserError(`no token "${id}" in database "${session.db.name}"`, EXIT.notFound);
      const logs = flags.logs ? await readLogs(session.db, token) : {};
      if (flags.json) {
        const named: Record<string, string> = {};
        if (logs.stdout !== undefined) named[`logs_${id}.out`] = logs.stdout;
        if (logs.stderr !== undefined) named[`logs_${id}.err`] = logs.stderr;
        session.out.data(toJson(flags.logs ? { ...token, logs: named } : token, 2));
        return;
      }
      const now = Math.floor(session.couch.serverNow() / 1000);
      session.out.data(describeToken(token, logs, now, { logLines: lines }).join('\n'));
    } finally {
      await session.close();
    }
  }));
}
