import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readPasswordFile } from '../../config/settings.js';
import { configDir, EMBEDDED_DEFAULTS } from '../../config/paths.js';
import { embeddedCredentialsPath, ensureEmbeddedCredentials } from '../../config/embedded-credentials.js';
import type { EmbeddedServer } from '../../server/embedded.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { makeOutput } from '../output.js';

interface ServeFlags {
  dataDir: string;
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  username?: string;
  passwordFile?: string;
  quiet?: boolean;
}

/** Loopback addresses: the only ones served with generated credentials. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The admin credentials: given explicitly (options or environment), else the generated and stored ones. */
function adminCredentials(flags: ServeFlags): { username: string; password: string; explicit: boolean; where: string } {
  if (flags.username !== undefined || flags.passwordFile !== undefined) {
    if (!flags.username || !flags.passwordFile) throw new UserError('serve: give both --username and --password-file (or neither).', EXIT.usage);
    return { username: flags.username, password: readPasswordFile(flags.passwordFile), explicit: true, where: flags.passwordFile };
  }
  const { PICAS_USERNAME: user, PICAS_PASSWORD: pass } = process.env;
  if (user !== undefined || pass !== undefined) {
    if (!user || !pass) throw new UserError('serve: set both PICAS_USERNAME and PICAS_PASSWORD (or neither, to use generated credentials).', EXIT.config);
    return { username: user, password: pass, explicit: true, where: 'PICAS_PASSWORD' };
  }
  const dir = configDir();
  const creds = ensureEmbeddedCredentials(dir);
  return { ...creds, explicit: false, where: embeddedCredentialsPath(dir) };
}

/**
 * `picas serve`: the embedded CouchDB-compatible server (src/server/), for a laptop or one login node.
 * Runs until SIGINT/SIGTERM, then closes its databases and exits 0.
 */
export function register(program: Command): void {
  program
    .command('serve')
    .description('run the embedded CouchDB-compatible server (PouchDB on disk) until stopped with Ctrl-C or SIGTERM')
    .option('--data-dir <dir>', 'folder for the databases (one server per folder)', EMBEDDED_DEFAULTS.dataDir)
    .option('--host <address>', 'address to listen on (non-loopback needs explicit admin credentials)', EMBEDDED_DEFAULTS.host)
    .option('--port <port>', 'port to listen on (0: any free port)', String(EMBEDDED_DEFAULTS.port))
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; needs --tls-key)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--username <name>', 'admin user name (env PICAS_USERNAME; default: generated and stored for the CLI)')
    .option('--password-file <file>', 'admin password from the first line of this file (env PICAS_PASSWORD)')
    .option('-q, --quiet', 'print only the URL and errors')
    .action(action(async (flags: ServeFlags) => {
      const out = makeOutput(flags);
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`serve: --port must be a port number 0-65535, not ${JSON.stringify(flags.port)}.`, EXIT.usage);
      if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new UserError('serve: give both --tls-cert and --tls-key for HTTPS (or neither).', EXIT.usage);
      const creds = adminCredentials(flags);
      if (!isLoopback(flags.host) && !creds.explicit) {
        throw new UserError(`serve: refusing to listen on ${flags.host} (reachable from other machines) with generated credentials; `
          + 'set PICAS_USERNAME and PICAS_PASSWORD (or --username with --password-file) to admin credentials of your choice.', EXIT.config);
      }
      const dataDir = resolve(flags.dataDir);
      let server: EmbeddedServer;
      try {
        // Loaded here, not at the top: PouchDB, LevelDB and express cost every other command (a pilot
        // above all) tens of MB of memory when merely imported (docs/pilot-memory.md).
        const { startEmbeddedServer } = await import('../../server/embedded.js');
        server = await startEmbeddedServer({
          dataDir, host: flags.host, port,
          admin: { username: creds.username, password: creds.password },
          tls: flags.tlsCert && flags.tlsKey ? { certFile: flags.tlsCert, keyFile: flags.tlsKey } : undefined,
          log: (line) => out.warn(line),
        });
      } catch (err) {
        throw startError(err, flags);
      }
      out.data(server.url);
      out.info(`picas serve: listening on ${server.url}, data in ${dataDir}; admin user '${creds.username}', password from ${creds.where}.`);
      const isDefault = server.url === `http://${EMBEDDED_DEFAULTS.host}:${EMBEDDED_DEFAULTS.port}`;
      if (!isDefault) out.info(`picas serve: other picas commands reach it with PICAS_HOST_URL=${server.url}`);
      out.info('picas serve: stop with Ctrl-C (or SIGTERM).');
      const signal = await new Promise<NodeJS.Signals>((done) => {
        process.once('SIGINT', () => done('SIGINT'));
        process.once('SIGTERM', () => done('SIGTERM'));
      });
      out.info(`picas serve: ${signal}, closing the databases.`);
      await server.close();
      return EXIT.ok;
    }));
}

function startError(err: unknown, flags: ServeFlags): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${flags.host}:${flags.port}`;
  if (code === 'EADDRINUSE') return new UserError(`serve: ${where} is already in use (another picas serve or CouchDB?); stop it or choose another --port.`, EXIT.failure);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UserError(`serve: cannot listen on ${where}: no such address on this machine; check --host.`, EXIT.usage);
  if (code === 'EACCES') return new UserError(`serve: not allowed to listen on ${where} (ports below 1024 need privileges); choose another --port.`, EXIT.failure);
  if (code === 'ENOENT' && (flags.tlsCert || flags.tlsKey)) return new UserError(`serve: cannot read the TLS files (${(err as Error).message}); check --tls-cert and --tls-key.`, EXIT.config);
  if (/PEM|key|certificate/i.test((err as Error)?.message ?? '') && flags.tlsCert) return new UserError(`serve: the TLS certificate or key is not usable (${(err as Error).message}); give PEM files that belong together.`, EXIT.config);
  if (code === 'EACCES' || code === 'ENOTDIR' || code === 'EEXIST') return new UserError(`serve: cannot use the data folder ${flags.dataDir} (${(err as Error).message}).`, EXIT.config);
  return err as Error;
}
