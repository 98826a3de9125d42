import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newToken, lockToken, markDone, scrubToken, resetToken, markError, unlockToken, uncloseToken, addOutput, attachLogs,
  contentTokenId, validateTokenId, jobIdFromEnv, tokenState, randomTokenId,
} from '../../src/tokens/index.js';

test('newToken has the original defaults with type "token" and a random id', () => {
  const t = newToken({ input: 'echo hi' });
  assert.equal(t.type, 'token');
  assert.deepEqual([t.lock, t.done, t.hostname, t.scrub_count, t.exit_code], [0, 0, '', 0, '']);
  assert.deepEqual([t.output, t.uploads, t.error], [{}, {}, []]);
  assert.match(t._id, /^token_[0-9a-f]{32}$/);
  assert.notEqual(newToken()._id, newToken()._id);
  assert.equal(tokenState(t), 'todo');
});

test('content ids are deterministic whatever the key order', () => {
  assert.equal(contentTokenId({ a: 1, b: [2, { c: 3 }] }), contentTokenId({ b: [2, { c: 3 }], a: 1 }));
  assert.notEqual(contentTokenId({ a: 1 }), contentTokenId({ a: 2 }));
});

test('unsafe ids are refused with a reason', () => {
  for (const bad of ['', '_x', 'a\u0000b', 'x'.repeat(1100)]) assert.throws(() => validateTokenId(bad), /invalid token id/);
  validateTokenId('../x'); // unsafe only as a file name: made safe where it becomes one
});

test('lock, done, error, unlock, unclose, addOutput keep user fields', () => {
  const t = newToken({ _id: 't1', input: 'x', cores: 4, properties: { a: 1 } });
  const locked = lockToken(t, { now: 1000, hostname: 'node1', env: { SLURM_ARRAY_JOB_ID: '77', SLURM_ARRAY_TASK_ID: '3' } });
  assert.equal(locked.lock, 1000);
  assert.equal(locked.hostname, 'node1');
  assert.equal((locked as any).slurm_job_id, '77_3');
  assert.equal(tokenState(locked), 'locked');
  const done = markDone({ ...locked, exit_code: 0 }, 2000);
  assert.equal(tokenState(done), 'done');
  assert.equal((done as any).cores, 4);
  assert.deepEqual((done as any).properties, { a: 1 });
  const err = markError(locked, 'boom', 'Error: boom\n at x', 3000);
  assert.deepEqual([err.lock, err.done], [99, 99]);
  assert.deepEqual(err.error, [{ time: 3000, message: 'boom', exception: 'Error: boom\n at x' }]);
  assert.equal(tokenState(err), 'error');
  assert.equal(unlockToken(locked).lock, 0);
  assert.equal(uncloseToken(done).done, 0);
  const out = addOutput(done, { result: 42, _id: 'hijack' });
  assert.equal((out as any).result, 42);
  assert.equal(out._id, 't1');
});

test('scrub clears done too (the original basic modifier did not), reset also clears host, exit code, logs', () => {
  const t = attachLogs(markDone(lockToken(newToken({ _id: 't2' }), { now: 5, env: { PBS_JOBID: '9' } }), 6), 'out', 'err');
  const s = scrubToken({ ...t, exit_code: 1 }, { hostname: 'scrubber' });
  assert.deepEqual([s.lock, s.done, s.scrub_count, s.hostname], [0, 0, 1, 'scrubber']);
  assert.equal((s as any).pbs_job_id, undefined);
  const r = resetToken({ ...t, exit_code: 1, picas: { attempt: 'a' } } as any);
  assert.deepEqual([r.lock, r.done, r.scrub_count, r.hostname, r.exit_code], [0, 0, 1, '', '']);
  assert.equal(r._attachments, undefined);
  assert.equal((r as any).picas, undefined);
  assert.equal(tokenState(r), 'todo');
});

test('logs attach as logs_<id>.out / .err', () => {
  const t = attachLogs(newToken({ _id: 'tok' }), 'hello', Buffer.from([1, 2]));
  assert.deepEqual(Object.keys(t._attachments!).sort(), ['logs_tok.err', 'logs_tok.out']);
  assert.equal(Buffer.from(t._attachments!['logs_tok.out']!.data!, 'base64').toString(), 'hello');
});

test('job ids: the first variable present wins, as the original', () => {
  assert.deepEqual(jobIdFromEnv({ DIRACJOBID: '1', SLURM_JOB_ID: '2' }), { field: 'dirac_job_id', value: '1' });
  assert.equal(jobIdFromEnv({ GLITE_WMS_JOBID: 'nope', PBS_JOBID: '5' })!.field, 'pbs_job_id');
  assert.deepEqual(jobIdFromEnv({ GLITE_WMS_JOBID: 'https://wms/x' }), { field: 'wms_job_id', value: 'https://wms/x' });
  assert.deepEqual(jobIdFromEnv({ CREAM_JOBID: 'c' }), { field: 'cream_job_id', value: 'c' });
  assert.deepEqual(jobIdFromEnv({ SLURM_JOB_ID: '42' }), { field: 'slurm_job_id', value: '42' });
  assert.equal(jobIdFromEnv({}), undefined);
});

test('generated ids are unique and come in increasing order (ordered keys write faster)', () => {
  const ids = Array.from({ length: 20_000 }, () => randomTokenId());
  assert.equal(new Set(ids).size, ids.length, 'unique');
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `${ids[i]} after ${ids[i - 1]}`);
  assert.match(randomTokenId('run'), /^run_[0-9a-f]{32}$/);
});
