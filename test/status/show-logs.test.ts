import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, lockToken, markDone, attachLogs, type Token } from '../../src/tokens/index.js';
import { withAttempt, MAX_HISTORY } from '../../src/status/attempt-history.js';

const ctx = useTestDb('status-show');

test('picas show: a readable account (state, dates, attempts with lost runs, user fields, log tails); --json is the raw document', async () => {
  await ensureDesignDocs(ctx.db);
  const t = Math.floor(Date.now() / 1000);
  let tok = lockToken(newToken({ _id: 'sim-7', input: 'python sim.py --q 0.3', q: 0.3, sample: 'A\u001b[31mred' }), { now: t - 100, hostname: 'node3' }) as Token;
  tok = { ...tok, picas: { attempt: 'a1', pilot: 'pilot-1', host: 'node1', job: '77_1', claimed_at: t - 4000, lost_runs: 1 } } as Token;
  tok = withAttempt(tok, 'lost', t - 3000);
  tok = { ...tok, picas: { ...(tok as unknown as { picas: object }).picas, attempt: 'a2', pilot: 'pilot-2', host: 'node3', claimed_at: t - 100 } } as Token;
  tok = withAttempt(tok, 'error', t - 40, 2);
  const stdout = Array.from({ length: 30 }, (_, i) => `step ${i + 1}`).join('\n') + '\n';
  tok = { ...markDone(attachLogs(tok, stdout, 'Traceback...\nValueError: bad q\n'), t - 40), exit_code: 2, run_time: 60, exec_host: 'node3' } as Token;
  await ctx.db.put(tok);
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  const r = await runCli(['show', 'sim-7'], env);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^token sim-7$/m);
  assert.match(out, /state: error \(exit code 2\)/);
  assert.match(out, /input: python sim\.py --q 0\.3/);
  assert.match(out, /finished: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+s ago\)/);
  assert.match(out, /run time: 1m 00s on node3/);
  assert.match(out, /attempts: 2, 1 lost \(pilot died or lost contact\)/);
  assert.match(out, /1\. lost\s+\S+ \S+ for 16m 40s\s+node1 job 77_1\s+pilot pilot-1/);
  assert.match(out, /2\. error\s+\S+ \S+ for 1m 00s\s+node3 job 77_1\s+pilot pilot-2\s+exit 2/);
  assert.match(out, /q: 0\.3/);
  assert.match(out, /sample: "A\\u001b\[31mred"/, 'a terminal escape in a field is shown, not obeyed');
  assert.match(out, /--- stdout \(last 20 lines; 10 earlier: picas logs sim-7\) ---\nstep 11\n/);
  assert.doesNotMatch(out, /^step 10$/m);
  assert.match(out, /--- stderr ---\nTraceback\.\.\.\nValueError: bad q/);
  const raw = await runCli(['show', 'sim-7', '--json'], env);
  const doc = JSON.parse(raw.stdout);
  assert.equal(doc._id, 'sim-7');
  assert.equal(doc.picas.history.length, 2);
  assert.equal(doc.logs['logs_sim-7.err'], 'Traceback...\nValueError: bad q\n');
});

test('attempt history stays bounded: the newest attempts kept, all counted', () => {
  let tok = newToken({ _id: 'x' }) as Token;
  for (let i = 0; i < MAX_HISTORY + 5; i++) {
    tok = { ...tok, picas: { ...((tok as { picas?: object }).picas ?? {}), attempt: `a${i}`, pilot: 'p', host: 'h', claimed_at: i } } as Token;
    tok = withAttempt(tok, 'scrubbed', i + 1, 1);
  }
  const picas = (tok as unknown as { picas: { history: { attempt: string }[]; attempts: number } }).picas;
  assert.equal(picas.history.length, MAX_HISTORY);
  assert.equal(picas.history[0]!.attempt, 'a5');
  assert.equal(picas.attempts, MAX_HISTORY + 5);
});

test('picas logs prints the logs (stdout to stdout, stderr to stderr); missing tokens and reserved ids are clear errors', async () => {
  const t = Math.floor(Date.now() / 1000);
  await ctx.db.put(markDone(attachLogs(lockToken(newToken({ _id: 'lg1' }), { now: t }), 'all of stdout\n', 'all of stderr\n'), t));
  await ctx.db.put(newToken({ _id: 'lg-todo' }));
  const env = cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name });
  const r = await runCli(['logs', 'lg1'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'all of stdout\n');
  assert.equal(r.stderr, 'all of stderr\n');
  assert.equal((await runCli(['logs', 'lg1', '--stderr'], env)).stdout, '');
  const followDone = await runCli(['logs', 'lg1', '--follow'], env);
  assert.equal(followDone.code, 0);
  assert.equal(followDone.stdout, 'all of stdout\n', 'following a finished token prints its logs and ends');
  const pending = await runCli(['logs', 'lg-todo'], env);
  assert.equal(pending.code, 0);
  assert.match(pending.stderr, /has not finished: its logs are attached when it ends/);
  const missing = await runCli(['logs', 'nope'], env);
  assert.equal(missing.code, 6);
  assert.match(missing.stderr, /no token "nope"/);
  const reserved = await runCli(['logs', '_design/Monitor'], env);
  assert.equal(reserved.code, 2);
  assert.match(reserved.stderr, /reserves for its own documents/);
});
