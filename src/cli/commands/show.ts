import { toJson } from '../../couch/json.js';
import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { tokenState } from '../../tokens/state.js';
import type { Token } from '../../tokens/token.js';

interface ShowFlags extends ConnectionFlags { json?: boolean; logs: boolean }

export function register(program: Command): void {
  const cmd = program.command('show')
    .description('show one token with its state and logs')
    .argument('<id>', 'token id')
    .option('--json', 'print the document as JSON')
    .option('--no-logs', 'do not print the attached logs')
    .addHelpText('after', '\nExamples:\n  picas show token_1\n  picas show token_1 --json --no-logs');
  addConnectionOptions(cmd).action(action(async (id: string, flags: ShowFlags) => {
    const session = await openSession(flags);
    try {
      const token = await session.db.find<Token>(id, { attachments: flags.logs });
      if (!token) throw new UserError(`no token "${id}" in database "${session.db.name}"`, EXIT.notFound);
      const logs: Record<string, string> = {};
      for (const [name, att] of Object.entries(token._attachments ?? {})) {
        if (att.data) logs[name] = Buffer.from(att.data, 'base64').toString('utf8');
      }
      if (flags.json) {
        const doc = { ...token, _attachments: Object.fromEntries(Object.entries(token._attachments ?? {}).map(([k, a]) => [k, { content_type: a.content_type, length: a.length ?? (a.data ? Buffer.from(a.data, 'base64').length : undefined) }])) };
        session.out.data(toJson(flags.logs ? { ...doc, logs } : doc, 2));
        return;
      }
      const { _attachments, ...fields } = token;
      void _attachments;
      session.out.data(`${id}  state: ${tokenState(token) ?? 'unknown'}`);
      session.out.data(toJson(fields, 2));
      for (const [name, text] of Object.entries(logs)) session.out.data(`--- ${name} ---\n${text}`);
    } finally {
      await session.close();
    }
  }));
}
