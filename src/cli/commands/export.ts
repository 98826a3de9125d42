import { createWriteStream } from 'node:fs';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { EXPORT_FORMATS, exportTokens, type ExportFormat } from '../../maintenance/export.js';
import { progressLine } from '../../sources/progress.js';
import { describeSelection, viewSelection, type Selection } from '../../maintenance/select.js';
import { asUserError } from '../selection.js';

interface ExportFlags extends ConnectionFlags {
  designDoc: string;
  format?: string;
  output?: string;
  logs?: boolean;
  fields?: string;
}

function formatOf(flags: ExportFlags): ExportFormat {
  if (flags.format !== undefined) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) {
      throw new UserError(`unknown export format ${JSON.stringify(flags.format)}; choose one of ${EXPORT_FORMATS.join(', ')}`, EXIT.usage);
    }
    return flags.format as ExportFormat;
  }
  return flags.output && extname(flags.output).toLowerCase() === '.csv' ? 'csv' : 'jsonl';
}

export function register(program: Command): void {
  const cmd = program.command('export')
    .description('write tokens out with their fields, state, exit code and (with --logs) their stdout/stderr')
    .argument('[view]', 'only the tokens of this view (done, error, ... or Design/view); default: all tokens')
    .option('--design-doc <name>', 'design document of the view', 'Monitor')
    .option('--format <format>', 'jsonl (default), csv, or dir (a folder with <id>.json, <id>.out, <id>.err)')
    .option('-o, --output <path>', 'file to write (default: stdout); the folder for --format dir')
    .option('--logs', 'include stdout and stderr of each token (always on for dir)')
    .option('--fields <names>', 'CSV columns, comma separated (default: every field found)')
    .addHelpText('after', `
Examples:
  picas export done > results.jsonl
  picas export --format csv --fields _id,q,d,m,exit_code -o results.csv
  picas export error --format dir -o failed-logs/`);
  addConnectionOptions(cmd).action(action(async (view: string | undefined, flags: ExportFlags) => {
    const format = formatOf(flags);
    if (format === 'dir' && !flags.output) throw new UserError('--format dir needs --output <folder> to write the files into', EXIT.usage);
    const fields = flags.fields?.split(',').map((f) => f.trim()).filter(Boolean);
    if (flags.fields !== undefined && (!fields || fields.length === 0)) throw new UserError('--fields needs at least one field name', EXIT.usage);
    const selection: Selection = view ? viewSelection(view, flags.designDoc) : { kind: 'all' };
    const session = await openSession(flags);
    const { db, out } = session;
    let stream: Writable = process.stdout;
    try {
      if (!(await db.exists())) throw new UserError(`database "${db.name}" does not exist on ${session.couch.url}`, EXIT.notFound);
      if (flags.output && format !== 'dir') {
        stream = createWriteStream(flags.output);
        await new Promise<void>((resolve, reject) => {
          stream.once('open', () => resolve());
          stream.once('error', (err) => reject(new UserError(`cannot write ${flags.output}: ${err.message}`, EXIT.failure)));
        });
      }
      const progress = progressLine('exported', undefined, process.stderr, { quiet: flags.quiet });
      const count = await exportTokens(db, selection, { format, logs: flags.logs, fields, out: stream, dir: flags.output, onProgress: (n) => progress.update(n) });
      progress.finish(count);
      out.info(`exported ${count} tokens (${describeSelection(selection)}) from ${db.name}${flags.output ? ` to ${flags.output}` : ''}`);
      return EXIT.ok;
    } catch (err) {
      throw asUserError(err);
    } finally {
      if (stream !== process.stdout) await new Promise<void>((resolve) => stream.end(() => resolve()));
      await session.close();
    }
  }));
}
