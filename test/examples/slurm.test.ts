import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';
import type { CouchServer } from '../../src/couch/server.js';
import type { Token } from '../../src/tokens/token.js';
import { tokenState } from '../../src/tokens/state.js';
import { tempDir } from '../helpers/cli.js';
import { exampleEnv } from './shim.js';
import { run, start } from './run.js';

let server: TestServer;
let couch: CouchServer;
const created: string[] = [];
const SCRIPT = join(ROOT, 'examples/slurm/picas-array.sh');

before(async () => { server = await testServer(); couch = server.client(); });
after(async () => {
  for (const n of created) await couch.db(n).destroy().catch(() => {});
  await couch.close();
});

/** A database with the given token inputs, and the environment of array task 3 of job 4242. */
async function setup(label: string, inputs: string[]) {
  const db = uniqueDbName(label);
  created.push(db);
  const env = exampleEnv(server, db, { SLURM_ARRAY_JOB_ID: '4242', SLURM_ARRAY_TASK_ID: '3', SLURM_JOB_ID: '4245', PICAS_WORK_DIR: join(tempDir('slurm-work'), 'w') });
  const cwd = tempDir('slurm');
  const pushed = await run('picas', ['push', '--sweep', `i=${inputs.map((_, i) => i).join(',')}`, '--input', 'placeholder {i}'], { cwd, env });
  assert.equal(pushed.code, 0, pushed.stderr);
  // Give each token its real command (the sweep only made the tokens).
  const docs = (await couch.db(db).allDocs<Token>({ include_docs: true })).rows.map((r) => r.doc!).filter((d) => d.type === 'token');
  await couch.db(db).bulkDocs(docs.map((d) => ({ ...d, input: inputs[Number(d.i)] })));
  return { db: couch.db(db), env, cwd };
}

test('an array task runs a pilot that records the task as slurm_job_id = <array>_<task>', async () => {
  const { db, env, cwd } = await setup('slurm-run', ['echo one', 'echo two']);
  const r = await run('bash', [SCRIPT], { cwd, env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /pilot 4242_3 on .*, work dir/);
  const tokens = (await db.allDocs<Token>({ include_docs: true })).rows.map((x) => x.doc!).filter((d) => d.type === 'token');
  assert.deepEqual(tokens.map((t) => [tokenState(t), t.slurm_job_id]), [['done', '4242_3'], ['done', '4242_3']]);
});

test('SIGTERM to the batch script reaches the pilot: the running token goes back to todo and the job ends', async () => {
  const { db, env, cwd } = await setup('slurm-term', ['sleep 60']);
  const job = start('bash', [SCRIPT, '--grace', '5'], { cwd, env, timeoutMs: 90_000 });
  // Wait (bounded) until the pilot holds the token.
  let locked = false;
  for (let i = 0; i < 200 && !locked; i++) {
    const t = (await db.allDocs<Token>({ include_docs: true })).rows.map((x) => x.doc!).find((d) => d.type === 'token')!;
    locked = tokenState(t) === 'locked';
    if (!locked) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(locked, 'the pilot never claimed the token');
  job.child.kill('SIGTERM');
  const r = await job.done;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /received TERM: asking the pilot/);
  const t = (await db.allDocs<Token>({ include_docs: true })).rows.map((x) => x.doc!).find((d) => d.type === 'token')!;
  assert.equal(tokenState(t), 'todo');
});
