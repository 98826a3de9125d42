import type { Command } from 'commander';
import { writeConfFile } from '../../config/conf-file.js';
import { configDir } from '../../config/paths.js';
import { promptHidden } from '../../config/prompt.js';
import { readPasswordFile } from '../../config/settings.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { makeOutput } from '../output.js';

interface InitFlags {
  hostUrl: string;
  database: string;
  username?: string;
  passwordFile?: string;
  quiet?: boolean;
}

/**
 * `picas init`: write conf.yml and key.dat as the Python `picas-cli init` does, so either tool reads them.
 * The password comes from --password-file, PICAS_PASSWORD, or a prompt without echo; never an argument.
 */
export function register(program: Command): void {
  program
    .command('init')
    .description('write ~/.config/picas/conf.yml (server, database, user, encrypted password) and its key, as the Python picas-cli init does')
    .option('--host-url <url>', 'CouchDB server URL', 'http://localhost:5984')
    .option('--database <name>', 'database name', 'mypicasdb')
    .option('--username <name>', 'CouchDB user name (or env PICAS_USERNAME)')
    .option('--password-file <file>', 'read the password from the first line of this file (or env PICAS_PASSWORD; else it is asked for)')
    .option('-q, --quiet', 'print only errors')
    .action(action(async (flags: InitFlags) => {
      const out = makeOutput(flags);
      const username = flags.username || process.env.PICAS_USERNAME;
      if (!username) throw new UserError('picas init needs a user name: give --username <name> (or set PICAS_USERNAME).', EXIT.usage);
      try {
        new URL(flags.hostUrl);
      } catch {
        throw new UserError(`--host-url ${JSON.stringify(flags.hostUrl)} is not a URL (expected e.g. https://couch.example.org:6984).`, EXIT.usage);
      }
      const password = flags.passwordFile ? readPasswordFile(flags.passwordFile)
        : process.env.PICAS_PASSWORD !== undefined && process.env.PICAS_PASSWORD !== '' ? process.env.PICAS_PASSWORD
          : await promptHidden(`enter the CouchDB password for the account '${username}' and database '${flags.database}': `,
            'Give it with --password-file <file> or the environment variable PICAS_PASSWORD.');
      if (password === '') throw new UserError('the password is empty; nothing was written.', EXIT.usage);
      const dir = configDir();
      const written = writeConfFile(dir, { hostUrl: flags.hostUrl, database: flags.database, username, password });
      out.info(`wrote ${written.confPath} (password encrypted with ${written.keyCreated ? 'a new key in' : 'the existing key in'} ${written.keyPath})`);
    }));
}
