import { ConfigError } from './errors.js';

/** The user pressed Ctrl-C (or Ctrl-D on an empty line) at a prompt. */
export class PromptCancelled extends Error {
  constructor() {
    super('cancelled at the password prompt');
    this.name = 'PromptCancelled';
  }
}

export function canPrompt(input: NodeJS.ReadStream = process.stdin): boolean {
  return Boolean(input.isTTY);
}

/**
 * Ask for a secret on the terminal without echoing it. The question goes to stderr (stdout stays for data).
 * Only on a TTY: elsewhere there is nobody to answer, and the caller must say where else the secret can come
 * from (`hint`).
 */
export function promptHidden(
  question: string,
  hint: string,
  streams: { input?: NodeJS.ReadStream; output?: NodeJS.WriteStream } = {},
): Promise<string> {
  const input = streams.input ?? process.stdin;
  const output = streams.output ?? process.stderr;
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    return Promise.reject(new ConfigError(`cannot ask for the password: not a terminal. ${hint}`));
  }
  // Echo goes off before the question shows, so an answer typed at once is never echoed.
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  output.write(question);
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let answer = '';
    let inEscape = false;
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err); else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        // Arrow and function keys arrive as ESC [ ... letter-or-tilde: not part of the password.
        if (inEscape) { if (/[A-Za-z~]/.test(ch)) inEscape = false; continue; }
        if (ch === '\u001b') { inEscape = true; continue; }
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new PromptCancelled());
        if (ch === '\u0004') { if (answer === '') return finish(new PromptCancelled()); return finish(); }
        if (ch === '\u007f' || ch === '\b') { answer = [...answer].slice(0, -1).join(''); continue; }
        if (ch === '\u0015') { answer = ''; continue; } // Ctrl-U clears the line, as on a shell prompt
        if (ch < ' ') continue; // other control characters are not part of it
        answer += ch;
      }
    };
    input.on('data', onData);
  });
}

/** Ask twice and insist both answers match and are not empty (for a new password). */
export async function promptNewPassword(question: string, hint: string): Promise<string> {
  const first = await promptHidden(question, hint);
  if (first === '') throw new ConfigError('the password must not be empty.');
  const second = await promptHidden('repeat it: ', hint);
  if (first !== second) throw new ConfigError('the two passwords differ; nothing was changed. Run the command again.');
  return first;
}

/**
 * For commands that connect: when a user name is known but no password came from anywhere, ask for it on a
 * terminal (the "prompt" source of the precedence table). Elsewhere the settings stay as they are, and the
 * server's 401 tells the user what to give.
 */
export async function askMissingPassword<S extends { username?: string; password?: string }>(settings: S): Promise<S> {
  if (settings.username === undefined || settings.password !== undefined || !canPrompt()) return settings;
  const password = await promptHidden(`CouchDB password of '${settings.username}': `, '');
  return { ...settings, password };
}
