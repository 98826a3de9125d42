import type { Database } from '../couch/database.js';
import { ensureFreeIndex, findFree, NoFreeIndexError } from './free-index.js';
import type { ViewRef } from './view-ref.js';
import { isClusteredSeq } from '../tokens/status.js';
import { ClaimSizer } from './claim-size.js';

/**
 * Where a pilot looks for tokens to claim. Concurrent pilots must look in different places, or they all
 * race for the same tokens. Reading a wide window from the head of the view and picking at random keeps
 * them apart, but every row read costs the server (on the embedded server 0.1-0.2 ms per view row: most
 * of a claim's cost at 10 rows per claimed token, bench/profile-server.ts). So where the view's keys are
 * strings (the Monitor views emit the token id), each read starts at a random key between the view's
 * first and last key and takes only about twice the batch: pilots spread over the whole key range at a
 * fifth of the rows. A read that runs off the end continues from the head, so the last tokens are found
 * like the first. Views with other keys, and reads of one key (priority views), read from the head.
 */
export class CandidateReader {
  private readonly ranges = new Map<string, { lo: string; hi: string; at: number } | { notStrings: true; at: number }>();

  constructor(
    private readonly db: Database,
    private readonly options: {
      /** Seconds a view's first and last key are reused before they are read again. */
      rangeTtlSeconds?: number;
      /** For tests: where in the key range a read starts (0..1). */
      random?: () => number;
      /**
       * Read the default view's tokens from the free-token Mango index (free-index.ts). Default: on
       * CouchDB 2 and later (whose `todo` view drags the whole JavaScript `Monitor` index along), where this
       * user may create the index; never on the embedded server, whose views are indexed one by one.
       */
      freeIndex?: boolean;
    } = {},
  ) {}

  private freeIndex: Promise<boolean> | undefined;
  /** How many tokens this pilot claims at once beside the others (claim-size.ts). */
  readonly sizer = new ClaimSizer();

  private usesFreeIndex(): Promise<boolean> {
    this.freeIndex ??= (async () => {
      if (this.options.freeIndex === false) return false;
      if (this.options.freeIndex !== true) {
        if (!isClusteredSeq((await this.db.info()).update_seq)) return false;
      }
      return ensureFreeIndex(this.db);
    })();
    return this.freeIndex;
  }

  /** `limit` free ids from a random id on (wrapping around to the first), as readSpread reads a view. */
  private async readFree(limit: number): Promise<string[]> {
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const range = await this.freeRange();
        if (range === null) return [];
        const start = canSpread(range.lo, range.hi) ? keyBetween(range.lo, range.hi, (this.options.random ?? Math.random)()) : range.lo;
        const tail = await findFree(this.db, { startkey: start, limit });
        const head = tail.length < limit && start > range.lo ? await findFree(this.db, { endkey: start, limit: limit - tail.length }) : [];
        const ids = [...new Set([...tail, ...head])];
        if (ids.length > 0) return ids;
        this.ranges.delete(FREE_RANGE);
      }
      return [];
    } catch (err) {
      // The index went away (a database reset or restored without it): make it again next time.
      if (err instanceof NoFreeIndexError) { this.freeIndex = undefined; this.ranges.delete(FREE_RANGE); return []; }
      throw err;
    }
  }

  /** The free index's first and last id, remembered like a view's range; null when it holds none. */
  private async freeRange(): Promise<{ lo: string; hi: string } | null> {
    const known = this.ranges.get(FREE_RANGE);
    if (known && !('notStrings' in known) && Date.now() - known.at < (this.options.rangeTtlSeconds ?? 30) * 1000) return known;
    // The last only when there is a first: an idle pilot on an empty database sends one request per look.
    const first = await findFree(this.db, { limit: 1 });
    if (!first[0]) return null;
    const last = await findFree(this.db, { limit: 1, descending: true });
    if (!last[0]) return null;
    const fresh = { lo: first[0], hi: last[0], at: Date.now() };
    this.ranges.set(FREE_RANGE, fresh);
    return fresh;
  }

  /**
   * Candidate ids from the first view (in priority order) that has any; [] when none has. The default view
   * (`Monitor/todo`, no key) is read from the free-token index on CouchDB (free-index.ts), ten batches wide:
   * its rows cost the server little (no document is read), and picking the batch at random from a wide
   * window keeps concurrent pilots' picks apart. When the index offers nothing the view is read, as a token
   * whose `lock` is `"0"` is in the view and not in the index.
   */
  async read(views: ViewRef[], batchSize: number, window?: number): Promise<string[]> {
    if (views.length === 1 && isDefaultTodo(views[0]!) && await this.usesFreeIndex()) {
      const ids = await this.readFree(window ?? headWindow(batchSize));
      if (ids.length > 0) return ids;
    }
    const head = window ?? headWindow(batchSize);
    for (const ref of views) {
      const ids = ref.key === undefined
        ? await this.readSpread(ref, window ?? Math.max(10, batchSize * 2), head)
        : await this.readHead(ref, head);
      if (ids.length > 0) return ids;
    }
    return [];
  }

  /** The first `limit` rows (ids only: whole documents cost the server several times more per row). */
  private async readHead(ref: ViewRef, limit: number): Promise<string[]> {
    const result = await this.db.view(ref.design, ref.view, { limit, ...(ref.key !== undefined ? { key: ref.key } : {}) });
    return idsOf(result.rows);
  }

  /** `limit` rows from a random key; `headLimit` rows from the head where keys cannot be placed. */
  private async readSpread(ref: ViewRef, limit: number, headLimit: number): Promise<string[]> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const range = await this.range(ref);
      if (range === null) return [];
      if (range === 'not-strings' || !canSpread(range.lo, range.hi)) return this.readHead(ref, headLimit);
      const start = keyBetween(range.lo, range.hi, (this.options.random ?? Math.random)());
      const tail = idsOf((await this.db.view(ref.design, ref.view, { startkey: start, limit })).rows);
      const head = tail.length < limit
        ? idsOf((await this.db.view(ref.design, ref.view, { endkey: start, inclusive_end: false, limit: limit - tail.length })).rows)
        : [];
      const ids = [...new Set([...tail, ...head])];
      if (ids.length > 0) return ids;
      // Empty on both sides of the start: the remembered range is out of date (or the view emptied).
      this.ranges.delete(rangeKey(ref));
    }
    return [];
  }

  /** The view's first and last key, remembered for a while; null when the view is empty. */
  private async range(ref: ViewRef): Promise<{ lo: string; hi: string } | 'not-strings' | null> {
    const key = rangeKey(ref);
    const known = this.ranges.get(key);
    const ttlMs = (this.options.rangeTtlSeconds ?? 30) * 1000;
    if (known && Date.now() - known.at < ttlMs) return 'notStrings' in known ? 'not-strings' : known;
    const first = await this.db.view(ref.design, ref.view, { limit: 1 });
    if (first.rows.length === 0) return null;
    const last = await this.db.view(ref.design, ref.view, { limit: 1, descending: true });
    const lo = first.rows[0]?.key;
    const hi = last.rows[0]?.key;
    if (last.rows.length === 0) return null;
    if (typeof lo !== 'string' || typeof hi !== 'string') {
      this.ranges.set(key, { notStrings: true, at: Date.now() });
      return 'not-strings';
    }
    const fresh = { lo, hi, at: Date.now() };
    this.ranges.set(key, fresh);
    return fresh;
  }
}

/** Rows read from the head of a view: ten batches wide (at least 100), so concurrent pilots' random picks stay apart. */
export function headWindow(batchSize: number): number {
  return Math.max(100, batchSize * 10);
}

/**
 * Whether keys can be placed between the view's first and last: not when the server's order disagrees
 * with code-unit order at the ends (CouchDB collates strings by ICU rules, e.g. "a" before "B"); then
 * the wide head window spreads pilots instead.
 */
export function canSpread(lo: string, hi: string): boolean {
  return lo <= hi;
}

const FREE_RANGE = '\0free-index';
const isDefaultTodo = (ref: ViewRef) => ref.design === 'Monitor' && ref.view === 'todo' && ref.key === undefined;

function rangeKey(ref: ViewRef): string {
  return `${ref.design}/${ref.view}`;
}

function idsOf(rows: { id?: string | null }[]): string[] {
  return rows.map((row) => row.id).filter((id): id is string => typeof id === 'string');
}

const range = (from: string, to: string) =>
  Array.from({ length: to.charCodeAt(0) - from.charCodeAt(0) + 1 }, (_, i) => String.fromCharCode(from.charCodeAt(0) + i)).join('');
/** Alphabets ids are usually written in, smallest first: the first that holds both keys' characters is used. */
const ALPHABETS = [
  range('0', '9'),
  range('0', '9') + range('a', 'f'),
  range('0', '9') + range('A', 'F'),
  range('0', '9') + range('a', 'z'),
  range('0', '9') + range('A', 'Z'),
  range(' ', '~'),
];
const POSITIONS = 6;

/**
 * A string about `u` of the way from `lo` to `hi`: the common prefix, then the next few characters read as
 * a number in the smallest alphabet that writes both keys (digits for numbered ids, hex for hashes,
 * printable ASCII else, UTF-16 code units for other ids) and interpolated. Evenly spread for the usual ids;
 * for ids bunched under a few prefixes it is still a valid place to start reading, only less even. The
 * server's collation may order strings differently (CouchDB's ICU vs code units); then the start is still
 * some key, and a read past the end continues from the head.
 */
export function keyBetween(lo: string, hi: string, u: number): string {
  if (!(lo < hi)) return lo;
  let p = 0;
  while (p < lo.length && p < hi.length && lo[p] === hi[p]) p++;
  const loRest = lo.slice(p, p + POSITIONS);
  const hiRest = hi.slice(p, p + POSITIONS);
  const alphabet = ALPHABETS.find((abc) => [...loRest + hiRest].every((c) => abc.includes(c)));
  const base = alphabet ? alphabet.length : 0x10000;
  const positions = alphabet ? POSITIONS : 3;
  const digitOf = (s: string, i: number) => (i >= s.length ? 0 : alphabet ? alphabet.indexOf(s[i]!) : s.charCodeAt(i));
  const number = (s: string) => Array.from({ length: positions }, (_, i) => digitOf(s, i)).reduce((n, d) => n * base + d, 0);
  const a = number(loRest);
  const b = number(hiRest);
  let v = Math.floor(a + Math.min(1, Math.max(0, u)) * (b - a));
  const digits: number[] = [];
  for (let i = 0; i < positions; i++) {
    digits.unshift(v % base);
    v = Math.floor(v / base);
  }
  // Trailing zero digits add nothing to the order but length; drop them (a shorter key sorts first).
  while (digits.length > 0 && digits[digits.length - 1] === 0) digits.pop();
  const chars = alphabet
    ? digits.map((d) => alphabet[d]!)
    // No lone surrogate halves: a key must be valid Unicode to travel as JSON.
    : digits.map((c) => String.fromCharCode(c >= 0xd800 && c <= 0xdfff ? 0xd7ff : c));
  const key = lo.slice(0, p) + chars.join('');
  // Dropped zero digits can put the key just before lo: lo is the same place to start.
  return key < lo ? lo : key;
}
