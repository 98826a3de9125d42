import { loadCases } from './corpus.js';
import { replayCase, scoreByArea, type CaseResult, type Target } from './replay.js';

/** Replay every case, one after another (cases share the server's users and lockout counters). */
export async function replayAll(target: Target, only?: (name: string) => boolean): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of loadCases()) {
    if (only && !only(c.name)) continue;
    results.push(await replayCase(target, c));
  }
  return results;
}

export function formatReport(results: CaseResult[], verbose = true): string {
  const lines: string[] = [];
  for (const r of results) {
    for (const q of r.requests) {
      if (q.passed && !verbose) continue;
      if (!q.passed) lines.push(`FAIL ${q.id} ${q.method} ${q.path}\n    ${q.differences.join('\n    ')}`);
    }
    if (r.setupNotes.length && r.requests.some((q) => !q.passed)) lines.push(`  (${r.name} setup: ${r.setupNotes.join('; ')})`);
  }
  let passed = 0; let total = 0;
  for (const [area, s] of scoreByArea(results)) {
    lines.push(`${area.padEnd(12)} ${s.passed}/${s.total}`);
    passed += s.passed; total += s.total;
  }
  lines.push(`total        ${passed}/${total}`);
  return lines.join('\n');
}

/** `npx tsx test/server/conformance/report.ts <url-with-admin-credentials> [case-name-substring]` */
if (import.meta.url === `file://${process.argv[1]}`) {
  const u = new URL(process.argv[2] ?? process.env.PICAS_TEST_COUCHDB_URL ?? '');
  const target = { admin: decodeURIComponent(u.username), password: decodeURIComponent(u.password), url: '' };
  u.username = ''; u.password = '';
  target.url = u.toString().replace(/\/$/, '');
  const filter = process.argv[3];
  const results = await replayAll(target, filter ? (n) => n.includes(filter) : undefined);
  console.log(formatReport(results));
}
