/**
 * Token states exactly as the Monitor views define them (REFERENCE.md section 1), with JavaScript's loose
 * `==` as the views use it, so `""`, `0` and `"0"` compare alike here as they do in CouchDB.
 */
export type TokenState = 'todo' | 'locked' | 'done' | 'error';
export const TOKEN_STATES: readonly TokenState[] = ['todo', 'locked', 'done', 'error'];

/* eslint-disable eqeqeq */
const looseEq = (a: unknown, b: unknown): boolean => (a as any) == (b as any);
const gt0 = (a: unknown): boolean => (a as any) > 0;

/** The state of a document, or undefined when it is not a token (`type != "token"`) or fits no state. */
export function tokenState(doc: { type?: unknown; lock?: unknown; done?: unknown; exit_code?: unknown }): TokenState | undefined {
  if (!looseEq(doc.type, 'token')) return undefined;
  if (looseEq(doc.lock, 0) && looseEq(doc.done, 0)) return 'todo';
  if (gt0(doc.lock) && looseEq(doc.done, 0)) return 'locked';
  if (gt0(doc.lock) && gt0(doc.done)) {
    return looseEq(parseInt(String(doc.exit_code), 10), 0) ? 'done' : 'error';
  }
  return undefined;
}

export const isFree = (doc: { lock?: unknown; done?: unknown }): boolean => looseEq(doc.lock, 0) && looseEq(doc.done, 0);
