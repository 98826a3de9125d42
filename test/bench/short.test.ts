// The benchmark suite keeps working: its short mode runs every section end to end against a real server
// (an embedded one it starts, or PICAS_TEST_COUCHDB_URL), prints the tables and the targets, and writes
// JSON whose figures add up. Speed is never asserted; correctness of what the pilots did is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/couch.js';
import { judgeTargets, type BenchResults } from '../../bench/targets.js';

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); }));
}

/**
 * Whether `text` shows the password of `url`. When the password is also the user name (or part of it), the
 * user name being printed is fine: then only a URL with credentials (`user:password@`) counts.
 */
function printsPassword(text: string, url: string): boolean {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  const username = decodeURIComponent(u.username);
  if (!password) return false;
  if (text.includes(`:${password}@`) || text.includes(`:${u.password}@`)) return true;
  if (username.includes(password)) return false;
  return text.includes(password);
}

test('password check: the user name printed is not the password printed, even when they are equal', () => {
  assert.equal(printsPassword('server http://admin@127.0.0.1:5984 as admin', 'http://admin:admin@127.0.0.1:5984'), false);
  assert.equal(printsPassword('server http://admin:admin@127.0.0.1:5984', 'http://admin:admin@127.0.0.1:5984'), true);
  assert.equal(printsPassword('user admin, password s3cret', 'http://admin:s3cret@127.0.0.1:5984'), true);
  assert.equal(printsPassword('user admin', 'http://admin:s3cret@127.0.0.1:5984'), false);
});

test('bench --short runs every section and reports figures that add up', { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'picas-bench-test-'));
  try {
    const json = join(dir, 'bench.json');
    const url = process.env.PICAS_TEST_COUCHDB_URL;
    const r = await runBench(['--short', '--json', json, ...(url ? ['--url', url] : [])], 840_000);
    assert.equal(r.code, 0, `bench failed:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
    for (const heading of ['### raw limits', '### processing', '### push', '### scale', '### targets']) {
      assert.ok(r.stdout.includes(heading), `no "${heading}" in the printed report`);
    }
    if (url) assert.ok(!printsPassword(r.stdout, url), 'the password was printed');
    const out = JSON.parse(readFileSync(json, 'utf8'));
    const res = out.results;
    assert.deepEqual(out.errors, []);

    assert.ok(res.raw.bulk.perS > 0 && res.raw.put.length >= 2);
    for (const b of res.baseline) {
      // The original protocol runs every token it finished at least once; duplicates are counted, not judged.
      assert.ok(b.executions.executions >= b.completed, `baseline with ${b.pilots} pilots: ${b.executions.executions} runs for ${b.completed} done`);
      assert.equal(b.executions.duplicates, b.executions.executions - b.executions.distinct);
    }
    for (const a of [...res.processing.api, ...res.processing.cli]) {
      const where = `picas ${a.pilots} pilots batch ${a.batch}`;
      assert.equal(a.executions.duplicates, 0, `${where}: duplicate runs`);
      assert.equal(a.lost, 0, `${where}: tokens left locked`);
      assert.equal(a.completed + a.states.todo + a.states.error, a.tokens, `${where}: states do not add up to the tokens`);
      assert.equal(a.executions.distinct, a.completed, `${where}: done tokens without an execution record, or the reverse`);
    }
    assert.equal(Object.keys(res.processing.bestBatch).length, 2);
    for (const p of res.push) assert.equal(p.added, p.tokens);
    const steps = res.scale.filter((s: { skipped?: string }) => !s.skipped);
    assert.ok(steps.length >= 2 && steps.every((s: { claimMedianMs: number; statusCliMs: number }) => s.claimMedianMs > 0 && s.statusCliMs > 0));
    // The waiting section: a floor, an idle pilot's CPU, waiting pilots' requests, and every push claimed.
    assert.ok(res.waiting.floor.cpuMsPerSpawn > 0);
    assert.ok(res.waiting.sleeping.windowS > 0);
    assert.equal(res.waiting.waiting.pilots, 4);
    assert.equal(res.waiting.waiting.pushToClaimMs.length, 3);
    for (const ms of res.waiting.waiting.pushToClaimMs) assert.equal(typeof ms, 'number', 'a token pushed to waiting pilots was not claimed');
    for (const c of res.processing.cli) assert.ok(c.watchdogsFound > 0 && typeof c.overheadMsPerToken === 'number', `picas run ${c.pilots} pilots: watchdog CPU not measured`);
    assert.equal(out.targets.length, 16);
    // The short mode runs 1 and 4 pilots: bars set at 8 or 32 pilots cannot be judged there.
    const needsMorePilots = /with (8|32) pilots|32 pilots at least as fast as with 8/;
    for (const t of out.targets) {
      if (needsMorePilots.test(t.target)) continue;
      assert.equal(typeof t.met, 'boolean', `target not judged: ${t.target} (${t.figure})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench refuses unknown options and sections with one line and exit code 2', { timeout: 120_000 }, async () => {
  const section = await runBench(['--only', 'raw,nope'], 60_000);
  assert.equal(section.code, 2);
  assert.match(section.stderr.trim(), /^bench: --only: unknown section\(s\) nope; sections are raw, baseline, push, processing, waiting, scale$/);
  const option = await runBench(['--fast'], 60_000);
  assert.equal(option.code, 2);
  assert.match(option.stderr.trim(), /^bench: unknown option --fast; usage: npm run bench/);
  assert.equal(option.stderr.trim().split('\n').length, 1);
});

test('targets: each verdict follows its figure; a missing section is "not measured", not met', () => {
  const run = (pilots: number, batch: number | undefined, perS: number, extra: Record<string, unknown> = {}) => ({
    pilots, batch, tokens: 1000, s: 1, completed: 1000, perS, executions: { executions: 1000, distinct: 1000, duplicates: 0, tokensRunTwice: 0 },
    states: { todo: 0, locked: 0, done: 1000, error: 0 }, lost: 0, wastedPerToken: 0.01, serverCpuS: null, notes: [],
    conflictRounds: 10, staleResults: 0, pilotIdleRssMb: 50, pilotMaxRssMb: 80, ...extra,
  });
  const res = {
    raw: { put: [], bulk: { batch: 1000, docs: 1000, perS: 20_000, serverCpuS: null, benchCpuS: 0 }, viewIndex: { docs: 1, perS: 1, serverCpuS: null } },
    baseline: [{ ...run(32, undefined, 100), lockConflicts: 0, resultsDropped: 0, pilotsGaveUp: 0 }],
    processing: { api: [run(1, 10, 2_600), run(32, 10, 900), run(32, 50, 5_100)], bestBatch: {}, cli: [] },
    push: [{ tokens: 100, added: 100, perS: 18_500, rssBeforeMb: 50, peakRssMb: 60, pushCpuS: 0, serverCpuS: null, requests: 1 },
      { tokens: 1000, added: 1000, perS: 18_500, rssBeforeMb: 50, peakRssMb: 90, pushCpuS: 0, serverCpuS: null, requests: 2 }],
  } as unknown as BenchResults;
  const verdicts = judgeTargets(res);
  const by = (start: string) => verdicts.find((v) => v.target.startsWith(start))!;
  assert.equal(by('picas >= 10x').met, true);
  assert.match(by('picas >= 10x').figure, /^51x \(5100\/s batch 50 vs 100\/s\)/);
  assert.equal(by('no-op with 32 pilots').met, true);
  assert.equal(by('no-op with 1 pilot').met, true);
  assert.equal(by('push >= 90%').met, true);
  assert.equal(by('push memory flat').met, false, '60 MB -> 90 MB is not flat');
  assert.equal(by('<= 0.05 wasted').met, true);
  assert.equal(by('claim latency').met, null, 'no scale section: not measured');
  assert.equal(by('pilot RSS').met, true);
});
