/**
 * A problem with the user's token source: a file that cannot be read, a malformed line, a bad sweep.
 * `where` names the file and line (or the sweep value), so the user can go straight to it.
 */
export class SourceError extends Error {
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'SourceError';
  }
}

/** "file.txt line 12" */
export const at = (file: string, line: number): string => `${file} line ${line}`;
