import { gunzipSync, inflateSync, inflateRawSync } from 'node:zlib';
import { isSafeNumber, parse as losslessParse } from 'lossless-json';
import type { RawAnswer } from './http.js';

/**
 * Normalisation of answers as the corpus README specifies it, applied alike to what CouchDB answered (already
 * done in the recording) and to the server under test, so that the two can be compared.
 */

/** JSON text to values, keeping integers beyond 2^53 digit for digit as `{ $bigint: digits }`. */
export function parseJsonLossless(text: string): unknown {
  return losslessParse(text, null, {
    parseNumber: (s: string) => (isSafeNumber(s) || !/^-?\d+$/.test(s) ? Number(s) : { $bigint: s }),
    onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
  } as never);
}

/** Request body values to JSON text: `{ $bigint: digits }` becomes the bare integer literal. */
export function stringifyWithBigints(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { $bigint?: unknown }).$bigint === 'string') {
      marks.push((v as { $bigint: string }).$bigint);
      return `\u0000bigint${marks.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}

const REV_IN_TEXT = /\b(\d+)-([0-9a-f]{32})\b/g;
const REV_STRING = /^(\d+)-([0-9a-f]{32})$/;
const HASH = /^[0-9a-f]{32}$/;
const SEQ_MEMBERS = new Set(['seq', 'last_seq', 'update_seq', 'purge_seq', 'committed_update_seq']);
const WELCOME_MEMBERS: Record<string, string> = { uuid: '<uuid>', version: '<version>', git_sha: '<git_sha>', features: '<features>', vendor: '<vendor>' };
const COMPRESSIBLE = /^(text\/|application\/(javascript|json|xml)\b)/;
const MD5_DIGEST = /^md5-[A-Za-z0-9+/]{22}==$/;

/** The per-case state of normalisation: revision numbering, names to hide, masked captures. */
export class CaseNormaliser {
  private readonly hashes = new Map<string, number>();
  readonly masks = new Map<string, string>();

  constructor(private readonly names: { real: string; placeholder: string }[], private readonly admin: string) {}

  private hashId(hash: string): number {
    let n = this.hashes.get(hash);
    if (n === undefined) { n = this.hashes.size + 1; this.hashes.set(hash, n); }
    return n;
  }

  /** Register the revisions a request carries, in the README's order: path, header values, body text, `_revisions.ids`. */
  registerRequest(path: string, headers: Record<string, string>, bodyText: string | undefined, body: unknown): void {
    const texts = [path, ...Object.values(headers), bodyText ?? ''];
    for (const t of texts) for (const m of t.matchAll(REV_IN_TEXT)) this.hashId(m[2]!);
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '_revisions' && x && typeof x === 'object' && Array.isArray((x as { ids?: unknown }).ids)) {
            for (const id of (x as { ids: unknown[] }).ids) if (typeof id === 'string' && HASH.test(id)) this.hashId(id);
          }
          walk(x);
        }
      }
    };
    walk(body);
  }

  /** Names (databases, users, masked captures, the admin) in a string replaced by their placeholders. */
  names_(s: string): string {
    if (s === this.admin) return '{admin}';
    let out = s;
    for (const { real, placeholder } of this.names) if (out.includes(real)) out = out.split(real).join(placeholder);
    for (const [name, value] of this.masks) if (value && out.includes(value)) out = out.split(value).join(`<${name}>`);
    return out;
  }

  private str(s: string, inRevisionIds: boolean): string {
    if (inRevisionIds && HASH.test(s)) return `<h${this.hashId(s)}>`;
    const m = REV_STRING.exec(s);
    if (m) return `${m[1]}-<h${this.hashId(m[2]!)}>`;
    return this.names_(s);
  }

  /** Normalise a parsed JSON answer (depth first, document order). `path` is the request path (for `/` and `/_uuids`). */
  json(value: unknown, path: string): unknown {
    const pathOnly = path.split('?')[0]!;
    const isWelcome = pathOnly === '/';
    const isUuids = pathOnly === '/_uuids';
    const walk = (v: unknown, inRevisionIds: boolean, top: boolean): unknown => {
      if (typeof v === 'string') {
        if (isUuids && HASH.test(v)) return '<uuid>';
        return this.str(v, inRevisionIds);
      }
      if (Array.isArray(v)) return v.map((x) => walk(x, inRevisionIds, false));
      if (!v || typeof v !== 'object') return v;
      if (Object.keys(v).length === 1 && typeof (v as { $bigint?: unknown }).$bigint === 'string') return v;
      const obj = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const compressible = typeof obj.content_type === 'string' && COMPRESSIBLE.test(obj.content_type);
      for (const [k, x] of Object.entries(obj)) {
        const key = this.names_(k);
        if (SEQ_MEMBERS.has(k) && x !== null) { out[key] = '<seq>'; continue; }
        if (k === 'instance_start_time') { out[key] = '<time>'; continue; }
        if (k === 'sizes' && x && typeof x === 'object' && !Array.isArray(x)) {
          out[key] = Object.fromEntries(Object.keys(x).map((s) => [s, '<size>']));
          continue;
        }
        if (k === 'bookmark') { out[key] = '<bookmark>'; continue; }
        if (k === 'derived_key' || k === 'salt') { out[key] = '<secret>'; continue; }
        if (k === 'authentication_handlers') { out[key] = '<handlers>'; continue; }
        if (top && isWelcome && k in WELCOME_MEMBERS) { out[key] = WELCOME_MEMBERS[k]; continue; }
        if (k === 'digest' && compressible && typeof x === 'string' && MD5_DIGEST.test(x)) { out[key] = '<md5>'; continue; }
        if (k === '_revisions' && x && typeof x === 'object' && !Array.isArray(x)) {
          const r = x as Record<string, unknown>;
          out[key] = Object.fromEntries(Object.entries(r).map(([rk, rv]) => [rk, walk(rv, rk === 'ids', false)]));
          continue;
        }
        out[key] = walk(x, false, false);
      }
      return out;
    };
    return walk(value, false, true);
  }

  /** Register the revisions a raw answer shows without normalising it (answers to setup steps). */
  registerAnswer(value: unknown, path: string): void {
    this.json(value, path);
  }
}

export type BodyKind =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'lines'; value: unknown[]; heartbeat: boolean }
  | { kind: 'bytes'; base64: string };

export function mediaType(contentType: string | string[] | undefined): string {
  const ct = Array.isArray(contentType) ? contentType[0] : contentType;
  return (ct ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The decoded body bytes (Content-Encoding undone). */
export function decodedBytes(answer: RawAnswer): Buffer {
  const enc = String(answer.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (!answer.body.length) return answer.body;
  try {
    if (enc === 'gzip') return gunzipSync(answer.body, answer.cut ? { finishFlush: 2 } : undefined);
    if (enc === 'deflate') {
      try { return inflateSync(answer.body); } catch { return inflateRawSync(answer.body); }
    }
  } catch {
    return answer.body;
  }
  return answer.body;
}

/** The body as the README reads it: JSON for JSON/text/no media type, JSON lines for feeds, else bytes. */
export function readBody(answer: RawAnswer, method: string, asLines: boolean): BodyKind {
  const bytes = decodedBytes(answer);
  if (method === 'HEAD' || answer.status === 304 || bytes.length === 0) return { kind: 'none' };
  const type = mediaType(answer.headers['content-type']);
  if (type !== 'application/json' && type !== 'text/plain' && type !== '') return { kind: 'bytes', base64: bytes.toString('base64') };
  const text = bytes.toString('utf8');
  if (asLines) {
    let parts = text.split('\n');
    // A cut stream: its unfinished last line is dropped.
    if (answer.cut && !text.endsWith('\n')) parts = parts.slice(0, -1);
    const heartbeat = /(^|\n)[ \t\r]*\n/.test(text);
    const value: unknown[] = [];
    for (const l of parts) {
      if (l.trim() === '') continue;
      try { value.push(parseJsonLossless(l)); } catch { value.push({ $unparsable: l }); }
    }
    return { kind: 'lines', value, heartbeat };
  }
  try {
    return { kind: 'json', value: parseJsonLossless(text) };
  } catch {
    return { kind: 'bytes', base64: bytes.toString('base64') };
  }
}

/** Is this path a document or an attachment (where an ETag is recorded)? */
export function isDocOrAttachmentPath(path: string): boolean {
  const segs = path.split('?')[0]!.split('/').slice(1).map((s) => { try { return decodeURIComponent(s); } catch { return s; } });
  if (segs.length < 2 || segs[0] === '' || segs[0]!.startsWith('_') && segs[0] !== '_users') return false;
  let rest: string[];
  const first = segs[1]!;
  if (first.startsWith('_design/') || first.startsWith('_local/')) rest = segs.slice(2);
  else if (first === '_design' || first === '_local') { if (segs.length < 3) return false; rest = segs.slice(3); }
  else if (first.startsWith('_') || first === '') return false;
  else rest = segs.slice(2);
  if (rest.length === 0) return true;
  return !rest[0]!.startsWith('_');
}

/** The headers the README records, normalised. */
export function normaliseHeaders(answer: RawAnswer, path: string, record: string[] | undefined, norm: CaseNormaliser): Record<string, unknown> {
  const h = answer.headers;
  const out: Record<string, unknown> = {};
  if (h['content-type'] !== undefined) out['content-type'] = String(h['content-type']).toLowerCase().replace(/\s+/g, '');
  if (h.location !== undefined) {
    const loc = String(h.location).replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').replace(/\/_design%2F/gi, '/_design/').replace(/\/_local%2F/gi, '/_local/');
    out.location = norm.names_(loc);
  }
  if (h.etag !== undefined && (isDocOrAttachmentPath(path) || record?.includes('etag'))) out.etag = true;
  if (h['set-cookie'] !== undefined && answer.status < 300) {
    out['set-cookie'] = (h['set-cookie'] as string[]).map((c) => c.split('=')[0]!.trim());
  }
  if (h['content-encoding'] !== undefined) out['content-encoding'] = String(h['content-encoding']).toLowerCase();
  for (const name of record ?? []) {
    if (name === 'etag') continue;
    const v = h[name];
    if (v !== undefined) out[name] = String(v).toLowerCase().replace(/\s+/g, '');
  }
  return out;
}
