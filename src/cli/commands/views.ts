import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { conditionalMonitor, ensureDesignDocs } from '../../tokens/design.js';

interface ViewsFlags extends ConnectionFlags { name?: string; condition?: string }

export function register(program: Command): void {
  const cmd = program.command('views')
    .description('create the database (if missing) and the Monitor views; existing views are never rewritten')
    .option('--name <design>', 'also create a Monitor-style design document with this name ...')
    .option('--condition <js>', '... whose views all require this condition, e.g. "doc.cores == 4"')
    .addHelpText('after', '\nExamples:\n  picas views\n  picas views --name MultiCore --condition "doc.cores == 4"');
  addConnectionOptions(cmd).action(action(async (flags: ViewsFlags) => {
    const session = await openSession(flags);
    try {
      await session.db.create({ ifMissing: true });
      const extra = flags.name ? [conditionalMonitor(flags.name, flags.condition ?? 'true')] : [];
      for (const r of await ensureDesignDocs(session.db, extra)) {
        session.out.info(`_design/${r.name}: ${r.created ? 'created' : r.addedViews.length ? `added ${r.addedViews.join(', ')}` : 'already complete'}`);
      }
    } finally {
      await session.close();
    }
  }));
}
