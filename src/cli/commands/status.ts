import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { countStates } from '../../tokens/status.js';
import { TOKEN_STATES, type TokenState } from '../../tokens/state.js';
import type { Token } from '../../tokens/token.js';

interface StatusFlags extends ConnectionFlags { json?: boolean; designDoc: string; tokens?: boolean }

export function register(program: Command): void {
  const cmd = program.command('status')
    .description('count tokens per state (todo, locked, done, error)')
    .option('--json', 'print one JSON object with the counts')
    .option('--design-doc <name>', 'design document whose views to count', 'Monitor')
    .option('--tokens', 'also list each token with its state and exit code')
    .addHelpText('after', '\nExamples:\n  picas status\n  picas status --json\n  picas status --design-doc MultiCore --tokens');
  addConnectionOptions(cmd).action(action(async (flags: StatusFlags) => {
    const session = openSession(flags);
    try {
      const counts = await countStates(session.db, flags.designDoc);
      const listing: { id: string; state: TokenState; exit_code: unknown }[] = [];
      if (flags.tokens) {
        for (const state of TOKEN_STATES) {
          const rows = await session.db.view<unknown, Token>(flags.designDoc, state, { include_docs: true });
          for (const row of rows.rows) listing.push({ id: String(row.id), state, exit_code: row.doc?.exit_code });
        }
      }
      if (flags.json) {
        session.out.data(JSON.stringify(flags.tokens ? { ...counts, tokens: listing } : counts));
      } else {
        session.out.data(TOKEN_STATES.map((s) => `${s.padEnd(7)} ${counts[s]}`).join('\n'));
        for (const t of listing) session.out.data(`${t.id}  ${t.state}  exit_code=${JSON.stringify(t.exit_code)}`);
      }
    } finally {
      await session.close();
    }
  }));
}
