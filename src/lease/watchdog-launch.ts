import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WATCHDOG_ENV } from './watchdog-protocol.js';

/**
 * How to start the watchdog as a real entry of the same program, never as `node -e <source>` (a bundler
 * renames what such a source refers to, and in a single executable `process.execPath` is picas itself):
 *
 * 1. In a Node single-executable application: `process.execPath` alone; the program's entry
 *    (src/cli/main.ts) sees WATCHDOG_ENV first thing and runs the watchdog instead of the CLI.
 * 2. From the package (dist/) or the sources: `node <this folder>/watchdog-entry.js`, a small entry that
 *    loads only the watchdog, not the CLI (loaders such as tsx are passed on for `.ts` sources).
 * 3. Bundled into one file (no watchdog-entry next to this code): `node <that file>` with WATCHDOG_ENV set,
 *    since the one file is the program's entry, which checks it first thing as in 1.
 *
 * Every case passes WATCHDOG_ENV, so an entry never has to guess.
 */
export interface WatchdogLaunch {
  command: string;
  args: string[];
  /** Which of the three ways above, for tests and error messages. */
  how: 'single-executable' | 'entry-module' | 'bundle';
}

/** True inside a Node single-executable application (node:sea exists from Node 20.12; absent: not one). */
export function isSingleExecutable(): boolean {
  try {
    const require = createRequire(join(process.cwd(), 'picas-sea-probe.js'));
    const sea = require('node:sea') as { isSea?: () => boolean };
    return sea.isSea?.() === true;
  } catch {
    return false;
  }
}

/** The file this module was loaded from: its own file, or the bundle it was built into. */
function thisFile(): string | undefined {
  try {
    // In a CommonJS bundle `import.meta` is an empty object: url is undefined there.
    const url = (import.meta as { url?: string }).url;
    if (typeof url === 'string' && url.startsWith('file:')) return fileURLToPath(url);
  } catch { /* not an ES module */ }
  return undefined;
}

/** Node options that load code (tsx and other loaders): a `.ts` entry cannot start without them. */
function loaderArgs(): string[] {
  const keep: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--(import|loader|experimental-loader|require|conditions)$/.test(a) || a === '-r' || a === '-C') {
      if (argv[i + 1] !== undefined) keep.push(a, argv[++i]!);
    } else if (/^--(import|loader|experimental-loader|require|conditions)=/.test(a)) {
      keep.push(a);
    }
  }
  return keep;
}

export function watchdogLaunch(): WatchdogLaunch {
  if (isSingleExecutable()) return { command: process.execPath, args: [], how: 'single-executable' };
  const here = thisFile();
  if (here) {
    const dir = dirname(here);
    const js = join(dir, 'watchdog-entry.js');
    if (existsSync(js) && here.endsWith('.js')) return { command: process.execPath, args: [js], how: 'entry-module' };
    const ts = join(dir, 'watchdog-entry.ts');
    if (existsSync(ts) && here.endsWith('.ts')) return { command: process.execPath, args: [...loaderArgs(), ts], how: 'entry-module' };
  }
  const bundle = here ?? process.argv[1];
  if (!bundle) throw new Error('cannot start the watchdog: no program file to run it from');
  return { command: process.execPath, args: [...loaderArgs(), bundle], how: 'bundle' };
}

/** The environment the watchdog runs with: the pilot's, plus the marker its entry checks. */
export function watchdogEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, [WATCHDOG_ENV]: '1' };
}
