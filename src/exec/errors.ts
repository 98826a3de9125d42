/**
 * A command that cannot be started as given: a bad argument template, a placeholder the token lacks, a
 * value a process cannot receive. Thrown before anything runs; the message is one line saying what is
 * wrong, where, and what to do, so the pilot can store it on the token as the error.
 */
export class CommandSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandSpecError';
  }
}
