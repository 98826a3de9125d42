import { chmodSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveSettings, type Settings } from '../../config/settings.js';
import { action } from '../action.js';
import { addConnectionOptions, type ConnectionFlags } from '../options.js';
import { makeOutput } from '../output.js';

const HIDDEN = '<hidden: run picas dump-config --show-password to include it>';

/** A Python string literal. JSON's escapes (\", \\, \n, \uXXXX) all mean the same in Python. */
const py = (value: string) => JSON.stringify(value);

/** The settings in the older `picasconfig.py` form the Python examples import. */
export function formatPicasConfig(settings: Settings, showPassword: boolean): string {
  const from = (name: string, source: string) => `${name} from ${source === 'file' ? 'conf.yml' : source}`;
  // picasconfig.py keeps credentials in their own fields: a `user:password@` in the URL moves there, so the
  // password never shows in PICAS_HOST_URL.
  let hostUrl = settings.url;
  let username = settings.username;
  let plain = settings.password;
  try {
    const u = new URL(settings.url);
    if (u.username || u.password) {
      username ??= decodeURIComponent(u.username);
      plain ??= u.password ? decodeURIComponent(u.password) : undefined;
      u.username = '';
      u.password = '';
      hostUrl = u.toString().replace(/\/$/, '');
    }
  } catch { /* not a URL: print it as given */ }
  let password: string;
  if (!showPassword) password = py(HIDDEN);
  else if (plain === undefined) password = `""  # no password configured`;
  else password = py(plain);
  return [
    `# picasconfig.py written by picas dump-config (${[
      from('host', settings.sources.url), from('database', settings.sources.database),
      from('username', settings.sources.username), from('password', settings.sources.password),
    ].join(', ')})`,
    `PICAS_HOST_URL = ${py(hostUrl)}`,
    `PICAS_DATABASE = ${py(settings.database)}`,
    `PICAS_USERNAME = ${py(username ?? '')}`,
    `PICAS_PASSWORD = ${password}`,
    '',
  ].join('\n');
}

/** `picas dump-config`: print the resolved settings as picasconfig.py; the password only when asked. */
export function register(program: Command): void {
  addConnectionOptions(
    program
      .command('dump-config')
      .description('print the settings in the picasconfig.py form (PICAS_HOST_URL, ...); the password only with --show-password'),
  )
    .option('--show-password', 'print the password itself (it is hidden otherwise)')
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
    .action(action(async (flags: ConnectionFlags & { db?: string; showPassword?: boolean; output?: string }) => {
      const out = makeOutput(flags);
      // Without --show-password the password stays encrypted, so a missing key.dat does not matter here.
      const settings = resolveSettings({
        url: flags.url, database: flags.database ?? flags.db, username: flags.username, passwordFile: flags.passwordFile,
        needPassword: Boolean(flags.showPassword),
      });
      const text = formatPicasConfig(settings, Boolean(flags.showPassword));
      if (flags.output) {
        writeFileSync(flags.output, text, { mode: 0o600 });
        chmodSync(flags.output, 0o600);
        out.info(`wrote ${flags.output}`);
      } else {
        out.data(text);
      }
    }));
}
