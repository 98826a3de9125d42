#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { EXIT } from './exit-codes.js';
import { isWatchdogProcess, runWatchdogProcess } from '../lease/watchdog-process.js';

// A pilot's watchdog is this same program started with PICAS_RUN_AS_WATCHDOG=1 (src/lease/watchdog-launch.ts):
// in a bundle or a single executable there is no other file to run. Checked before anything else runs;
// the watchdog then never parses a command line (it exits when its pilot is done).
const asWatchdog = isWatchdogProcess();
if (asWatchdog) void runWatchdogProcess();

// A lone-file build (npm run bundle) has no package.json beside it: the build writes the version in here.
declare const PICAS_BUNDLED_VERSION: string | undefined;
const pkg = typeof PICAS_BUNDLED_VERSION === 'string' ? { version: PICAS_BUNDLED_VERSION }
  : JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('picas')
    .description('Pilot jobs on CouchDB: put tokens (units of work) in a database, run pilots anywhere that claim and run them.')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  program.hook('preAction', (_program, command) => {
    // A pilot allocates at a high rate for hours. Left alone, V8 grows its young generation from 2 to
    // ~32 MB and, while the process is busy, lets the old generation fill with ~25 MB of garbage before
    // its next full collection: together a third of a pilot's memory. Keeping the young generation at its
    // starting size and collecting the old one at 1.5x its live size holds a pilot's peak RSS near 75 MB
    // instead of ~100, with the same CPU (docs/pilot-memory.md). These two are the heap flags V8 still
    // reads after start-up (its size limits, e.g. --max-semi-space-size, are fixed by then).
    if (command.name() === 'run') {
      setFlagsFromString('--semi-space-growth-factor=1');
      setFlagsFromString('--heap-growing-percent=50');
    }
  });
  return program;
}

// `picas status | head`: a closed pipe ends the output quietly, not with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

// No top-level await: the single executable (npm run bundle) is CommonJS, which has none.
if (!asWatchdog) buildProgram().parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
  } else {
    throw err;
  }
});
