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

/**
 * Per character: the primary weight (its rank among the reference characters under ICU's 'base'
 * sensitivity: letters without accents or case), the secondary (its place among the characters of the
 * same primary under 'accent') and the tertiary (its place among those of the same secondary under
 * 'variant': lower case first). Secondary and tertiary are 0 for a plain lower-case character, and
 * trailing zeros are left out of the key, so the common key (ASCII, lower case) costs one code unit per
 * character more than the string itself.
 */
class CollationTable {
  private readonly base = new Intl.Collator('und', { sensitivity: 'base' }).compare;
  private readonly sorted: string[];
  private readonly known = new Map<number, [number, number, number]>();
  private readonly cache = new Map<number, [string, number, number]>();

  constructor(reference: string[]) {
    const accent = new Intl.Collator('und', { sensitivity: 'accent' }).compare;
    const variant = new Intl.Collator('und', { sensitivity: 'variant' }).compare;
    this.sorted = [...reference].sort((a, b) => this.base(a, b) || accent(a, b) || variant(a, b));
    let p = 0; let sec = 0; let ter = 0;
    this.sorted.forEach((c, i) => {
      const prev = this.sorted[i - 1];
      if (prev !== undefined) {
        if (this.base(prev, c) !== 0) { p++; sec = 0; ter = 0; }
        else if (accent(prev, c) !== 0) { sec++; ter = 0; }
        else if (variant(prev, c) !== 0) ter++;
      }
      this.known.set(c.codePointAt(0)!, [p, sec, ter]);
    });
  }

  /**
   * The primary weight as code units (one, an even rank, for a character of the table; for any other an
   * odd unit between two ranks and two more with its code point as a tie-break: the first unit tells the
   * length, so keys compare unit by unit), with its secondary and tertiary.
   */
  weights(cp: number): [string, number, number] {
    let w = this.cache.get(cp);
    if (w) return w;
    const k = this.known.get(cp);
    if (k) {
      w = [String.fromCharCode(BASE + 2 * k[0]), k[1], k[2]];
    } else {
      const c = String.fromCodePoint(cp);
      let lo = 0; let hi = this.sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.base(this.sorted[mid]!, c) < 0) lo = mid + 1; else hi = mid;
      }
      if (lo < this.sorted.length && this.base(this.sorted[lo]!, c) === 0) {
        w = [String.fromCharCode(BASE + 2 * this.known.get(this.sorted[lo]!.codePointAt(0)!)![0]), 0, 0];
      } else {
        const below = lo === 0 ? -1 : this.known.get(this.sorted[lo - 1]!.codePointAt(0)!)![0];
        w = [String.fromCharCode(BASE + 2 * below + 1, 0x20 + (cp >> 11), 0x20 + (cp & 0x7ff)), 0, 0];
      }
    }
    if (this.cache.size < 100_000) this.cache.set(cp, w);
    return w;
  }
}

let table: CollationTable | undefined;

function collationTable(): CollationTable {
  if (!table) {
    const reference: string[] = [];
    const ranges: [number, number][] = [[0x09, 0x0d], [0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff]];
    for (const [a, b] of ranges) for (let cp = a; cp <= b; cp++) reference.push(String.fromCodePoint(cp));
    table = new CollationTable(reference);
  }
  return table;
}

/** Level weights as code units, without trailing zeros. */
function levelString(ws: number[]): string {
  let end = ws.length;
  while (end > 0 && ws[end - 1] === 0) end--;
  let out = '';
  for (let i = 0; i < end; i++) out += String.fromCharCode(BASE + ws[i]!);
  return out;
}

/** The sortable form of one string. */
export function sortableString(s: string): string {
  if (s.startsWith(MARK)) return s;
  const t = collationTable();
  let primary = '';
  const secondary: number[] = []; const tertiary: number[] = [];
  for (const ch of s.normalize('NFC')) {
    const [p, sec, ter] = t.weights(ch.codePointAt(0)!);
    primary += p; secondary.push(sec); tertiary.push(ter);
  }
  return `${MARK}${primary}${SEP}${levelString(secondary)}${SEP}${levelString(tertiary)}${SEP}${s}`;
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
