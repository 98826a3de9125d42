import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

/** A non-negative number of seconds from an option, or a usage error naming the option. */
export function seconds(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`${name} must be a number of seconds >= 0, not ${JSON.stringify(value)}`, EXIT.usage);
  return n;
}
