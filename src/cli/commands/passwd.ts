import type { Command } from 'commander';
import { changeCouchPassword } from '../../config/change-password.js';
import { readConfFile, rewriteConfPassword } from '../../config/conf-file.js';
import { canPrompt, promptHidden, promptNewPassword } from '../../config/prompt.js';
import { readPasswordFile } from '../../config/settings.js';
import { connect } from '../../config/connect.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { addConnectionOptions, settingsFromFlags, type ConnectionFlags } from '../options.js';
import { makeOutput } from '../output.js';

const HINT = 'Give it with --new-password-file <file> or the environment variable PICAS_NEW_PASSWORD.';

/** Same server? Compared without credentials, trailing slash or default port differences. */
function sameServer(a: string, b: string): boolean {
  try {
    const norm = (u: string) => { const x = new URL(u); x.username = ''; x.password = ''; return x.toString().replace(/\/+$/, ''); };
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}

/**
 * `picas passwd`: change the user's own CouchDB password, as the Python `picas-cli passwd` does, and keep
 * conf.yml in step when it holds that user's password for that server.
 */
export function register(program: Command): void {
  addConnectionOptions(
    program
      .command('passwd')
      .description('change your CouchDB password (and the one stored in ~/.config/picas/conf.yml, if it is yours)'),
  )
    .option('--new-password-file <file>', 'read the new password from the first line of this file (or env PICAS_NEW_PASSWORD; else it is asked for twice)')
    .action(action(async (flags: ConnectionFlags & { db?: string; newPasswordFile?: string }) => {
      const out = makeOutput(flags);
      const settings = settingsFromFlags(flags);
      const username = settings.username;
      if (!username) throw new UserError('picas passwd needs your user name: give --username, PICAS_USERNAME, or run `picas init`.', EXIT.usage);
      let password = settings.password;
      if (password === undefined && canPrompt()) {
        password = await promptHidden(`current CouchDB password of '${username}': `, '');
      }
      if (password === undefined) {
        throw new UserError(`no current password for '${username}': give --password-file, PICAS_PASSWORD, or run \`picas init\`.`, EXIT.config);
      }
      const newPassword = flags.newPasswordFile ? readPasswordFile(flags.newPasswordFile)
        : process.env.PICAS_NEW_PASSWORD ? process.env.PICAS_NEW_PASSWORD
          : await promptNewPassword(`new CouchDB password of '${username}': `, HINT);
      const couch = connect({ ...settings, password });
      try {
        await changeCouchPassword(couch, username, newPassword);
      } finally {
        await couch.close();
      }
      out.info(`changed the password of '${username}' on ${couch.url}`);

      const conf = readConfFile(settings.configDir);
      if (conf && conf.username === username && (!conf.hostUrl || sameServer(conf.hostUrl, settings.url))) {
        out.info(`updated ${rewriteConfPassword(settings.configDir, conf, newPassword)}`);
      } else if (conf) {
        out.warn(`${conf.path} is for another user or server; it was not changed.`);
      }
      if (settings.sources.password === 'env') out.warn('PICAS_PASSWORD still holds the old password: update it where you set it.');
      if (settings.sources.password === 'option') out.warn(`${flags.passwordFile} still holds the old password: update it.`);
    }));
}
