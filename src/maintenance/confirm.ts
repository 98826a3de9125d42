import { createInterface } from 'node:readline/promises';

/** More tokens than this are only touched after a yes (or --yes). */
export const CONFIRM_ABOVE = 10;

export class NotConfirmedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotConfirmedError';
  }
}

/**
 * Ask `question [y/N]` on the terminal. Without a terminal nobody can answer, so the caller's `--yes` is
 * the only way: refused with a message that says so, never assumed.
 */
export async function confirm(question: string, hint: string, streams: { input?: NodeJS.ReadStream; output?: NodeJS.WriteStream } = {}): Promise<void> {
  const input = streams.input ?? process.stdin;
  const output = streams.output ?? process.stderr;
  if (!input.isTTY) throw new NotConfirmedError(`${question.replace(/\?$/, '')}: not confirmed (no terminal to ask on). ${hint}`);
  const rl = createInterface({ input, output });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmedError('cancelled: nothing was changed');
  } finally {
    rl.close();
  }
}
