import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Password fields of a user document, in CouchDB 3's own format (`password_scheme: "pbkdf2"`), so a
 * `_users` document reads the same as on CouchDB. The plain password is never stored.
 */
export interface PasswordFields {
  password_scheme: 'pbkdf2';
  pbkdf2_prf: 'sha256';
  iterations: number;
  salt: string;
  derived_key: string;
}

/** Enough work to make guessing slow, little enough that a first login costs tens of milliseconds. */
const ITERATIONS = 100_000;
const KEY_BYTES = 32;

export async function hashPassword(password: string): Promise<PasswordFields> {
  const salt = randomBytes(16).toString('hex');
  const key = await pbkdf2Async(password, salt, ITERATIONS, KEY_BYTES, 'sha256');
  return { password_scheme: 'pbkdf2', pbkdf2_prf: 'sha256', iterations: ITERATIONS, salt, derived_key: key.toString('hex') };
}

/** Check a password against stored fields (also those written by CouchDB: sha1 is its older default). */
export async function verifyPassword(password: string, stored: Partial<PasswordFields> & { pbkdf2_prf?: string }): Promise<boolean> {
  if (stored.password_scheme !== 'pbkdf2' || typeof stored.salt !== 'string' || typeof stored.derived_key !== 'string') return false;
  const iterations = Number(stored.iterations);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
  const digest = stored.pbkdf2_prf === 'sha256' ? 'sha256' : stored.pbkdf2_prf === 'sha512' ? 'sha512' : 'sha1';
  const expected = Buffer.from(stored.derived_key, 'hex');
  if (expected.length === 0) return false;
  const got = await pbkdf2Async(password, stored.salt, iterations, expected.length, digest);
  return timingSafeEqual(got, expected);
}
