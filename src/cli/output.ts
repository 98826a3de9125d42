/** Messages of the CLI: to stderr, so stdout stays for data (JSON, exports). `-q` hides info, `-v` shows debug. */
export interface Output {
  info(line: string): void;
  debug(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Data for stdout. */
  data(text: string): void;
}

export function makeOutput(options: { quiet?: boolean; verbose?: boolean } = {}): Output {
  return {
    info: (line) => { if (!options.quiet) process.stderr.write(`${line}\n`); },
    debug: (line) => { if (options.verbose) process.stderr.write(`${line}\n`); },
    warn: (line) => process.stderr.write(`warning: ${line}\n`),
    error: (line) => process.stderr.write(`picas: ${line}\n`),
    data: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
