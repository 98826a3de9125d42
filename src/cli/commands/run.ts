import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { runPilot } from '../../worker/run-pilot.js';
import { commandTask } from '../../worker/command-task.js';
import { ensureDesignDocs } from '../../tokens/design.js';
import type { ViewRef } from '../../claim/claim.js';
import { NotFoundError } from '../../couch/errors.js';
import { brokenViewCode } from '../../worker/view-check.js';
import { withRetry } from '../../couch/retry.js';
import { isTransient } from '../../couch/errors.js';
import { OutageNotice } from '../../worker/outage-notice.js';
import { watchStopSignals } from '../../worker/stop-signals.js';
import { outcomeOf, RunSummary } from '../../status/run-summary.js';
import { cleanupPilots } from '../../status/pilots.js';

/** The pilot was stopped by a signal while the server could not be reached. */
class StoppedBeforeStart extends Error {}

interface RunFlags extends ConnectionFlags {
  json?: boolean;
  designDoc: string;
  design_doc?: string;
  view: string[];
  key?: string;
  slots: string;
  maxTokenTime?: string;
  maxTotalTime?: string;
  maxTasks?: string;
  maxScrub: string;
  wait?: boolean;
  pollInterval: string;
  batch: string;
  lease: string;
  onInterrupt: 'todo' | 'error';
  workDir: string;
  keepWorkDirs?: boolean;
  runInWorkDir?: boolean;
  maxLogBytes: string;
  grace: string;
  maxLost: string;
  leaseMargin?: string;
  stopFile?: string;
  outagePatience: string;
  spool?: string;
  conflictCheck: boolean;
  confirmClaims?: string;
  wrap?: string;
}

const num = (value: string | undefined, name: string, min = 0): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UserError(`${name} must be a number >= ${min}, not ${JSON.stringify(value)}`, EXIT.usage);
  return n;
};

/** Parse `Design/view` or `view` (in --design-doc) into view references, in priority order. */
export function parseViews(views: string[], designDoc: string, key?: string): ViewRef[] {
  const parsedKey = key === undefined ? undefined : (() => { try { return JSON.parse(key); } catch { return key; } })();
  return views.map((v) => {
    const [design, view] = v.includes('/') ? v.split('/', 2) as [string, string] : [designDoc, v];
    return { design, view, ...(parsedKey !== undefined ? { key: parsedKey } : {}) };
  });
}

export function register(program: Command): void {
  const cmd = program.command('run')
    .description('run a pilot: claim tokens and run their commands until none is left')
    .argument('[argv...]', 'after --: an argument template run instead of the token\'s input, e.g. -- ./fractals -q {q} -o {_id}.ppm')
    .option('--design-doc <name>', 'design document of the views', 'Monitor')
    .addOption(new Option('--design_doc <name>', 'the original\'s spelling of --design-doc').hideHelp())
    .option('--view <view...>', 'view(s) to claim from, in priority order (name or Design/name)', ['todo'])
    .option('--key <json>', 'claim only rows of the view with this key')
    .option('--slots <n>', 'tokens run at once in this pilot (e.g. one per core)', '1')
    .option('--max-token-time <seconds>', 'stop a command running longer than this (token becomes error)')
    .option('--max-total-time <seconds>', 'start no new token after this long')
    .option('--max-tasks <n>', 'stop after this many tokens')
    .option('--max-scrub <n>', 'reset a failed token for another try while its scrub_count is below this', '0')
    .option('--wait', 'when no token is free, wait for new tokens (woken by the database\'s changes feed) instead of ending')
    .option('--poll-interval <seconds>', 'with --wait, read the views again at least this often even when the changes feed says nothing (an expired lease writes nothing)', '300')
    .option('--batch <n>', 'most tokens claimed (and results written) per request; sized from task durations', '10')
    .option('--lease <seconds>', 'how long a claim holds without renewal', '300')
    .addOption(new Option('--on-interrupt <state>', 'where tokens of commands stopped by SIGTERM/SIGINT go').choices(['todo', 'error']).default('todo'))
    .option('--work-dir <dir>', 'parent folder of the tokens\' own work folders (PICAS_TOKEN_WORK_DIR; kept when a command left files in them)', './picas-work')
    .option('--run-in-work-dir', 'run each command inside its token\'s work folder instead of the folder picas run was started in')
    .option('--wrap <prefix>', 'run each command under this prefix, e.g. "apptainer exec image.sif" (a token\'s wrap field overrides it)')
    .option('--keep-work-dirs', 'keep even the work folders commands left empty')
    .option('--max-log-bytes <n>', 'bound per log stream (a tail is kept beyond it)', String(1024 * 1024))
    .option('--grace <seconds>', 'between SIGTERM and SIGKILL when a command is stopped', '30')
    .option('--max-lost <n>', 'a token whose pilots died holding it this many times goes to error', '3')
    .option('--lease-margin <seconds>', 'wait this long beyond a dead pilot\'s lease before taking its token (default: lease/10, 2-30 s)')
    .option('--stop-file <file>', 'drain when this file exists: finish current tokens, claim no more, exit')
    .option('--spool <file>', 'keep results the server could not take (long outage) in this file; the next start delivers them')
    .option('--outage-patience <seconds>', 'keep retrying an unreachable or failing server this long before giving up', '600')
    .option('--json', 'when the pilot ends, print its summary as one JSON object on stdout (done, failed, lost, claims lost to other pilots, why it stopped)')
    .option('--confirm-claims <ms>', 'confirm each claim before running it: read it back until it has stood this long (servers replicating to each other behind one address; a CouchDB cluster is detected by itself)')
    .option('--no-conflict-check', 'do not check held tokens for replication conflicts at each lease renewal (single-server databases)')
    .addHelpText('after', `
Examples:
  picas run                                   run tokens' input commands until none is left
  picas run --slots 8 --max-token-time 3600   eight at a time, none longer than an hour
  picas run --wait --max-total-time 86400     keep polling for new tokens for a day
  picas run --view Monitor/todo --view Low/todo   prioritised: Monitor first
  picas run -- ./fractals -q {q} -d {d} -m {m} -o {_id}.ppm
  picas run --stop-file ~/stop-pilots        touch the file to drain the pilots

Signals: SIGTERM/SIGINT stop running commands (SIGKILL after --grace) and put their tokens back
(--on-interrupt), write finished results, and exit 0 within --grace + 5 s in every state (also while
the server is unreachable); a second signal kills the commands at once. SIGUSR1 drains (finish current tokens, claim no more). \`picas drain\` drains all pilots of a database.

Exit status: 0 when the pilot worked through the tokens (failed tokens are data), 2 usage,
3 configuration, 4 server unreachable, 5 authentication, 6 database or view not found.`);
  addConnectionOptions(cmd).action(action(async (argv: string[], flags: RunFlags) => {
    const session = await openSession(flags);
    const { out, db } = session;
    const designDoc = flags.design_doc ?? flags.designDoc;
    const views = parseViews(flags.view, designDoc, flags.key);
    const graceMs = num(flags.grace, '--grace')! * 1000;
    const patienceMs = num(flags.outagePatience, '--outage-patience')! * 1000;
    // Signals are obeyed in every state (see stop-signals.ts): the pilot has exited within --grace + 5 s.
    const signals = watchStopSignals({
      graceMs,
      say: (line) => out.info(line),
      firstLine: (sig) => `${sig}: stopping: running commands get --grace ${graceMs / 1000} s, their tokens go back to ${flags.onInterrupt}, finished results are written; a second signal stops at once`,
    });
    const controller = signals.stop;
    const drain = new AbortController();
    const onDrain = () => drain.abort();
    process.once('SIGUSR1', onDrain);
    const outage = new OutageNotice(patienceMs, (line) => out.warn(line));
    const retry = { patienceMs, onRetry: outage.onRetry, signal: controller.signal };
    // On a terminal one live summary line (per-token lines with -v); in a log file every line and a summary each minute.
    let live: RunSummary | undefined;
    try {
      // A pilot started during an outage waits for the server like a running one (same patience).
      if (!(await withRetry(() => db.exists(), retry))) {
        throw new UserError(`database "${db.name}" does not exist on ${session.couch.url}; create it with \`picas push\` or \`picas views\``, EXIT.notFound);
      }
      await withRetry(() => ensureDesignDocs(db), retry);
      const broken = await withRetry(() => brokenViewCode(db, views), retry);
      if (broken) throw new UserError(broken, EXIT.config);
      // Heartbeats of pilots stopped more than a day ago are deleted (best effort), so pilot lists stay short.
      void cleanupPilots(db, Math.floor(db.server.serverNow() / 1000)).catch(() => undefined);
      live = flags.quiet ? undefined : new RunSummary({ verbose: flags.verbose });
      const summary = await runPilot({
        processTask: commandTask({
          argv: argv.length ? argv : undefined,
          workRoot: resolve(flags.workDir),
          keepWorkDirs: flags.keepWorkDirs,
          wrap: flags.wrap,
          runInWorkDir: flags.runInWorkDir,
          maxLogBytes: num(flags.maxLogBytes, '--max-log-bytes', 1),
          graceMs,
        }),
        prepareRun: (token) => live?.tokenStarted(token._id),
        cleanupRun: (token) => live?.tokenEnded(token._id, outcomeOf(token)),
      }, {
        db,
        views,
        slots: num(flags.slots, '--slots', 1),
        batchSize: num(flags.batch, '--batch', 1),
        leaseSeconds: num(flags.lease, '--lease', 1),
        maxTokenTimeMs: flags.maxTokenTime ? num(flags.maxTokenTime, '--max-token-time')! * 1000 : undefined,
        maxTotalTimeMs: flags.maxTotalTime ? num(flags.maxTotalTime, '--max-total-time')! * 1000 : undefined,
        maxTasks: num(flags.maxTasks, '--max-tasks', 1),
        maxScrub: num(flags.maxScrub, '--max-scrub'),
        wait: flags.wait ? { pollMs: 1_000, maxPollMs: num(flags.pollInterval, '--poll-interval')! * 1000 } : false,
        onInterrupt: flags.onInterrupt,
        signal: controller.signal,
        drain: drain.signal,
        stopFile: flags.stopFile ? resolve(flags.stopFile) : undefined,
        spoolFile: flags.spool ? resolve(flags.spool) : undefined,
        maxLost: num(flags.maxLost, '--max-lost', 1),
        marginSeconds: num(flags.leaseMargin, '--lease-margin'),
        graceMs,
        hurry: signals.hurry.signal,
        checkConflicts: flags.conflictCheck,
        confirmClaims: flags.confirmClaims !== undefined ? { mode: 'always', settleMs: num(flags.confirmClaims, '--confirm-claims', 1) } : undefined,
        log: (line) => (live ? live.log(line) : out.info(line)),
        retry,
      }).catch(async (err) => {
        if (controller.signal.aborted && isTransient(err)) throw new StoppedBeforeStart();
        // A 404 mid-run is most often the whole database deleted under the pilot: say so, not "check the name".
        if (err instanceof NotFoundError && !(await db.exists().catch(() => true))) {
          throw new UserError(`database "${db.name}" on ${session.couch.url} was deleted while the pilot ran (${err.where}); its tokens are gone, nothing more to do`, EXIT.notFound);
        }
        if (err instanceof NotFoundError && /_view|_design/.test(err.where)) {
          throw new UserError(`view not found: ${err.where} (check --design-doc and --view)`, EXIT.notFound);
        }
        throw err;
      });
      live?.stop();
      out.info(`pilot ${summary.pilotId}: ${summary.done} done, ${summary.failed} failed` +
        `${summary.interrupted ? `, ${summary.interrupted} interrupted` : ''}${summary.staleResults ? `, ${summary.staleResults} stale results kept` : ''}` +
        `${summary.lost ? `, ${summary.lost} lost (lease)` : ''}${summary.spooled ? `, ${summary.spooled} results spooled` : ''}${summary.delivered ? `, ${summary.delivered} spooled results delivered` : ''}${summary.takeovers ? `, ${summary.takeovers} taken over from dead pilots` : ''}${summary.givenBack ? `, ${summary.givenBack} given back unstarted` : ''}` +
        ` in ${(summary.elapsedMs / 1000).toFixed(1)} s (stopped: ${summary.stoppedBy})`);
      if (flags.json) out.data(JSON.stringify(summary));
      return EXIT.ok;
    } catch (err) {
      // Stopped while waiting for an unreachable server (before or between claims): nothing of ours is lost.
      if (controller.signal.aborted && (err instanceof StoppedBeforeStart || isTransient(err))) {
        out.info('stopped while the server could not be reached; tokens this pilot still held (if any) are left to their leases');
        return EXIT.ok;
      }
      throw err;
    } finally {
      live?.stop();
      signals.dispose();
      process.off('SIGUSR1', onDrain);
      await session.close();
    }
  }));
}
