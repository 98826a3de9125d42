import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { loadAutopilotConfig, validateView, AutopilotConfigError, type AutopilotView } from '../../autopilot/config.js';
import { runAutopilot } from '../../autopilot/cycle.js';
import { TemplateError } from '../../autopilot/template.js';

interface AutopilotFlags extends ConnectionFlags {
  config?: string;
  view?: string[];
  maxJobs?: string;
  cores?: string;
  memory?: string;
  walltime?: string;
  submit?: string;
  query?: string;
  script?: string;
  sbatchArg?: string[];
  every?: string;
  untilEmpty?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

const number = (value: string | undefined, name: string, min: number): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UserError(`${name} must be a number >= ${min}, not ${JSON.stringify(value)}`, EXIT.usage);
  return n;
};

/** The views from --config, or from --view names with the other options applied to each. */
function viewsFromFlags(flags: AutopilotFlags): AutopilotView[] {
  const given: Partial<AutopilotView> = {
    ...(flags.maxJobs !== undefined ? { maxJobs: number(flags.maxJobs, '--max-jobs', 0) } : {}),
    ...(flags.cores !== undefined ? { cores: number(flags.cores, '--cores', 1) } : {}),
    ...(flags.memory !== undefined ? { memory: flags.memory } : {}),
    ...(flags.walltime !== undefined ? { walltime: flags.walltime } : {}),
    ...(flags.submit !== undefined ? { submit: flags.submit } : {}),
    ...(flags.query !== undefined ? { query: flags.query } : {}),
    ...(flags.script !== undefined ? { script: flags.script } : {}),
    ...(flags.sbatchArg?.length ? { sbatchArgs: flags.sbatchArg } : {}),
  };
  try {
    if (flags.config) {
      if (flags.view?.length) throw new UserError('give the views either in --config or with --view, not both', EXIT.usage);
      // Options given on the command line win over the file's settings.
      return loadAutopilotConfig(flags.config).map((v, i) => validateView({ ...v, ...given }, `${flags.config}: views[${i}]`));
    }
    if (!flags.view?.length) throw new UserError('no views: give --view SingleCore --view MultiCore (design documents), or --config <file>', EXIT.usage);
    return flags.view.map((design) => {
      const [d, view] = design.includes('/') ? design.split('/', 2) as [string, string] : [design, 'todo'];
      return validateView({ ...given, design: d, view }, `--view ${design}`);
    });
  } catch (err) {
    if (err instanceof AutopilotConfigError || err instanceof TemplateError) throw new UserError(err.message, EXIT.config);
    throw err;
  }
}

/** Where pilots find the server and database when the autopilot was told them by option (not by env or conf.yml). */
function pilotEnv(settings: { url: string; database: string; sources: { url: string; database: string } }): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (settings.sources.url === 'option') {
    const u = new URL(settings.url);
    u.username = ''; u.password = '';
    env.PICAS_HOST_URL = u.toString().replace(/\/$/, '');
  }
  if (settings.sources.database === 'option') env.PICAS_DATABASE = settings.database;
  return env;
}

export function register(program: Command): void {
  const cmd = program.command('autopilot')
    .description('keep pilot jobs submitted while views have work: per view, submit pilots (default sbatch) up to --max-jobs, never more pending than todo tokens')
    .option('--config <file>', 'views and their settings in a YAML/JSON file (see examples/slurm/README.md)')
    .option('--view <design...>', 'design document(s) to feed, e.g. SingleCore MultiCore (Design/view for a view other than todo)')
    .option('--max-jobs <n>', 'most pilot jobs of one view pending or running at once (default 10)')
    .option('--cores <n>', 'CPUs per pilot when the tokens have no cores field (default 1)')
    .option('--memory <size>', 'memory per pilot when the tokens have no memory field (sbatch --mem syntax, e.g. 4G)')
    .option('--walltime <time>', 'time limit per pilot when the tokens have no walltime field (sbatch --time syntax)')
    .option('--sbatch-arg <arg...>', 'extra sbatch option(s) of the default submit command, e.g. --sbatch-arg=--partition=rome')
    .option('--script <file>', 'pilot job script of the default submit command (default: the shipped picas-array.sh)')
    .option('--submit <template>', 'submit command template instead of sbatch; placeholders {design} {view} {database} {name} {cores} {memory} {walltime} {count} {script}')
    .option('--query <template>', 'command listing the jobs named {name} as "<id> <state>" lines (default: squeue --me)')
    .option('--every <seconds>', 'repeat every this many seconds (default: one pass, for cron or scrontab)')
    .option('--until-empty', 'with --every: stop once no view has todo or locked tokens or jobs in flight')
    .option('--dry-run', 'print the commands it would submit, submit nothing')
    .option('--json', 'print each pass\'s report per view as one JSON line on stdout')
    .addHelpText('after', `
Examples:
  picas autopilot --view SingleCore --view MultiCore --max-jobs 20
  picas autopilot --config autopilot.yml --every 300
  picas autopilot --view MultiCore --dry-run
  picas autopilot --view Monitor --submit 'qsub -V -N {name} -l nodes=1:ppn={cores} pilot.pbs' \\
    --query 'qselect -u $USER -N {name} -s QH | sed "s/$/ PENDING/"; qselect -u $USER -N {name} -s RE'

Token fields read (the largest of the first 50 todo tokens of a view): cores, memory, walltime.
Jobs are recognised by their name (picas-<database>-<design>); the pilots read the server settings as
every picas command does (conf.yml from picas init, or PICAS_* variables, which sbatch passes on).

Exit status: 0, or 1 when a view's query or submission failed (one pass), 2 usage, 3 configuration,
4 server unreachable, 5 authentication, 6 database or design document not found.`);
  addConnectionOptions(cmd).action(action(async (flags: AutopilotFlags) => {
    const views = viewsFromFlags(flags);
    const everyMs = flags.every !== undefined ? number(flags.every, '--every', 1)! * 1000 : undefined;
    if (flags.untilEmpty && everyMs === undefined) throw new UserError('--until-empty needs --every <seconds>', EXIT.usage);
    const session = await openSession(flags);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      if (!(await session.db.exists())) {
        throw new UserError(`database "${session.db.name}" does not exist on ${session.couch.url}; create it with \`picas views\` or \`picas push\``, EXIT.notFound);
      }
      let failed = false;
      await runAutopilot({
        db: session.db, views, dryRun: flags.dryRun, everyMs, untilEmpty: flags.untilEmpty, signal: stop.signal,
        env: pilotEnv(session.settings),
        retry: { onRetry: (err, wait) => session.out.warn(`${err.message}; waiting for the server, retrying in ${(wait / 1000).toFixed(1)} s`) },
        log: (line) => session.out.info(line),
        onCycle: (reports) => {
          failed = reports.some((r) => r.error);
          if (flags.dryRun) for (const r of reports) for (const c of r.commands) session.out.data(c);
          if (flags.json) session.out.data(JSON.stringify(reports));
        },
      });
      return failed && everyMs === undefined ? EXIT.failure : EXIT.ok;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await session.close();
    }
  }));
}
