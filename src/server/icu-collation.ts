import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * View keys in CouchDB's order. CouchDB collates the strings of view keys with ICU (the Unicode Collation
 * Algorithm: `"a" < "A" < "ä" < "aa" < "b"`, punctuation and symbols before digits before letters); PouchDB
 * orders them by UTF-16 code units (`"A" < "B" < "a"`). PouchDB's index order cannot be changed from
 * outside, so each string in an emitted key is stored as a sort key followed by the string itself:
 *
 *   MARK primary-weights SEP secondary-weights SEP tertiary-weights SEP original
 *
 * whose code-unit order is ICU's order (primary: letters without accents or case; secondary: accents;
 * tertiary: case, lower first), then the original as a tie-break. Query keys (`key`, `keys`, `startkey`,
 * `endkey`) are encoded the same way and the keys of answers decoded, so clients see their keys unchanged.
 * The weights of each character come from Node's own ICU (Intl.Collator, root locale) at three
 * sensitivities; characters outside the reference table are placed by binary search between its
 * entries. Contractions and expansions of full UCA (e.g. "ß" = "ss") are not modelled.
 * JavaScript reduce functions see the encoded keys.
 */
const MARK = '\uFDD0';
const SEP = '\u0003';
const BASE = 0x100;

type Level = 'base' | 'accent' | 'variant';

class LevelTable {
  readonly compare: (a: string, b: string) => number;
  private readonly sorted: string[];
  private readonly rank = new Map<number, number>();
  private readonly cache = new Map<number, string>();

  constructor(level: Level, reference: string[]) {
    this.compare = new Intl.Collator('und', { sensitivity: level, ignorePunctuation: false }).compare;
    this.sorted = [...reference].sort(this.compare);
    let r = 0;
    this.sorted.forEach((c, i) => {
      if (i > 0 && this.compare(this.sorted[i - 1]!, c) !== 0) r++;
      this.rank.set(c.codePointAt(0)!, r);
    });
  }

  /**
   * The weight as code units: one (an even rank) for a character of the table; for any other, an odd
   * unit (between two ranks) and two more with its code point as a tie-break. The first unit tells the
   * length, so comparing encodings unit by unit still compares weights.
   */
  weight(cp: number): string {
    let w = this.cache.get(cp);
    if (w !== undefined) return w;
    const known = this.rank.get(cp);
    if (known !== undefined) {
      w = String.fromCharCode(BASE + 2 * known);
    } else {
      const c = String.fromCodePoint(cp);
      let lo = 0; let hi = this.sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const cmp = this.compare(this.sorted[mid]!, c);
        if (cmp < 0) lo = mid + 1; else hi = mid;
      }
      if (lo < this.sorted.length && this.compare(this.sorted[lo]!, c) === 0) {
        w = String.fromCharCode(BASE + 2 * this.rank.get(this.sorted[lo]!.codePointAt(0)!)!);
      } else {
        const below = lo === 0 ? -1 : this.rank.get(this.sorted[lo - 1]!.codePointAt(0)!)!;
        w = String.fromCharCode(BASE + 2 * below + 1, 0x20 + (cp >> 11), 0x20 + (cp & 0x7ff));
      }
    }
    if (this.cache.size < 100_000) this.cache.set(cp, w);
    return w;
  }
}

let tables: LevelTable[] | undefined;

function levelTables(): LevelTable[] {
  if (!tables) {
    const reference: string[] = [];
    const ranges: [number, number][] = [[0x09, 0x0d], [0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff]];
    for (const [a, b] of ranges) for (let cp = a; cp <= b; cp++) reference.push(String.fromCodePoint(cp));
    tables = (['base', 'accent', 'variant'] as Level[]).map((l) => new LevelTable(l, reference));
  }
  return tables;
}

/** The sortable form of one string. */
export function sortableString(s: string): string {
  if (s.startsWith(MARK)) return s;
  const [p, a, v] = levelTables();
  let primary = ''; let secondary = ''; let tertiary = '';
  for (const ch of s.normalize('NFC')) {
    const cp = ch.codePointAt(0)!;
    primary += p!.weight(cp);
    secondary += a!.weight(cp);
    tertiary += v!.weight(cp);
  }
  return `${MARK}${primary}${SEP}${secondary}${SEP}${tertiary}${SEP}${s}`;
}

function originalString(s: string): string {
  if (!s.startsWith(MARK)) return s;
  let at = 0;
  for (let i = 0; i < 3; i++) {
    at = s.indexOf(SEP, at + 1);
    if (at < 0) return s;
  }
  return s.slice(at + 1);
}

/** A view key with every string (in arrays and object values too) in sortable form. */
export function encodeKey(key: unknown): unknown {
  if (typeof key === 'string') return sortableString(key);
  if (Array.isArray(key)) return key.map(encodeKey);
  if (key && typeof key === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(key)) out[k] = encodeKey(v);
    return out;
  }
  return key;
}

/** The key as the client emitted it. */
export function decodeKey(key: unknown): unknown {
  if (typeof key === 'string') return originalString(key);
  if (Array.isArray(key)) return key.map(decodeKey);
  if (key && typeof key === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(key)) out[k] = decodeKey(v);
    return out;
  }
  return key;
}

/** Does this emitted key contain a string (the only keys that change)? Cheap check before encoding. */
function hasString(key: unknown): boolean {
  if (typeof key === 'string') return true;
  if (Array.isArray(key)) return key.some(hasString);
  if (key && typeof key === 'object') return Object.values(key).some(hasString);
  return false;
}

/** Encode the keys of a map function's emits, in place (`[key, value]` pairs). */
export function encodeEmits(emitteds: unknown): void {
  if (!Array.isArray(emitteds)) return;
  for (const e of emitteds) {
    if (Array.isArray(e) && hasString(e[0])) e[0] = encodeKey(e[0]);
  }
}

/**
 * View indexes written before keys were stored in ICU order hold plain strings, which queries in the new
 * form would read out of order: on the first start of a data folder without the marker file, those index
 * folders (`<db>-mrview-<hash>`) are removed; PouchDB rebuilds each on its next query.
 */
export function dropIndexesOlderThanIcuKeys(dataDir: string): void {
  const marker = join(dataDir, '_picas', 'view-keys-icu');
  if (existsSync(marker)) return;
  for (const name of readdirSync(dataDir)) {
    if (name.includes('-mrview-')) rmSync(join(dataDir, name), { recursive: true, force: true });
  }
  mkdirSync(join(dataDir, '_picas'), { recursive: true });
  writeFileSync(marker, 'view keys are stored in ICU order (src/server/icu-collation.ts)\n');
}
