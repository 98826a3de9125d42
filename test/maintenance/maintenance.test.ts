import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { loadPythonDb } from '../compat/fixture.js';
import { resetTokens, planReset } from '../../src/maintenance/reset.js';
import { deleteTokens, planDelete } from '../../src/maintenance/delete.js';
import { exportTokens } from '../../src/maintenance/export.js';
import { selectTokens, viewSelection, SelectionNotFoundError } from '../../src/maintenance/select.js';
import { parseAge } from '../../src/maintenance/age.js';
import { getUsers, setUsers } from '../../src/maintenance/users.js';
import { countStates } from '../../src/tokens/status.js';
import { ensureDesignDocs } from '../../src/tokens/design.js';
import { newToken, type Token } from '../../src/tokens/token.js';

const ctx = useTestDb('maintenance');
const T0 = 1764000000;

const collect = async (sel: ReturnType<typeof viewSelection>, pageSize = 500) => {
  const ids: string[] = [];
  for await (const page of selectTokens(ctx.db, sel, pageSize)) ids.push(...page.map((t) => t._id));
  return ids;
};

test('selection pages through a view by key without skipping or repeating, also with tiny pages', async () => {
  await loadPythonDb(ctx.db);
  assert.deepEqual(await collect(viewSelection('todo'), 1), ['task_5b0d3c6e9f8a4e7b8d2c1a0f9e8d7c6b', 'token_0', 'token_1', 'token_2']);
  assert.deepEqual((await collect({ kind: 'all' }, 2)).length, 10); // type "token" only: not the "task", the log, the design doc
});

test('an unknown view or design document says what exists', async () => {
  await assert.rejects(collect(viewSelection('errors')), (err: unknown) =>
    err instanceof SelectionNotFoundError && /no view "errors" in design document "Monitor" \(its views: todo, locked, done, error, overview_total\)/.test(err.message));
  await assert.rejects(collect(viewSelection('Nope/todo')), /no design document "Nope"/);
  const missing = ctx.couch.db('picas-test-no-such-db-xyz');
  await assert.rejects((async () => { for await (const p of selectTokens(missing, viewSelection('todo'))) void p; })(), /database "picas-test-no-such-db-xyz" does not exist/);
});

test('reset with a lock age touches only tokens locked before the cut-off, as the original does', async () => {
  await ctx.db.bulkDocs([
    newToken({ _id: 'old_lock', lock: T0 - 7200, hostname: 'h', slurm_job_id: '1_2', cores: 2 }),
    newToken({ _id: 'new_lock', lock: T0 - 60, hostname: 'h' }),
  ]);
  const filter = { lockedOlderThanSec: parseAge('1h'), now: T0 };
  const seen: string[] = [];
  assert.equal(await planReset(ctx.db, viewSelection('locked'), filter, (t) => seen.push(t._id)), 1);
  assert.deepEqual(seen, ['old_lock']);
  const result = await resetTokens(ctx.db, viewSelection('locked'), filter);
  assert.deepEqual(result, { matched: 1, changed: 1, failed: 0 });
  const old = await ctx.db.get<Token>('old_lock');
  assert.deepEqual([old.lock, old.done, old.hostname, old.exit_code, old.scrub_count, old.slurm_job_id, old.cores], [0, 0, '', '', 1, undefined, 2]);
  assert.equal((await ctx.db.get<Token>('new_lock')).lock, T0 - 60);
  assert.equal((await ctx.db.get<Token>('token_3')).lock, T0);
});

test('parseAge wants a unit', () => {
  assert.equal(parseAge('90s'), 90);
  assert.equal(parseAge('30m'), 1800);
  assert.equal(parseAge('2h'), 7200);
  assert.equal(parseAge('1.5d'), 129600);
  assert.throws(() => parseAge('2'), /must be a number with a unit, e.g. 90s/);
});

test('reset of the error view: scrub_count up, fields cleared, logs dropped, user fields kept', async () => {
  const before = await countStates(ctx.db);
  const result = await resetTokens(ctx.db, viewSelection('error'));
  assert.equal(result.changed, before.error);
  const t6 = await ctx.db.get<Token>('token_6');
  assert.deepEqual([t6.lock, t6.done, t6.hostname, t6.exit_code, t6.scrub_count, t6._attachments], [0, 0, '', '', 1, undefined]);
  const t7 = await ctx.db.get<Token>('token_7');
  assert.equal(t7.pbs_job_id, undefined);
  assert.equal((await countStates(ctx.db)).error, 0);
});

test('a token changed between reading and writing is reported, not overwritten', async () => {
  // A stale revision stands for a pilot that saved its result meanwhile.
  const t = await ctx.db.get<Token>('token_4');
  await ctx.db.put({ ...t, note: 'changed by someone else' });
  const failures: string[] = [];
  const { applyChange } = await import('../../src/maintenance/bulk-change.js');
  const result = await applyChange(ctx.db, viewSelection('done'), (x) => x._id === 'token_4', () => ({ ...t, _rev: t._rev }), { onFailed: (f) => failures.push(`${f.id}: ${f.reason}`) });
  assert.deepEqual(result, { matched: 1, changed: 0, failed: 1 });
  assert.match(failures[0]!, /^token_4: changed by someone else meanwhile \(409 conflict\)/);
});

test('export: JSON lines with state and exit code, CSV with discovered columns, a folder with safe names and logs', async () => {
  await ctx.db.bulkDocs([newToken({ _id: 'weird/../id with space', lock: T0, done: T0, exit_code: 0, input: 'x',
    _attachments: { 'logs_weird/../id with space.out': { content_type: 'text/plain', data: Buffer.from('hello\n').toString('base64') } } })]);
  const jsonl = new PassThrough();
  let text = '';
  jsonl.on('data', (d) => { text += d; });
  const n = await exportTokens(ctx.db, viewSelection('done'), { format: 'jsonl', out: jsonl, logs: true });
  const records = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(records.length, n);
  const r4 = records.find((r) => r._id === 'token_4');
  assert.deepEqual([r4.state, r4.exit_code, r4.stdout, r4.stderr, r4._rev, r4._attachments], ['done', 0, 'done\n', '', undefined, undefined]);
  assert.equal(records.find((r) => r._id === 'token_5').stdout, null);

  const csv = new PassThrough();
  let csvText = '';
  csv.on('data', (d) => { csvText += d; });
  await exportTokens(ctx.db, { kind: 'all' }, { format: 'csv', out: csv });
  const [header, ...rows] = csvText.trim().split('\n');
  assert.match(header!, /^_id,state,exit_code,/);
  assert.ok(header!.split(',').includes('properties'));
  assert.ok(rows.some((row) => row.startsWith('token_2,todo,,') && row.includes('"{""threads"":4')));

  const dir = mkdtempSync(join(tmpdir(), 'picas-export-'));
  await exportTokens(ctx.db, viewSelection('done'), { format: 'dir', dir });
  const files = readdirSync(dir);
  assert.ok(files.includes('token_4.json') && files.includes('token_4.out') && files.includes('token_4.err'));
  const weird = files.find((f) => f.startsWith('weird_') && f.endsWith('.out'))!;
  assert.ok(weird && !weird.includes('/'), files.join(' '));
  assert.equal(readFileSync(join(dir, weird), 'utf8'), 'hello\n');
  assert.equal(JSON.parse(readFileSync(join(dir, 'token_4.json'), 'utf8')).state, 'done');
});

test('delete: the tokens of a view go, everything else stays', async () => {
  const before = await countStates(ctx.db);
  assert.equal(await planDelete(ctx.db, viewSelection('done')), before.done);
  const result = await deleteTokens(ctx.db, viewSelection('done'));
  assert.equal(result.changed, before.done);
  assert.deepEqual(await countStates(ctx.db), { ...before, done: 0 });
  assert.ok(await ctx.db.find('_design/Monitor'));
  assert.ok(await ctx.db.find('log_4c1f'));
});

test('users: lists given replace, others are kept', async () => {
  // CouchDB 3 creates databases admin-only (`_admin` in both roles lists): the admins' roles, never given
  // here, stay whatever they were.
  const adminRoles = (await getUsers(ctx.db)).admins?.roles ?? [];
  await setUsers(ctx.db, { members: { names: ['alice', 'bob'], roles: ['picas'] } });
  await setUsers(ctx.db, { admins: { names: ['carol'] } });
  assert.deepEqual(await getUsers(ctx.db), { members: { names: ['alice', 'bob'], roles: ['picas'] }, admins: { names: ['carol'], roles: adminRoles } });
  await setUsers(ctx.db, { members: { names: [] } });
  assert.deepEqual((await getUsers(ctx.db)).members, { names: [], roles: ['picas'] });
  await setUsers(ctx.db, { members: { names: [], roles: [] }, admins: { names: [], roles: [] } });
});

test('ensureDesignDocs on a Python-made database keeps its Monitor views as they are', async () => {
  const before = await ctx.db.get('_design/Monitor');
  await ensureDesignDocs(ctx.db);
  const after = await ctx.db.get('_design/Monitor');
  assert.deepEqual(after.views, before.views);
});
