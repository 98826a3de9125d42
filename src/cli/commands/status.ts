import { toJson } from '../../couch/json.js';
import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { farmStatus } from '../../status/farm-status.js';
import { renderStatus } from '../../status/render.js';
import { isTokenState, listTokens } from '../../status/token-list.js';
import { localTime, printable } from '../../status/format.js';
import { logAttachmentNames } from '../../tokens/operations.js';
import { sleep } from '../../couch/backoff.js';
import type { TokenState } from '../../tokens/state.js';

interface StatusFlags extends ConnectionFlags {
  json?: boolean;
  designDoc: string;
  tokens?: boolean | string;
  logs?: boolean;
  limit: string;
  after?: string;
  prefix?: string;
  watch?: boolean | string;
  errors: string;
}

const positive = (value: string, name: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${name} must be a positive number, not ${JSON.stringify(value)}`, EXIT.usage);
  return n;
};

export function register(program: Command): void {
  const cmd = program.command('status')
    .description('progress of the run: counts per state, rate and ETA, active pilots, expired leases, recent errors')
    .option('--json', 'print the same facts as one JSON object (todo, locked, done, error, pilots, rate, errors, ...)')
    .option('--watch [seconds]', 'on a terminal: refresh in place every few seconds (default 2) until Ctrl-C')
    .option('--tokens [state]', 'list tokens instead: of one state (todo, locked, done, error) or all, a page at a time')
    .option('--limit <n>', 'with --tokens: tokens per page (at most 1000)', '50')
    .option('--after <id>', 'with --tokens: the page after this token id (printed at the end of each page)')
    .option('--prefix <text>', 'with --tokens: only ids starting with this')
    .option('--logs', 'with --tokens: also print each token\'s input and its stdout log')
    .option('--errors <n>', 'how many recent errors to show', '5')
    .option('--design-doc <name>', 'design document whose state views to count', 'Monitor')
    .addHelpText('after', `
Examples:
  picas status                          progress, pilots and recent errors
  picas status --watch                  the same, refreshed in place
  picas status --json                   one JSON object: todo, locked, done, error, pilots, ...
  picas status --tokens error           the failed tokens, 50 at a time
  picas status --tokens error --after token_17   the next page
  picas status --tokens --prefix run3_ --limit 200`);
  addConnectionOptions(cmd).action(action(async (flags: StatusFlags) => {
    if (flags.tokens !== undefined && flags.tokens !== true && !isTokenState(flags.tokens)) {
      throw new UserError(`--tokens takes a state (todo, locked, done or error) or nothing, not ${JSON.stringify(flags.tokens)}`, EXIT.usage);
    }
    const limit = positive(flags.limit, '--limit');
    const errors = Math.floor(positive(flags.errors, '--errors'));
    const session = await openSession(flags);
    try {
      const { db, out } = session;
      if (flags.tokens !== undefined) {
        const page = await listTokens(db, {
          state: flags.tokens === true ? undefined : (flags.tokens as TokenState),
          prefix: flags.prefix, after: flags.after, limit, design: flags.designDoc, attachments: flags.logs,
        });
        const rows = page.tokens.map((t) => {
          const out = t._attachments?.[logAttachmentNames(t._id).out]?.data;
          return {
            id: t._id, state: t.state, exit_code: t.exit_code, host: t.hostname || undefined, done: Number(t.done) || undefined,
            ...(flags.logs ? { input: t.input, stdout: out ? Buffer.from(out, 'base64').toString('utf8') : undefined } : {}),
          };
        });
        if (flags.json) {
          out.data(toJson({ tokens: rows, ...(page.next ? { next: page.next } : {}) }));
          return;
        }
        for (const t of rows) {
          out.data(`${printable(t.id)}  ${t.state}  exit_code=${printable(toJson(t.exit_code) ?? '')}${t.host ? `  ${printable(t.host)}` : ''}${t.done ? `  ${localTime(t.done)}` : ''}`);
          if (flags.logs) {
            out.data(`    input:  ${printable(toJson(t.input) ?? '')}`);
            out.data(`    stdout: ${t.stdout === undefined ? '(no log attached)' : printable(JSON.stringify(t.stdout.trimEnd()))}`);
          }
        }
        if (rows.length === 0) out.info('no tokens');
        if (page.next) out.info(`more: picas status --tokens${flags.tokens === true ? '' : ` ${flags.tokens}`}${flags.prefix ? ` --prefix ${JSON.stringify(flags.prefix)}` : ''} --limit ${limit} --after ${JSON.stringify(page.next)}`);
        return;
      }
      const read = () => farmStatus(db, { design: flags.designDoc, errors });
      if (flags.json) {
        out.data(JSON.stringify(await read()));
        return;
      }
      const tty = Boolean(process.stdout.isTTY);
      if (!flags.watch) {
        out.data(renderStatus(await read(), { width: process.stdout.columns || undefined, color: tty }).join('\n'));
        return;
      }
      // --watch: redraw in place on a terminal (plain repeated blocks otherwise), one bounded read per refresh.
      const every = flags.watch === true ? 2 : positive(flags.watch, '--watch');
      const stop = new AbortController();
      const onSig = () => stop.abort();
      process.once('SIGINT', onSig);
      process.once('SIGTERM', onSig);
      try {
        while (!stop.signal.aborted) {
          const lines = renderStatus(await read(), { width: process.stdout.columns || undefined, color: tty });
          if (tty) {
            // One screen: as many lines as the terminal has (a pseudo-terminal may report 0 rows: then all).
            const rows = process.stdout.rows || lines.length + 2;
            process.stdout.write(`\x1b[H\x1b[2J${lines.slice(0, Math.max(1, rows - 2)).join('\n')}\n\n(refreshing every ${every} s; Ctrl-C to stop)\n`);
          } else {
            out.data(`${lines.join('\n')}\n`);
          }
          await sleep(every * 1000, stop.signal).catch(() => undefined);
        }
      } finally {
        process.off('SIGINT', onSig);
        process.off('SIGTERM', onSig);
      }
    } finally {
      await session.close();
    }
  }));
}
