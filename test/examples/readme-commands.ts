import { readFileSync } from 'node:fs';

/**
 * Command lines of the Markdown code blocks of a README (see readme-commands.test.ts for the convention):
 * blocks fenced with ```sh, ```bash, ```shell or ```console, indented or not; a line ending in `\` goes on
 * with the next; comment-only lines are left out; a line whose comment holds `not run: <reason>` is kept
 * apart with its reason.
 */
export interface CommandLine {
  file: string;
  /** 1-based line of the Markdown file where the command starts. */
  line: number;
  /** The command exactly as written (continuations joined with their backslash-newline). */
  text: string;
  /** Set when the line is marked `# not run: <reason>`. */
  notRun?: string;
}

export interface CodeBlock {
  file: string;
  line: number;
  commands: CommandLine[];
}

const SHELL_FENCE = /^(\s*)```(sh|bash|shell|console)\s*$/;
const ANY_FENCE = /^\s*```/;
const NOT_RUN = /#.*\bnot run:\s*(.+?)\s*$/;

export function readmeBlocks(file: string, label = file): CodeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = SHELL_FENCE.exec(lines[i]!);
    if (!open) {
      // Skip other fenced blocks whole, so a ``` inside them is not taken for an opening fence.
      if (ANY_FENCE.test(lines[i]!)) { for (i++; i < lines.length && !ANY_FENCE.test(lines[i]!); i++); }
      continue;
    }
    const indent = open[1]!.length;
    const block: CodeBlock = { file: label, line: i + 1, commands: [] };
    let pending: CommandLine | undefined;
    for (i++; i < lines.length && !ANY_FENCE.test(lines[i]!); i++) {
      const raw = lines[i]!.slice(Math.min(indent, lines[i]!.length - lines[i]!.trimStart().length));
      if (pending) {
        pending.text += `\n${raw}`;
      } else {
        const trimmed = raw.trim();
        if (trimmed === '' || trimmed.startsWith('#')) continue;
        pending = { file: label, line: i + 1, text: raw.replace(/^\$ /, '') };
      }
      if (!/\\\s*$/.test(raw)) {
        const reason = NOT_RUN.exec(pending.text);
        if (reason) pending.notRun = reason[1]!;
        block.commands.push(pending);
        pending = undefined;
      }
    }
    if (block.commands.length > 0) blocks.push(block);
  }
  return blocks;
}

/**
 * The allowed substitution of database names: `PICAS_DATABASE=<name>`, `--database <name>` and
 * `--db <name>` (with `=` or a space) get `rename(name)`; everything else stays as written.
 */
export function withDatabases(text: string, rename: (name: string) => string): string {
  return text.replace(/(\bPICAS_DATABASE=|--database[= ]|--db[= ])([A-Za-z][A-Za-z0-9_$()+-]*)/g, (_m, lead: string, name: string) => `${lead}${rename(name)}`);
}
