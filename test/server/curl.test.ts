import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testServer, uniqueDbName, type TestServer } from '../helpers/couch.js';

/**
 * What users do: curl lines as CouchDB's documentation writes them (plain `curl -X PUT ... -d '{...}'`,
 * which sends `Content-Type: application/x-www-form-urlencoded`), run by bash with Debian's curl against
 * the server under test (the embedded one, or PICAS_TEST_COUCHDB_URL). Each line's answer and the data it
 * left are checked; the first line below stored an EMPTY document on the embedded server before issue 12.
 */
const run = promisify(execFile);

async function hasCurl(): Promise<boolean> {
  try { await run('curl', ['--version']); return true; } catch { return false; }
}

// CI installs curl (.ci/run) and fails without it; elsewhere a machine without curl skips these, saying so.
describe('curl lines from CouchDB\'s documentation', () => {
  let server: TestServer;
  let db: string;
  let env: NodeJS.ProcessEnv;

  /** Run one shell line as a user types it; $COUCH is the server URL with the admin's credentials. */
  const sh = async (line: string) => {
    const { stdout } = await run('bash', ['-c', `${line} -s -S -w '\\n%{http_code}'`], { env, timeout: 20_000 });
    const cut = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(cut + 1)), text: stdout.slice(0, cut) };
  };

  before(async () => {
    if (!(await hasCurl())) {
      if (process.env.CI) throw new Error('curl is not installed (.ci/run installs it)');
      return;
    }
    server = await testServer();
    db = uniqueDbName('curl');
    env = { PATH: process.env.PATH, COUCH: server.authUrl, DB: db };
  });
  after(async () => {
    if (env) await sh('curl -X DELETE "$COUCH/$DB"').catch(() => undefined);
  });

  it('create a database, put a token with curl -d, read it back whole', async (t) => {
    if (!env) return t.skip('curl is not installed here');
    const created = await sh('curl -X PUT "$COUCH/$DB"');
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(JSON.parse(created.text), { ok: true });

    const put = await sh(`curl -X PUT "$COUCH/$DB/token1" -d '{"type":"token","lock":0,"done":0,"input":"echo hello","v":42}'`);
    assert.equal(put.status, 201, put.text);
    assert.equal(JSON.parse(put.text).id, 'token1');

    const got = await sh('curl "$COUCH/$DB/token1"');
    assert.equal(got.status, 200);
    const doc = JSON.parse(got.text);
    assert.deepEqual({ ...doc, _rev: undefined }, { _id: 'token1', _rev: undefined, type: 'token', lock: 0, done: 0, input: 'echo hello', v: 42 });

    // The same data through picas's own client.
    const client = server.client();
    try {
      assert.equal(((await client.db(db).get('token1')) as unknown as { v: number }).v, 42);
    } finally { await client.close(); }
  });

  it('an integer beyond 2^53 comes back digit for digit', async (t) => {
    if (!env) return t.skip('curl is not installed here');
    await sh(`curl -X PUT "$COUCH/$DB/big" -d '{"type":"token","id64":12345678901234567891}'`);
    const got = await sh('curl "$COUCH/$DB/big"');
    assert.match(got.text, /"id64":12345678901234567891[,}]/);
  });

  it('POST with -H "Content-Type: application/json" creates a document; without it CouchDB refuses with 415 and stores nothing', async (t) => {
    if (!env) return t.skip('curl is not installed here');
    const ok = await sh(`curl -X POST "$COUCH/$DB" -H "Content-Type: application/json" -d '{"type":"token","lock":0,"done":0}'`);
    assert.equal(ok.status, 201, ok.text);
    const before = JSON.parse((await sh('curl "$COUCH/$DB"')).text).doc_count;
    const refused = await sh(`curl -X POST "$COUCH/$DB" -d '{"type":"token","lock":0,"done":0}'`);
    assert.equal(refused.status, 415, refused.text);
    assert.equal(JSON.parse(refused.text).error, 'bad_content_type');
    assert.equal(JSON.parse((await sh('curl "$COUCH/$DB"')).text).doc_count, before, 'nothing stored');
  });

  it('put a design document and read a view', async (t) => {
    if (!env) return t.skip('curl is not installed here');
    const ddoc = await sh(`curl -X PUT "$COUCH/$DB/_design/Monitor" -d '{"views":{"todo":{"map":"function (doc) { if (doc.type == \\"token\\" && doc.lock == 0 && doc.done == 0) { emit(doc._id, doc._id); } }"}}}'`);
    assert.equal(ddoc.status, 201, ddoc.text);
    const view = await sh('curl "$COUCH/$DB/_design/Monitor/_view/todo"');
    assert.equal(view.status, 200, view.text);
    const ids = (JSON.parse(view.text).rows as { id: string }[]).map((r) => r.id);
    assert.ok(ids.includes('token1'), view.text);
    const one = await sh(`curl "$COUCH/$DB/_design/Monitor/_view/todo?key=%22token1%22"`);
    assert.deepEqual((JSON.parse(one.text).rows as { id: string }[]).map((r) => r.id), ['token1']);

    const broken = await sh(`curl -X PUT "$COUCH/$DB/_design/Broken" -d '{"views":{"v":{"map":"function (doc) { emit(doc._id "}}}'`);
    assert.equal(broken.status, 400, broken.text);
    assert.equal(JSON.parse(broken.text).error, 'compilation_error');
    assert.equal((await sh('curl "$COUCH/$DB/_design/Broken"')).status, 404, 'the broken design document was not stored');
  });

  it('update a token with its rev, then delete it', async (t) => {
    if (!env) return t.skip('curl is not installed here');
    const rev = JSON.parse((await sh('curl "$COUCH/$DB/token1"')).text)._rev as string;
    env.REV = rev;
    const stale = await sh(`curl -X PUT "$COUCH/$DB/token1" -d '{"type":"token","lock":1,"done":0}'`);
    assert.equal(stale.status, 409, 'no rev: conflict');
    const upd = await sh(`curl -X PUT "$COUCH/$DB/token1" -d "{\\"_rev\\":\\"$REV\\",\\"type\\":\\"token\\",\\"lock\\":1,\\"done\\":0}"`);
    assert.equal(upd.status, 201, upd.text);
    env.REV = JSON.parse(upd.text).rev;
    const del = await sh('curl -X DELETE "$COUCH/$DB/token1?rev=$REV"');
    assert.equal(del.status, 200, del.text);
    assert.equal((await sh('curl "$COUCH/$DB/token1"')).status, 404);
  });
});
