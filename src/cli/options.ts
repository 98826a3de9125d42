import { Command, Option } from 'commander';
import { resolveSettings, type Settings } from '../config/settings.js';
import { askMissingPassword } from '../config/prompt.js';
import { connect } from '../config/connect.js';
import type { CouchServer } from '../couch/server.js';
import type { Database } from '../couch/database.js';
import { makeOutput, type Output } from './output.js';

export interface ConnectionFlags {
  url?: string;
  database?: string;
  username?: string;
  passwordFile?: string;
  caFile?: string;
  insecure?: boolean;
  timeout?: string;
  quiet?: boolean;
  verbose?: boolean;
}

/** The options every command that talks to CouchDB takes. No option carries a password itself. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'CouchDB server URL (env PICAS_HOST_URL; default: the embedded server)')
    .addOption(new Option('--database <name>', 'database name (env PICAS_DATABASE; default mypicasdb)').default(undefined))
    .option('--db <name>', 'same as --database')
    .option('--username <name>', 'CouchDB user name (env PICAS_USERNAME)')
    .option('--password-file <file>', 'read the password from the first line of this file (or env PICAS_PASSWORD)')
    .option('--ca-file <file>', 'CA certificate(s) to verify the server\'s TLS certificate with')
    .option('--insecure', 'do not verify the server\'s TLS certificate (unsafe)')
    .option('--timeout <seconds>', 'timeout of every request to the server', '30')
    .option('-q, --quiet', 'print only errors and data')
    .option('-v, --verbose', 'print more about what happens');
}

export interface Session {
  settings: Settings;
  couch: CouchServer;
  db: Database;
  out: Output;
  close(): Promise<void>;
}

export function settingsFromFlags(flags: ConnectionFlags & { db?: string }): Settings {
  const timeout = Number(flags.timeout ?? 30);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new TypeError(`--timeout must be a positive number of seconds, not ${flags.timeout}`);
  return resolveSettings({
    url: flags.url,
    database: flags.database ?? flags.db,
    username: flags.username,
    passwordFile: flags.passwordFile,
    caFile: flags.caFile,
    insecure: flags.insecure,
    timeoutMs: timeout * 1000,
  });
}

/** Resolve settings (asking for a missing password on a terminal) and open a client. */
export async function openSession(flags: ConnectionFlags & { db?: string }): Promise<Session> {
  const settings = await askMissingPassword(settingsFromFlags(flags));
  const couch = connect(settings);
  const out = makeOutput(flags);
  out.debug(`server ${couch.url} (${settings.sources.url}), database ${settings.database}`);
  return { settings, couch, db: couch.db(settings.database), out, close: () => couch.close() };
}
