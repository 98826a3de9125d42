import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testServer } from '../helpers/couch.js';
import { isRealCouchDB, scoreByArea } from './conformance/replay.js';
import { formatReport, replayAll } from './conformance/report.js';

/**
 * The recorded CouchDB 3.5 answers (test/fixtures/couchdb-conformance/) replayed against the server under
 * test. On a real Apache CouchDB every request must pass (that checks the replayer); on the embedded server
 * the requests that fail must be exactly those in expected-differences.json, each with its reason, so a
 * new difference and a fixed one both fail this test.
 */
interface ExpectedDifference { request: string; reason: string }

const expectedFile = new URL('./conformance/expected-differences.json', import.meta.url);

test('the CouchDB 3.5 conformance corpus replays as recorded, but for the listed differences', { timeout: 600_000 }, async (t) => {
  const server = await testServer();
  const real = await isRealCouchDB(server.url);
  const results = await replayAll({ url: server.url, admin: server.username, password: server.password });
  const report = formatReport(results, false);
  t.diagnostic(`${real ? 'real CouchDB' : 'embedded server'} at ${server.url}`);
  for (const line of report.split('\n')) t.diagnostic(line);

  const failing = results.flatMap((r) => r.requests.filter((q) => !q.passed).map((q) => q.id)).sort();
  const listed: ExpectedDifference[] = real ? [] : JSON.parse(readFileSync(expectedFile, 'utf8'));
  for (const d of listed) assert.ok(d.reason && d.reason.length > 20, `expected difference ${d.request} needs its reason`);
  const expected = listed.map((d) => d.request).sort();
  const unexpected = failing.filter((id) => !expected.includes(id));
  const fixed = expected.filter((id) => !failing.includes(id));
  assert.deepEqual({ unexpected, fixed }, { unexpected: [], fixed: [] },
    'requests failing that are not listed in expected-differences.json (unexpected), or listed but now passing (fixed): update the server or the list');

  let passed = 0; let total = 0;
  for (const s of scoreByArea(results).values()) { passed += s.passed; total += s.total; }
  assert.equal(total, 225, 'every recorded request was replayed');
  if (real) assert.equal(passed, total);
});
