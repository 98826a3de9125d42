import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { ensureDesignDocs } from '../../tokens/design.js';
import { SourceError } from '../../sources/errors.js';
import { fileRecords, formatOf } from '../../sources/format.js';
import { parseSweep, sweepRecords } from '../../sources/sweep.js';
import { checkRecords, pushTokens, DEFAULT_BATCH_SIZE, type PushRejection } from '../../sources/push.js';
import { progressReporter } from '../../sources/progress.js';
import type { SourceRecord } from '../../sources/record.js';
import { spoolStdin, type SpooledInput } from '../../sources/stdin.js';

interface PushFlags extends ConnectionFlags {
  format?: string;
  sweep?: string[];
  input?: string;
  deterministicIds?: boolean;
  idPrefix: string;
  batchSize: string;
}

/** "Already there" lines shown before they are only counted: re-pushing a large file must not flood the terminal. */
const SHOWN_EXISTING = 10;

export function register(program: Command): void {
  const cmd = program.command('push')
    .description('add tokens from a file (text lines, JSON lines, JSON array, CSV) or a parameter sweep')
    .argument('[file]', 'file of tokens; the format comes from the extension (.txt .jsonl .json .csv) or --format; - reads standard input (text unless --format)')
    .option('--format <format>', 'text (one token per line, input = the line), jsonl, json (array or lines), csv (header names the fields)')
    .option('--sweep <name=values...>', 'tokens for every combination, e.g. --sweep q=0.100,0.184 d=256,2280')
    .option('--input <template>', 'with --sweep: the input of each token, {name} replaced by the value (default: "q=0.100 d=256")')
    .option('--deterministic-ids', 'ids from the tokens\' content: pushing the same tokens again adds nothing')
    .option('--id-prefix <prefix>', 'prefix of generated ids', 'token')
    .option('--batch-size <n>', 'tokens per bulk request', String(DEFAULT_BATCH_SIZE))
    .addHelpText('after', `
Examples:
  picas push examples/quick/quickExample.txt
  picas push tokens.jsonl --deterministic-ids
  picas push runs.csv
  ls data/*.dat | sed 's/^/.\/analyse /' | picas push -
  picas push --sweep q=0.100,0.184 d=256,2280,4304,6328 m=400,4400,8400 --input './fractals -q {q} -d {d} -m {m}'

The whole source is checked before anything is written: a malformed line stops the push and names its
line. Every token the database does not take is reported; "already there" (an existing id) is not an error.`);
  addConnectionOptions(cmd).action(action(async (file: string | undefined, flags: PushFlags) => {
    const batchSize = Number(flags.batchSize);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`--batch-size must be a whole number >= 1, not ${JSON.stringify(flags.batchSize)}`, EXIT.usage);
    const ids = { deterministic: flags.deterministicIds, prefix: flags.idPrefix };
    if (file === '-' && process.stdin.isTTY) {
      throw new UserError('picas push -: standard input is a terminal; pipe the tokens in (e.g. cat jobs.txt | picas push -)', EXIT.usage);
    }
    const stdin = file === '-' && !flags.sweep ? await spoolStdin() : undefined;
    try {
      return await pushFrom(file, flags, ids, batchSize, stdin);
    } finally {
      stdin?.dispose();
    }
  }));
}

async function pushFrom(file: string | undefined, flags: PushFlags, ids: { deterministic?: boolean; prefix: string }, batchSize: number, stdin: SpooledInput | undefined): Promise<number> {
  const records = sourceOf(file, flags, stdin);

  let total: number;
  try {
    total = await checkRecords(records(), ids);
  } catch (err) {
    if (err instanceof SourceError) throw new UserError(`${err.message} (nothing was pushed)`, EXIT.failure);
    throw err;
  }

  const session = await openSession(flags);
  const { db, out } = session;
  try {
    if (total === 0) {
      out.warn(`${file === '-' ? 'standard input' : file ?? 'the sweep'} holds no tokens; nothing to push`);
      return EXIT.ok;
    }
    if (!(await db.exists())) {
      await db.create({ ifMissing: true });
      out.info(`created database "${db.name}"`);
    }
    for (const r of await ensureDesignDocs(db)) {
      if (r.created || r.addedViews.length) out.debug(`design document ${r.name}: ${r.created ? 'created' : `added views ${r.addedViews.join(', ')}`}`);
    }
    const progress = progressReporter(total, process.stderr, { quiet: flags.quiet });
    let shownExisting = 0;
    const onRejected = (r: PushRejection) => {
      const line = `token ${r.id} (${r.where}): ${r.reason}`;
      if (r.kind === 'failed') out.error(line);
      else if (shownExisting++ < SHOWN_EXISTING || flags.verbose) out.info(line);
    };
    const result = await pushTokens(db, records(), {
      ...ids, batchSize, onRejected, onProgress: (p) => progress.update(p),
      retry: { onRetry: (err, wait) => out.warn(`${err.message}; retrying in ${(wait / 1000).toFixed(1)} s`) },
    });
    progress.done(result);
    if (result.existing > SHOWN_EXISTING && !flags.verbose) out.info(`... ${result.existing - SHOWN_EXISTING} more already there (-v lists them)`);
    out.info(`pushed ${result.sent} tokens to ${db.name}: ${result.added} added, ${result.existing} already there, ${result.failed} failed`);
    return result.failed > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    await session.close();
  }
}

/** A function giving a fresh pass over the tokens (the source is read twice: checked, then pushed). */
function sourceOf(file: string | undefined, flags: PushFlags, stdin?: SpooledInput): () => AsyncIterable<SourceRecord> | Iterable<SourceRecord> {
  if (flags.sweep && file) throw new UserError(`give either a file or --sweep, not both (got ${file} and --sweep)`, EXIT.usage);
  if (flags.sweep) {
    try {
      const params = parseSweep(flags.sweep);
      // Compile the template now, so a bad placeholder is reported before anything else.
      Array.from(sweepRecords(params.map((p) => ({ ...p, values: p.values.slice(0, 1) })), flags.input));
      return () => sweepRecords(params, flags.input);
    } catch (err) {
      if (err instanceof SourceError) throw new UserError(err.message, EXIT.usage);
      throw err;
    }
  }
  if (flags.input !== undefined) throw new UserError('--input is for --sweep; for a file, each line (or its "input" field) is the input', EXIT.usage);
  if (!file) throw new UserError('nothing to push: give a file (picas push tokens.txt) or a sweep (picas push --sweep q=1,2)', EXIT.usage);
  let format;
  try {
    format = formatOf(stdin ? stdin.file : file, flags.format);
  } catch (err) {
    if (err instanceof SourceError) throw new UserError(err.message, EXIT.usage);
    throw err;
  }
  if (stdin) return () => stdin.records((f) => fileRecords(f, format));
  return () => fileRecords(file, format);
}
