import { SourceError, at } from './errors.js';
import { readChunks } from './chunks.js';
import { checkFields, type SourceRecord } from './record.js';

interface CsvRow {
  cells: string[];
  /** Line where the row starts (a quoted cell may span lines). */
  line: number;
}

/**
 * CSV rows (RFC 4180: `,` separated, `"` quoted, `""` inside quotes is a quote, quoted cells may hold
 * commas and newlines), streamed chunk by chunk. Blank lines are skipped.
 */
export async function* csvRows(file: string): AsyncGenerator<CsvRow> {
  let cells: string[] = [];
  let cell = '';
  let quoted = false; // inside a quoted cell
  let afterQuote = false; // a quoted cell just closed: only ',' or a line end may follow
  let cellWasQuoted = false;
  let pendingQuote = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  for await (const chunk of readChunks(file)) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (quoted) {
        if (pendingQuote) {
          // The quote before this character either doubles into a literal quote or closes the cell.
          pendingQuote = false;
          if (c === '"') { cell += '"'; continue; }
          quoted = false;
          afterQuote = true;
          // fall through: this character follows the closed cell
        } else if (c === '"') {
          pendingQuote = true; // decided by the next character, which may be in the next chunk
          continue;
        } else {
          if (c === '\n') line++;
          cell += c;
          continue;
        }
      }
      if (c === ',') {
        cells.push(cell); cell = ''; afterQuote = false; cellWasQuoted = false;
        continue;
      }
      if (c === '\r') continue;
      if (c === '\n') {
        cells.push(cell);
        const blank = cells.length === 1 && cells[0] === '' && !cellWasQuoted;
        if (!blank) yield { cells, line: rowLine };
        cells = []; cell = ''; afterQuote = false; cellWasQuoted = false;
        line++;
        rowLine = line;
        continue;
      }
      if (afterQuote) {
        throw new SourceError(at(file, line), `unexpected ${JSON.stringify(c)} after a closing quote; inside quotes write "" for a quote`);
      }
      if (c === '"') {
        if (cell !== '') throw new SourceError(at(file, line), 'a quote in the middle of an unquoted cell; quote the whole cell and write "" for a quote');
        quoted = true;
        cellWasQuoted = true;
        quoteLine = line;
        continue;
      }
      cell += c;
    }
  }
  if (quoted && pendingQuote) { quoted = false; pendingQuote = false; }
  if (quoted) throw new SourceError(at(file, quoteLine), 'a quoted cell is never closed (missing ")');
  if (cell !== '' || cells.length > 0 || cellWasQuoted) {
    cells.push(cell);
    yield { cells, line: rowLine };
  }
}

/**
 * CSV with a header: each row becomes a token whose fields are named by the header. Values stay text
 * (a CSV cell has no type; "0.100" keeps its digits). A column `_id` names the token.
 */
export async function* csvRecords(file: string): AsyncGenerator<SourceRecord> {
  let header: string[] | undefined;
  for await (const row of csvRows(file)) {
    if (!header) {
      header = row.cells.map((h) => h.trim());
      const where = at(file, row.line);
      const seen = new Set<string>();
      header.forEach((name, i) => {
        if (name === '') throw new SourceError(where, `header column ${i + 1} has no name; every column needs one`);
        if (seen.has(name)) throw new SourceError(where, `header names column "${name}" twice`);
        seen.add(name);
      });
      checkFields(Object.fromEntries(header.map((h) => [h, 'x'])), where);
      continue;
    }
    const where = at(file, row.line);
    if (row.cells.length !== header.length) {
      throw new SourceError(where, `${row.cells.length} cells, but the header has ${header.length} columns`);
    }
    const fields: Record<string, unknown> = {};
    header.forEach((name, i) => { fields[name] = row.cells[i]; });
    yield { fields: checkFields(fields, where), where };
  }
  if (!header) throw new SourceError(file, 'empty file: a CSV source needs a header line naming the fields');
}
