import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';

export function register(program: Command): void {
  const cmd = program.command('ping')
    .description('check that the server answers as CouchDB and accepts the credentials')
    .addHelpText('after', '\nExamples:\n  picas ping\n  PICAS_HOST_URL=https://couch.example.org:6984 picas ping --ca-file ca.pem');
  addConnectionOptions(cmd).action(action(async (flags: ConnectionFlags) => {
    const session = await openSession(flags);
    try {
      const welcome = await session.couch.welcome();
      const s = await session.couch.session();
      const exists = await session.db.exists();
      session.out.data(`${session.couch.url}: ${welcome.version ? `CouchDB ${welcome.version}` : 'CouchDB-compatible'}, user ${s.userCtx?.name ?? '(anonymous)'}, database ${session.db.name} ${exists ? 'exists' : 'does not exist yet'}`);
    } finally {
      await session.close();
    }
  }));
}
