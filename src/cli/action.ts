import { describeError } from './errors.js';
import { makeOutput } from './output.js';

/**
 * Wrap a command's action: any error becomes one clear line on stderr and a documented exit code,
 * never a stack trace (PICAS_DEBUG=1 shows it).
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (err) {
      const { message, exitCode } = describeError(err);
      makeOutput().error(message);
      if (process.env.PICAS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = exitCode;
    }
  };
}
