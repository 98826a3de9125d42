import { createHash } from 'node:crypto';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * Token ids are any string (REFERENCE.md section 1) and the original used them unchecked in file names.
 * These helpers turn an id into a name that stays inside its directory on every file system.
 */

/** Longest name produced, in bytes (file systems allow 255; this leaves room for prefixes and suffixes). */
export const MAX_SAFE_NAME_BYTES = 200;

/** Characters kept as they are; everything else becomes '_'. ASCII only, so bytes == characters. */
const SAFE_CHAR = /[A-Za-z0-9._+=@,-]/;

/** Length of the hash suffix: '~' plus 12 hex digits (48 bits). */
const SUFFIX_HEX = 12;

/**
 * A file or directory name for a token id: no '/', '\\' or NUL, never '.' or '..' or starting with '.'
 * or '-', at most MAX_SAFE_NAME_BYTES bytes. An id that is already such a name is returned unchanged;
 * any other gets a suffix '~' + a hash of the whole id. '~' never occurs in an unchanged name, so two
 * distinct ids give two distinct names (barring a 48-bit hash collision).
 */
export function safeFileName(id: string): string {
  let name = '';
  for (const ch of id) name += SAFE_CHAR.test(ch) ? ch : '_';
  // A leading '.' would hide the file or make '.'/'..'; a leading '-' reads as an option to commands.
  if (name.startsWith('.') || name.startsWith('-')) name = `_${name.slice(1)}`;
  if (name === id && name.length > 0 && name.length <= MAX_SAFE_NAME_BYTES) return name;
  const suffix = `~${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, SUFFIX_HEX)}`;
  const head = (name || '_').slice(0, MAX_SAFE_NAME_BYTES - suffix.length);
  return head + suffix;
}

/**
 * The working directory for one token run in one slot: `<baseDir>/slot-<slot>/<safe id>`. Slots never
 * share a directory, so parallel commands never see each other's files. Only the path; see freshDir.
 */
export function slotWorkDir(baseDir: string, slot: number, tokenId: string): string {
  if (!Number.isInteger(slot) || slot < 0) {
    throw new RangeError(`slot must be a whole number >= 0, got ${slot}`);
  }
  const root = resolve(baseDir);
  const dir = join(root, `slot-${slot}`, safeFileName(tokenId));
  const rel = relative(root, dir);
  // safeFileName already guarantees this; checked again because an escape here would be costly.
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`work directory ${dir} is not inside ${root}`);
  }
  return dir;
}

/**
 * Make `dir` an empty directory: remove what an earlier attempt of the same token in the same slot left
 * there, then create it. Only for directories picas itself owns (from slotWorkDir).
 */
export async function freshDir(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * After a run: remove the token's work folder only if the command left nothing in it, then its slot folder
 * and `root` if they are empty too. Never recursive: a file a command made is never deleted here.
 */
export async function removeEmptyWorkDir(dir: string, root: string): Promise<boolean> {
  const top = resolve(root);
  let current = resolve(dir);
  const rel = relative(top, current);
  if (rel.startsWith('..') || isAbsolute(rel)) return false; // not ours to tidy
  let removed = false;
  for (;;) {
    try {
      await rmdir(current);
    } catch {
      return removed; // not empty (or already gone): stop here, keep everything above
    }
    removed = true;
    if (current === top) return removed;
    current = dirname(current);
  }
}
