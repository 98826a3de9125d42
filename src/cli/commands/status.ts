import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { countStates } from '../../tokens/status.js';
import { TOKEN_STATES, type TokenState } from '../../tokens/state.js';
import type { Token } from '../../tokens/token.js';
import { logAttachmentNames } from '../../tokens/operations.js';

interface StatusFlags extends ConnectionFlags { json?: boolean; designDoc: string; tokens?: boolean; logs?: boolean }

export function register(program: Command): void {
  const cmd = program.command('status')
    .description('count tokens per state (todo, locked, done, error)')
    .option('--json', 'print one JSON object with the counts')
    .option('--design-doc <name>', 'design document whose views to count', 'Monitor')
    .option('--tokens', 'also list each token with its state and exit code')
    .option('--logs', 'with --tokens: also print each token\'s input and its stdout log')
    .addHelpText('after', '\nExamples:\n  picas status\n  picas status --json\n  picas status --design-doc MultiCore --tokens');
  addConnectionOptions(cmd).action(action(async (flags: StatusFlags) => {
    const session = await openSession(flags);
    try {
      const counts = await countStates(session.db, flags.designDoc);
      const listing: { id: string; state: TokenState; exit_code: unknown; input?: unknown; stdout?: string }[] = [];
      if (flags.tokens) {
        for (const state of TOKEN_STATES) {
          const rows = await session.db.view<unknown, Token>(flags.designDoc, state, { include_docs: true, attachments: flags.logs });
          for (const row of rows.rows) {
            const out = row.doc?._attachments?.[logAttachmentNames(String(row.id)).out]?.data;
            listing.push({
              id: String(row.id), state, exit_code: row.doc?.exit_code,
              ...(flags.logs ? { input: row.doc?.input, stdout: out ? Buffer.from(out, 'base64').toString('utf8') : undefined } : {}),
            });
          }
        }
      }
      if (flags.json) {
        session.out.data(JSON.stringify(flags.tokens ? { ...counts, tokens: listing } : counts));
      } else {
        session.out.data(TOKEN_STATES.map((s) => `${s.padEnd(7)} ${counts[s]}`).join('\n'));
        for (const t of listing) {
          session.out.data(`${t.id}  ${t.state}  exit_code=${JSON.stringify(t.exit_code)}`);
          if (flags.logs) {
            session.out.data(`    input:  ${JSON.stringify(t.input)}`);
            session.out.data(`    stdout: ${t.stdout === undefined ? '(no log attached)' : JSON.stringify(t.stdout.trimEnd())}`);
          }
        }
      }
    } finally {
      await session.close();
    }
  }));
}
