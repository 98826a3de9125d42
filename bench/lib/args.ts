// Command-line options of `npm run bench`.
export const SECTIONS = ['raw', 'baseline', 'push', 'processing', 'waiting', 'scale'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchArgs {
  /** CouchDB URL with credentials; undefined = start an embedded server. */
  url?: string;
  short: boolean;
  json?: string;
  only: Set<Section>;
  /** Largest scale size tried, and the budget per scale step (seconds). */
  scaleSizes: number[];
  scaleBudgetS: number;
  /** Waiting section: how many pilots wait with --wait, and over how long their requests are counted (s). */
  waitingPilots: number;
  waitWindowS: number;
}

export class BenchUsageError extends Error {}

const USAGE = 'usage: npm run bench -- [--url <couchdb url with credentials>] [--short] [--json <file>] ' +
  `[--only ${SECTIONS.join(',')}] [--scale-sizes 10000,100000,1000000] [--scale-budget-s 600] ` +
  '[--waiting-pilots 32] [--wait-window-s 320 (a whole default --poll-interval, 300 s, and more)]';

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { short: false, only: new Set(SECTIONS), scaleSizes: [], scaleBudgetS: 600, waitingPilots: 0, waitWindowS: 0 };
  let waitingPilots: number | undefined; let waitWindowS: number | undefined;
  let sizes: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new BenchUsageError(`${a} needs a value; ${USAGE}`);
      return v;
    };
    if (a === '--url') args.url = value();
    else if (a === '--short') args.short = true;
    else if (a === '--json') args.json = value();
    else if (a === '--only') {
      const names = value().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad.length || names.length === 0) throw new BenchUsageError(`--only: unknown section(s) ${bad.join(', ') || '(none given)'}; sections are ${SECTIONS.join(', ')}`);
      args.only = new Set(names as Section[]);
    } else if (a === '--scale-sizes') sizes = value();
    else if (a === '--scale-budget-s') args.scaleBudgetS = Number(value());
    else if (a === '--waiting-pilots') waitingPilots = Number(value());
    else if (a === '--wait-window-s') waitWindowS = Number(value());
    else if (a === '--help' || a === '-h') throw new BenchUsageError(USAGE);
    else throw new BenchUsageError(`unknown option ${a}; ${USAGE}`);
  }
  args.scaleSizes = (sizes ?? (args.short ? '1000,5000' : '10000,100000,1000000')).split(',').map(Number);
  if (args.scaleSizes.some((n) => !Number.isInteger(n) || n < 100)) throw new BenchUsageError('--scale-sizes: whole numbers >= 100, comma separated');
  if (!Number.isFinite(args.scaleBudgetS) || args.scaleBudgetS <= 0) throw new BenchUsageError('--scale-budget-s: a positive number of seconds');
  args.waitingPilots = waitingPilots ?? (args.short ? 4 : 32);
  args.waitWindowS = waitWindowS ?? (args.short ? 5 : 320);
  if (!Number.isInteger(args.waitingPilots) || args.waitingPilots < 1) throw new BenchUsageError('--waiting-pilots: a whole number >= 1');
  if (!Number.isFinite(args.waitWindowS) || args.waitWindowS <= 0) throw new BenchUsageError('--wait-window-s: a positive number of seconds');
  return args;
}
