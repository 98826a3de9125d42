import type { Step } from './corpus.js';
import type { BodyKind } from './normalise.js';

/** The comparison of one normalised answer with the recording, per the README's `exact`/`shape`/`status`. */
export interface Verdict {
  differences: string[];
  /** Differences in loose members: reported, not failed. */
  loose: string[];
}

export interface Observed {
  status: number;
  headers: Record<string, unknown>;
  body: BodyKind;
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

export function compareStep(step: Step, got: Observed): Verdict {
  const v: Verdict = { differences: [], loose: [] };
  const exp = step.expect;
  if (got.status !== exp.status) v.differences.push(`status ${got.status}, CouchDB ${exp.status}`);
  const mode = step.compare ?? 'exact';
  if (mode === 'status') return v;
  compareHeaders(exp.headers ?? {}, got.headers, v);

  const expKind: BodyKind['kind'] = exp.lines !== undefined ? 'lines' : exp.body !== undefined ? 'json' : exp.bodyBase64 !== undefined ? 'bytes' : 'none';
  if (expKind !== got.body.kind) {
    v.differences.push(`body is ${got.body.kind}${got.body.kind === 'json' ? ` ${show(got.body.value)}` : ''}, CouchDB's is ${expKind}`);
    return v;
  }
  const loose = new Set(step.loose ?? []);
  if (got.body.kind === 'bytes') {
    if (got.body.base64 !== exp.bodyBase64) v.differences.push('body bytes differ');
  } else if (got.body.kind === 'lines') {
    if (exp.heartbeat && !got.body.heartbeat) v.differences.push('no heartbeat lines in the stream');
    const lines = exp.lines!;
    const gotLines = got.body.value;
    if (mode === 'shape') {
      if (lines.length !== gotLines.length) v.differences.push(`${gotLines.length} lines, CouchDB ${lines.length}`);
      else lines.forEach((l, i) => {
        const a = Object.keys(l as object).sort().join(','); const b = Object.keys(gotLines[i] as object ?? {}).sort().join(',');
        if (a !== b) v.differences.push(`line ${i}: members ${b}, CouchDB ${a}`);
      });
    } else deepCompare(lines, gotLines, 'lines', loose, v, false);
  } else if (got.body.kind === 'json') {
    if (mode === 'shape') shapeCompare(exp.body, got.body.value, step, loose, v);
    else deepCompare(exp.body, got.body.value, 'body', loose, v, !!step.unordered);
  }
  return v;
}

function compareHeaders(exp: Record<string, unknown>, got: Record<string, unknown>, v: Verdict): void {
  const names = new Set([...Object.keys(exp), ...Object.keys(got)]);
  names.delete('content-encoding');
  for (const name of names) {
    const e = exp[name];
    const g = got[name];
    if (e === undefined) { v.differences.push(`header ${name}: ${show(g)} sent, CouchDB sends none`); continue; }
    if (g === undefined) { v.differences.push(`header ${name} missing (CouchDB: ${show(e)})`); continue; }
    if (name === 'content-type') {
      if (String(e).split(';')[0] !== String(g).split(';')[0]) v.differences.push(`content-type ${show(g)}, CouchDB ${show(e)}`);
    } else if (name === 'set-cookie') {
      if (show([...(e as string[])].sort()) !== show([...(g as string[])].sort())) v.differences.push(`set-cookie ${show(g)}, CouchDB ${show(e)}`);
    } else if (name === 'etag') {
      // presence only
    } else if (show(e) !== show(g)) v.differences.push(`header ${name} ${show(g)}, CouchDB ${show(e)}`);
  }
}

function shapeCompare(exp: unknown, got: unknown, step: Step, loose: Set<string>, v: Verdict): void {
  if (Array.isArray(exp)) {
    if (!Array.isArray(got)) v.differences.push(`body is not an array: ${show(got)}`);
    return;
  }
  if (!exp || typeof exp !== 'object') { deepCompare(exp, got, 'body', loose, v, false); return; }
  if (!got || typeof got !== 'object' || Array.isArray(got)) { v.differences.push(`body ${show(got)} is not an object`); return; }
  const a = Object.keys(exp).sort(); const b = Object.keys(got).sort();
  const missing = a.filter((k) => !b.includes(k)); const extra = b.filter((k) => !a.includes(k));
  if (missing.length) v.differences.push(`body lacks members ${missing.join(', ')}`);
  if (extra.length) v.differences.push(`body has extra members ${extra.join(', ')}`);
  for (const f of step.fields ?? []) deepCompare((exp as any)[f], (got as any)[f], `body.${f}`, loose, v, false);
}

function isBig(v: unknown): v is { $bigint: string } {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as any).$bigint === 'string';
}

function deepCompare(exp: unknown, got: unknown, at: string, loose: Set<string>, v: Verdict, unordered: boolean): void {
  if (isBig(exp) || isBig(got)) {
    const a = isBig(exp) ? exp.$bigint : String(exp); const b = isBig(got) ? got.$bigint : String(got);
    if (a !== b) v.differences.push(`${at}: ${b}, CouchDB ${a}`);
    return;
  }
  if (Array.isArray(exp)) {
    if (!Array.isArray(got)) { v.differences.push(`${at}: ${show(got)}, CouchDB ${show(exp)}`); return; }
    if (exp.length !== got.length) { v.differences.push(`${at}: ${got.length} items ${show(got)}, CouchDB ${exp.length} ${show(exp)}`); return; }
    if (unordered) {
      const rest = got.map((g) => JSON.stringify(sortKeys(g)));
      for (const e of exp) {
        const i = rest.indexOf(JSON.stringify(sortKeys(e)));
        if (i < 0) { v.differences.push(`${at}: CouchDB's item ${show(e)} not in ${show(got)}`); return; }
        rest.splice(i, 1);
      }
      return;
    }
    exp.forEach((e, i) => deepCompare(e, got[i], `${at}.${i}`, loose, v, false));
    return;
  }
  if (exp && typeof exp === 'object') {
    if (!got || typeof got !== 'object' || Array.isArray(got)) { v.differences.push(`${at}: ${show(got)}, CouchDB ${show(exp)}`); return; }
    const e = exp as Record<string, unknown>; const g = got as Record<string, unknown>;
    const isError = 'error' in e || 'error' in g;
    for (const k of new Set([...Object.keys(e), ...Object.keys(g)])) {
      const sub = `${at}.${k}`;
      const isLoose = loose.has(k) || (isError && (k === 'reason' || k === 'ref')) || k === 'warning';
      if (!(k in e)) { (isLoose && k !== 'warning' ? v.loose : v.differences).push(`${sub}: ${show(g[k])} extra`); continue; }
      if (!(k in g)) { (isLoose && k !== 'warning' ? v.loose : v.differences).push(`${sub} missing (CouchDB ${show(e[k])})`); continue; }
      if (isLoose) {
        const sv: Verdict = { differences: [], loose: [] };
        deepCompare(e[k], g[k], sub, new Set(), sv, false);
        v.loose.push(...sv.differences, ...sv.loose);
        continue;
      }
      deepCompare(e[k], g[k], sub, loose, v, false);
    }
    return;
  }
  if (typeof exp === 'number' && typeof got === 'number') {
    if (exp !== got) v.differences.push(`${at}: ${got}, CouchDB ${exp}`);
    return;
  }
  if (exp !== got) v.differences.push(`${at}: ${show(got)}, CouchDB ${show(exp)}`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as any)[k])]));
  return v;
}
