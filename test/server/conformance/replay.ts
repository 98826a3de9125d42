import { randomBytes } from 'node:crypto';
import { requestId, type Case, type Capture, type Step } from './corpus.js';
import { compareStep, type Verdict } from './compare.js';
import { rawRequest, type RawAnswer } from './http.js';
import { CaseNormaliser, normaliseHeaders, parseJsonLossless, readBody, stringifyWithBigints } from './normalise.js';

/** Replays the corpus against one server, as the README's "Replaying a case" says. */
export interface Target {
  /** Base URL without credentials. */
  url: string;
  admin: string;
  password: string;
}

export interface RequestResult {
  id: string;
  area: string;
  method: string;
  path: string;
  passed: boolean;
  differences: string[];
  loose: string[];
}

export interface CaseResult {
  name: string;
  area: string;
  requests: RequestResult[];
  /** Setup steps whose status differed from CouchDB's (not scored; shown to explain failures). */
  setupNotes: string[];
}

const run = randomBytes(3).toString('hex');
let counter = 0;

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export async function replayCase(target: Target, c: Case): Promise<CaseResult> {
  const n = ++counter;
  const names = {
    '{db}': `conf_${run}_${n}_a`,
    '{db2}': `conf_${run}_${n}_b`,
    '{user}': `conf_${run}_${n}_u1`,
    '{user2}': `conf_${run}_${n}_u2`,
  } as Record<string, string>;
  const norm = new CaseNormaliser(
    Object.entries(names).map(([placeholder, real]) => ({ placeholder, real })),
    target.admin,
  );
  const captured = new Map<string, unknown>();
  const adminAuth = basic(target.admin, target.password);
  const result: CaseResult = { name: c.name, area: c.area, requests: [], setupNotes: [] };

  const subText = (s: string, encode: boolean): string => {
    let out = s.replace(/\{\{([A-Za-z0-9_]+)\}\}/g, (m, name: string) => {
      if (!captured.has(name)) return m;
      const v = captured.get(name);
      const t = typeof v === 'string' ? v : JSON.stringify(v);
      return encode ? encodeURIComponent(t) : t;
    });
    for (const [ph, real] of Object.entries(names)) out = out.split(ph).join(real);
    return out.split('{adminpw}').join(target.password).split('{admin}').join(target.admin);
  };
  const subJson = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const whole = /^\{\{([A-Za-z0-9_]+)\}\}$/.exec(v);
      if (whole && captured.has(whole[1]!)) return captured.get(whole[1]!);
      return subText(v, false);
    }
    if (Array.isArray(v)) return v.map(subJson);
    if (v && typeof v === 'object') {
      if (Object.keys(v).length === 1 && typeof (v as any).$bigint === 'string') return v;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [subText(k, false), subJson(x)]));
    }
    return v;
  };

  const send = async (step: Step): Promise<{ answer: RawAnswer; path: string }> => {
    // Placeholders in the path: names as they are (the corpus's paths are already URL-encoded), captures encoded.
    const path = subText(step.path, true);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.headers ?? {})) headers[k] = subText(v, false);
    let bodyText: string | undefined;
    let body: Buffer | undefined;
    let bodyValue: unknown;
    if (step.body !== undefined) { bodyValue = subJson(step.body); bodyText = stringifyWithBigints(bodyValue); body = Buffer.from(bodyText, 'utf8'); }
    else if (step.bodyText !== undefined) { bodyText = subText(step.bodyText, false); body = Buffer.from(bodyText, 'utf8'); }
    else if (step.bodyBase64 !== undefined) body = Buffer.from(step.bodyBase64, 'base64');
    norm.registerRequest(path, headers, bodyText, bodyValue);
    const sent = { ...headers };
    if (step.auth === undefined) sent.Authorization = adminAuth;
    else if (step.auth !== 'none') sent.Authorization = basic(subText(step.auth.user, false), subText(step.auth.password, false));
    if (body) sent['Content-Length'] = String(body.length);
    else if (step.method === 'POST' || step.method === 'PUT') sent['Content-Length'] = '0';
    const answer = await rawRequest(target.url, step.method, path, sent, body, { streamMs: step.stream?.ms });
    return { answer, path };
  };

  const capture = (step: Step, answer: RawAnswer, parsed: ReturnType<typeof readBody>) => {
    for (const [name, spec] of Object.entries(step.capture ?? {}) as [string, Capture][]) {
      const path = typeof spec === 'string' ? spec : spec.path;
      const [root, ...rest] = path.split('.');
      let v: unknown;
      if (root === 'headers') {
        const h = rest.join('.');
        const raw = answer.headers[h];
        v = h === 'set-cookie' ? (Array.isArray(raw) ? raw[0]!.split(';')[0]!.trim() : undefined) : raw;
      } else {
        v = root === 'body' && parsed.kind === 'json' ? parsed.value : root === 'lines' && parsed.kind === 'lines' ? parsed.value : undefined;
        for (const p of rest) v = v && typeof v === 'object' ? (v as any)[Array.isArray(v) ? Number(p) : p] : undefined;
      }
      if (v !== undefined) captured.set(name, v);
      if (typeof spec === 'object' && spec.mask && typeof v === 'string') norm.masks.set(name, v);
    }
  };

  const adminCall = (method: string, path: string) => rawRequest(target.url, method, path, {
    Accept: 'application/json', Authorization: adminAuth, ...(method === 'PUT' ? { 'Content-Length': '0' } : {}),
  }, undefined);

  let setupFailure: string | undefined;
  try {
    if (c.db !== false) {
      const a = await adminCall('PUT', `/${names['{db}']}`);
      if (a.status !== 201) setupFailure = `creating {db} answered ${a.status}`;
    }
    if (!setupFailure && c.db2) {
      const a = await adminCall('PUT', `/${names['{db2}']}`);
      if (a.status !== 201) setupFailure = `creating {db2} answered ${a.status}`;
    }
    const steps: [Step, boolean][] = [...(c.setup ?? []).map((s) => [s, false] as [Step, boolean]), ...c.requests.map((s) => [s, true] as [Step, boolean])];
    let index = 0;
    for (const [step, scored] of steps) {
      const id = scored ? requestId(c, index++) : '';
      const record = (differences: string[], loose: string[] = []) => result.requests.push({
        id, area: c.area, method: step.method, path: step.path, passed: differences.length === 0, differences, loose,
      });
      if (setupFailure) { if (scored) record([setupFailure]); continue; }
      let answer: RawAnswer; let path: string;
      try {
        ({ answer, path } = await send(step));
      } catch (err) {
        if (scored) record([`request failed: ${(err as Error).message}`]);
        else result.setupNotes.push(`${step.method} ${step.path}: ${(err as Error).message}`);
        continue;
      }
      const parsed = readBody(answer, step.method, !!(step.lines || step.stream));
      capture(step, answer, parsed);
      const headers = normaliseHeaders(answer, path, step.record, norm);
      const body = parsed.kind === 'json' ? { kind: 'json' as const, value: norm.json(parsed.value, path) }
        : parsed.kind === 'lines' ? { ...parsed, value: parsed.value.map((l) => norm.json(l, path)) } : parsed;
      if (!scored) {
        if (answer.status !== step.expect.status) result.setupNotes.push(`setup ${step.method} ${step.path}: ${answer.status}, CouchDB ${step.expect.status} ${JSON.stringify(body.kind === 'json' ? body.value : '')}`);
        continue;
      }
      const verdict: Verdict = compareStep(step, { status: answer.status, headers, body });
      record(verdict.differences, verdict.loose);
    }
  } finally {
    await cleanUp(c, names, adminCall);
  }
  return result;
}

async function cleanUp(c: Case, names: Record<string, string>, adminCall: (m: string, p: string) => Promise<RawAnswer>): Promise<void> {
  const quietly = async (f: () => Promise<unknown>) => { try { await f(); } catch { /* best effort */ } };
  await quietly(() => adminCall('DELETE', `/${names['{db}']}`));
  await quietly(() => adminCall('DELETE', `/${names['{db2}']}`));
  for (const placeholder of c.users ?? []) {
    const name = names[placeholder];
    if (!name) continue;
    await quietly(async () => {
      const path = `/_users/${encodeURIComponent(`org.couchdb.user:${name}`)}`;
      const got = await adminCall('GET', path);
      if (got.status !== 200) return;
      const rev = (parseJsonLossless(got.body.toString('utf8')) as { _rev: string })._rev;
      await adminCall('DELETE', `${path}?rev=${encodeURIComponent(rev)}`);
    });
  }
}

/** Is the server at this URL Apache CouchDB itself (not the embedded server)? */
export async function isRealCouchDB(url: string): Promise<boolean> {
  const a = await rawRequest(url, 'GET', '/', { Accept: 'application/json' }, undefined);
  try {
    const w = JSON.parse(a.body.toString('utf8')) as { couchdb?: string; vendor?: { name?: string } };
    return w.couchdb === 'Welcome' && /apache/i.test(String(w.vendor?.name ?? ''));
  } catch {
    return false;
  }
}

export function scoreByArea(results: CaseResult[]): Map<string, { passed: number; total: number }> {
  const areas = new Map<string, { passed: number; total: number }>();
  for (const r of results) for (const q of r.requests) {
    const a = areas.get(q.area) ?? { passed: 0, total: 0 };
    a.total++; if (q.passed) a.passed++;
    areas.set(q.area, a);
  }
  return areas;
}
