import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, useTestDb } from '../helpers/couch.js';
import { cliEnv, tempDir } from '../helpers/cli.js';
import { ensureDesignDocs, newToken, countStates } from '../../src/tokens/index.js';
import { removeEmptyWorkDir, runCommand } from '../../src/exec/index.js';

/**
 * Where commands run (README, `picas run`): in the folder `picas run` was started in, as the original runs
 * `bash -c "$INPUT"` there, so `./analyze.sh x` and `-- ./fractals ...` find their files; each token also
 * has a work folder of its own (PICAS_TOKEN_WORK_DIR under --work-dir). Nothing a command wrote is deleted:
 * only work folders left empty are removed.
 */
const ctx = useTestDb('where-run');
let n = 0;

async function freshDb(tokens: Record<string, Record<string, unknown>>) {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(Object.entries(tokens).map(([_id, fields]) => newToken({ _id, ...fields })));
  return db;
}

/** `picas <args>` started in `cwd` (tsx loaded by absolute path, so any folder works). */
function picasIn(cwd: string, args: string[], env: NodeJS.ProcessEnv) {
  const loader = `file://${join(ROOT, 'node_modules/tsx/dist/loader.mjs')}`;
  const r = spawnSync(process.execPath, ['--import', loader, join(ROOT, 'src/cli/main.ts'), ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A start folder with an executable script `analyze.sh` that writes `<arg>.result` where it runs. */
function startFolder(label: string): string {
  const dir = tempDir(label);
  writeFileSync(join(dir, 'analyze.sh'), '#!/bin/sh\necho "analysed $1" > "$1.result"\necho "scratch" > "$PICAS_TOKEN_WORK_DIR/scratch.txt"\necho "done $1"\n');
  chmodSync(join(dir, 'analyze.sh'), 0o755);
  return dir;
}

test('shell inputs with relative paths run from the folder picas run was started in; their files stay', { timeout: 90_000 }, async () => {
  const start = startFolder('where-shell');
  const db = await freshDb({ a: { input: './analyze.sh a' }, b: { input: './analyze.sh b' }, c: { input: 'true' } });
  try {
    const r = picasIn(start, ['run', '--slots', '2'], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 3, error: 0 });
    assert.equal(readFileSync(join(start, 'a.result'), 'utf8'), 'analysed a\n');
    assert.equal(readFileSync(join(start, 'b.result'), 'utf8'), 'analysed b\n');
    // What a command wrote in its own work folder is kept; the work folder of `true` (left empty) is gone.
    const work = join(start, 'picas-work');
    // Sorted by token id, not by path: the path starts with the slot, and either token may run in either slot.
    const kept = readdirSync(work, { recursive: true }).map(String).filter((p) => p.endsWith('scratch.txt'));
    assert.deepEqual(kept.map((p) => p.split('/').at(-2)).sort(), ['a', 'b']);
    assert.equal(readdirSync(work, { recursive: true }).map(String).some((p) => p.endsWith('/c')), false, 'an empty work folder is removed');
  } finally {
    await db.destroy();
  }
});

test('an argument template\'s ./program and output file resolve from the start folder', { timeout: 90_000 }, async () => {
  const start = startFolder('where-argv');
  const db = await freshDb({ t1: { name: 'first' }, t2: { name: 'second' } });
  try {
    const r = picasIn(start, ['run', '--', './analyze.sh', '{name}'], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await countStates(db), { todo: 0, locked: 0, done: 2, error: 0 });
    assert.ok(existsSync(join(start, 'first.result')) && existsSync(join(start, 'second.result')));
  } finally {
    await db.destroy();
  }
});

test('--run-in-work-dir runs each command inside its own work folder, and keeps what it wrote there', { timeout: 90_000 }, async () => {
  const start = startFolder('where-inwork');
  const db = await freshDb({ w: { input: 'pwd > where.txt' } });
  try {
    const r = picasIn(start, ['run', '--run-in-work-dir', '--work-dir', 'scratch'], cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    assert.equal(r.code, 0, r.stderr);
    const where = join(start, 'scratch', 'slot-0', 'w');
    assert.equal(readFileSync(join(where, 'where.txt'), 'utf8').trim(), where);
  } finally {
    await db.destroy();
  }
});

test('runCommand: the work folder is created and named in PICAS_TOKEN_WORK_DIR; cwd is where it runs', async () => {
  const base = tempDir('where-unit');
  const work = join(base, 'work', 'slot-0', 'tok');
  const r = await runCommand({ shell: 'echo "$PWD|$PICAS_TOKEN_WORK_DIR"', cwd: base, workDir: work, fields: { _id: 'tok' } });
  assert.equal(r.stdout.toString().trim(), `${base}|${work}`);
  assert.ok(existsSync(work));
});

test('removeEmptyWorkDir removes empty folders up to the root and never a file', async () => {
  const root = join(tempDir('where-tidy'), 'work');
  const empty = join(root, 'slot-0', 'a');
  const full = join(root, 'slot-1', 'b');
  mkdirSync(empty, { recursive: true });
  mkdirSync(full, { recursive: true });
  writeFileSync(join(full, 'result.txt'), 'keep me');
  assert.equal(await removeEmptyWorkDir(empty, root), true);
  assert.equal(existsSync(join(root, 'slot-0')), false, 'the empty slot folder went too');
  assert.equal(existsSync(root), true, 'the root holds another slot\'s files');
  assert.equal(await removeEmptyWorkDir(full, root), false);
  assert.equal(readFileSync(join(full, 'result.txt'), 'utf8'), 'keep me');
  assert.equal(await removeEmptyWorkDir('/tmp', root), false, 'outside the root: left alone');
});
