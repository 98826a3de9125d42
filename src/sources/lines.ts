import { readChunks } from './chunks.js';

export interface NumberedLine {
  text: string;
  /** 1-based line number in the file. */
  line: number;
}

/** The file's lines with their numbers, without line endings (`\n` or `\r\n`), streamed. */
export async function* readLines(file: string): AsyncGenerator<NumberedLine> {
  let rest = '';
  let line = 0;
  for await (const chunk of readChunks(file)) {
    rest += chunk;
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', start)) {
      line++;
      yield { text: stripCr(rest.slice(start, nl)), line };
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  if (rest.length > 0) yield { text: stripCr(rest), line: line + 1 };
}

const stripCr = (s: string): string => (s.endsWith('\r') ? s.slice(0, -1) : s);
