import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, testServer } from './couch.js';

test('a failing test leaves no database behind on the server, its side databases included', async () => {
  const server = await testServer();
  const dir = mkdtempSync(join(tmpdir(), 'picas-leftovers-'));
  const namesFile = join(dir, 'names.json');
  try {
    // The fixture runs as its own test file, against this file's server (and not as a subtest of this
    // run: node:test tells its children so through NODE_TEST_CONTEXT).
    const { NODE_TEST_CONTEXT, ...env } = process.env;
    void NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', join(ROOT, 'test/helpers/fixtures/leaves-a-database.ts')], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000,
      env: { ...env, PICAS_TEST_COUCHDB_URL: server.authUrl, LEFTOVER_NAMES_FILE: namesFile },
    });
    assert.notEqual(run.status, 0, 'the fixture test fails, as it should');
    assert.match(run.stdout, /failed before cleaning up/);
    const names = JSON.parse(readFileSync(namesFile, 'utf8')) as string[];
    assert.equal(names.length, 2);
    const couch = server.client();
    try {
      const left = await couch.allDbs();
      for (const name of names) assert.ok(!left.includes(name), `${name} was left on the server`);
    } finally {
      await couch.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
