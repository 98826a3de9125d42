import { toJson } from '../couch/json.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Database } from '../couch/database.js';
import { NotFoundError } from '../couch/errors.js';
import { safeFileName } from '../exec/work-dir.js';
import { logAttachmentNames } from '../tokens/operations.js';
import { tokenState } from '../tokens/state.js';
import type { Token } from '../tokens/token.js';
import { csvLine } from './csv-line.js';
import { selectTokens, type Selection } from './select.js';

export const EXPORT_FORMATS = ['jsonl', 'csv', 'dir'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** Include stdout/stderr (the `logs_<id>.out/.err` attachments). Always on for `dir`. */
  logs?: boolean;
  /** CSV columns; default: every field found, `_id`, `state` and `exit_code` first. */
  fields?: string[];
  /** Where jsonl/csv go. */
  out?: Writable;
  /** The folder for `dir`. */
  dir?: string;
  /** After each page written, with the tokens written so far (a progress bar on a terminal). */
  onProgress?: (written: number) => void;
}

/** A token as exported: its fields and its state, without CouchDB's and picas's bookkeeping. */
export function exportRecord(token: Token): Record<string, unknown> {
  const { _id, _rev, _attachments, picas, ...fields } = token as Token & { picas?: unknown };
  void _rev; void _attachments; void picas;
  return { _id, state: tokenState(token) ?? 'none', ...fields };
}

/** A token's logs as text, or null when it has none (not run yet, or reset). */
export async function tokenLogs(db: Database, token: Token): Promise<{ stdout: string | null; stderr: string | null }> {
  const names = logAttachmentNames(token._id);
  const read = async (name: string) => {
    if (!token._attachments?.[name]) return null;
    try {
      return (await db.getAttachment(token._id, name)).toString('utf8');
    } catch (err) {
      if (err instanceof NotFoundError) return null; // removed since the page was read
      throw err;
    }
  };
  const [stdout, stderr] = await Promise.all([read(names.out), read(names.err)]);
  return { stdout, stderr };
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

/** Every field name of the selected tokens, in first-seen order after the leading ones (one extra pass). */
async function discoverColumns(db: Database, selection: Selection): Promise<string[]> {
  const seen = new Set<string>(['_id', 'state', 'exit_code']);
  for await (const page of selectTokens(db, selection)) {
    for (const token of page) for (const key of Object.keys(exportRecord(token))) seen.add(key);
  }
  return [...seen];
}

/**
 * Write the selected tokens out: JSON lines (one object per token), CSV (one row per token, objects as
 * JSON in their cell), or a folder with `<id>.json`, `<id>.out` and `<id>.err` per token (ids made
 * safe for file names). Streams page by page. Returns how many tokens were written.
 */
export async function exportTokens(db: Database, selection: Selection, options: ExportOptions): Promise<number> {
  const withLogs = options.logs || options.format === 'dir';
  let columns: string[] | undefined;
  if (options.format === 'csv') {
    columns = options.fields ?? await discoverColumns(db, selection);
    if (withLogs) columns = [...columns.filter((c) => c !== 'stdout' && c !== 'stderr'), 'stdout', 'stderr'];
    await write(options.out!, csvLine(columns));
  }
  if (options.format === 'dir') await mkdir(options.dir!, { recursive: true });
  let count = 0;
  for await (const page of selectTokens(db, selection)) {
    for (const token of page) {
      const record = exportRecord(token);
      const logs = withLogs ? await tokenLogs(db, token) : undefined;
      if (options.format === 'jsonl') {
        await write(options.out!, `${toJson(logs ? { ...record, ...logs } : record)}\n`);
      } else if (options.format === 'csv') {
        const row = logs ? { ...record, ...logs } : record;
        await write(options.out!, csvLine(columns!.map((c) => row[c])));
      } else {
        const base = join(options.dir!, safeFileName(token._id));
        await writeFile(`${base}.json`, `${toJson(record, 2)}\n`);
        if (logs?.stdout !== null && logs?.stdout !== undefined) await writeFile(`${base}.out`, logs.stdout);
        if (logs?.stderr !== null && logs?.stderr !== undefined) await writeFile(`${base}.err`, logs.stderr);
      }
      count++;
    }
    options.onProgress?.(count);
  }
  return count;
}
