import type { Command } from 'commander';
import { addConnectionOptions, settingsFromFlags, type ConnectionFlags } from '../options.js';
import { askMissingPassword } from '../../config/prompt.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { makeOutput } from '../output.js';
import { connect } from '../../config/connect.js';

interface DashboardFlags extends ConnectionFlags { host: string; port: string; designDoc: string; pilotRetention: string; login?: boolean }

export function register(program: Command): void {
  const cmd = program.command('dashboard')
    .description('serve a live web page of the run: progress, throughput, pilots, errors, tokens, actions')
    .option('--host <address>', 'address to listen on; anything but loopback requires a login with a CouchDB user', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--login', 'ask for a CouchDB login even on loopback (on a machine other people log in to as well)')
    .option('--design-doc <name>', 'design document whose state views to count', 'Monitor')
    .option('--pilot-retention <hours>', 'delete heartbeat documents of pilots stopped longer than this', '24')
    .addHelpText('after', `
Examples:
  picas dashboard                         http://127.0.0.1:8080/ on this machine only
  picas dashboard --port 9000
  picas dashboard --host 0.0.0.0          reachable from elsewhere: everyone logs in as a CouchDB user
  picas dashboard --login                 on a shared login node: log in even on loopback

The CouchDB password stays in this process: the page never sees it. On loopback the page acts with this
command's connection settings; on any other address each person logs in and acts with their own rights.`);
  addConnectionOptions(cmd).action(action(async (flags: DashboardFlags) => {
    const out = makeOutput(flags);
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a port number (0-65535), not ${JSON.stringify(flags.port)}`, EXIT.usage);
    const hours = Number(flags.pilotRetention);
    if (!Number.isFinite(hours) || hours <= 0) throw new UserError(`--pilot-retention must be a positive number of hours, not ${JSON.stringify(flags.pilotRetention)}`, EXIT.usage);
    // Loaded here, not at the top: express costs every other picas command memory (test/cli/memory.test.ts).
    const { isLoopback, startDashboard } = await import('../../dashboard/server.js');
    const loopback = isLoopback(flags.host) && !flags.login;
    // On loopback the page acts with our settings: check them now, so a typo shows here, not in the browser.
    const settings = loopback ? await askMissingPassword(settingsFromFlags(flags)) : settingsFromFlags(flags);
    if (loopback) {
      const probe = connect(settings);
      try {
        if (!(await probe.db(settings.database).exists())) {
          throw new UserError(`database "${settings.database}" does not exist on ${probe.url}; create it with \`picas push\` or \`picas views\``, EXIT.notFound);
        }
      } finally {
        await probe.close();
      }
    }
    let dash;
    try {
      dash = await startDashboard({ settings, host: flags.host, port, requireLogin: flags.login, design: flags.designDoc, retentionSeconds: hours * 3600, log: (l) => out.info(l) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UserError(`port ${port} on ${flags.host} is in use; choose another with --port (0 picks a free one)`, EXIT.failure);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot listen on ${flags.host}: not an address of this machine`, EXIT.usage);
      throw err;
    }
    out.info(`picas dashboard for database ${settings.database}: ${dash.url}${loopback ? ' (this machine only)' : ' (log in with a CouchDB user)'}; Ctrl-C stops it`);
    process.stdout.write(`${dash.url}\n`);
    await new Promise<void>((done) => {
      const stop = () => { void dash!.close().then(done); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }));
}
