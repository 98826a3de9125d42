import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv, runCli, tempDir } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, type Token } from '../../src/tokens/index.js';

/**
 * `picas run --confirm-claims <ms>`: for servers that replicate to each other behind one address (a pilot
 * cannot tell them from one server), each claim is read back until it has stood that long, then sealed
 * (written once more) before its command starts. Runs against any server.
 */
const ctx = useTestDb('cluster-cli');
let n = 0;

async function freshDb(ids: string[]) {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(ids.map((id) => newToken({ _id: id, input: 'true' })));
  return db;
}

const generation = (rev: string | undefined) => Number.parseInt(String(rev), 10);

test('picas run --confirm-claims 200 confirms and seals each claim before running it; without it a claim is one write', { timeout: 120_000 }, async () => {
  const confirmed = await freshDb(['a', 'b']);
  const plain = await freshDb(['c']);
  try {
    const dir = tempDir('confirm-claims');
    const run = (db: string, extra: string[]) => runCli(['run', '-q', '--work-dir', join(dir, db), ...extra], cliEnv(ctx.server, { PICAS_DATABASE: db }));
    const r = await run(confirmed.name, ['--confirm-claims', '200']);
    assert.equal(r.code, 0, r.stderr);
    for (const id of ['a', 'b']) {
      const t = await confirmed.get<Token>(id, { conflicts: true });
      assert.ok(t.done > 0 && t.exit_code === 0, `${id} done`);
      assert.equal(generation(t._rev), 4, `${id}: pushed, claimed, sealed, result`);
      assert.equal(t._conflicts, undefined);
    }
    const p = await run(plain.name, []);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(generation((await plain.get<Token>('c'))._rev), 3, 'pushed, claimed, result');
  } finally {
    await confirmed.destroy();
    await plain.destroy();
  }
});

test('picas run --confirm-claims with a bad value: one line naming the option, exit 2, no token touched', { timeout: 60_000 }, async () => {
  const db = await freshDb(['x']);
  try {
    const r = await runCli(['run', '-q', '--confirm-claims', 'soon', '--work-dir', tempDir('confirm-bad')], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /--confirm-claims must be a number >= 1, not "soon"/);
    const t = await db.get<Token>('x');
    assert.deepEqual([t.lock, t.done, generation(t._rev)], [0, 0, 1], 'the token is untouched');
  } finally {
    await db.destroy();
  }
});
