import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { useTestDb } from '../helpers/couch.js';
import { cliEnv } from '../helpers/cli.js';
import { ensureDesignDocs, newToken } from '../../src/tokens/index.js';
import { CONTROL_DOC_ID } from '../../src/lease/heartbeat.js';
import { startDashboardCli } from './dashboard-cli.js';

const ctx = useTestDb('dashboard-sec');

const cookieOf = (res: Response): string => (res.headers.get('set-cookie') ?? '').split(';')[0]!;
const csrfOf = (html: string): string => /<meta name="csrf-token" content="([^"]+)">/.exec(html)![1]!;

test('on loopback: the page never holds the password; data-changing requests need the page\'s CSRF token and origin; other host names are refused', async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'one' }));
  const dash = await startDashboardCli(cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name }));
  try {
    const origin = new URL(dash.url).origin;
    const noSession = await fetch(`${origin}/api/status`);
    assert.equal(noSession.status, 401);
    const home = await fetch(dash.url);
    assert.equal(home.status, 200);
    assert.match(home.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
    assert.match(home.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const cookie = cookieOf(home);
    const html = await home.text();
    const csrf = csrfOf(html);
    const bodies = [html, await (await fetch(`${origin}/app.js`)).text(), await (await fetch(`${origin}/api/status`, { headers: { cookie } })).text()];
    for (const b of bodies) assert.ok(!b.includes(ctx.server.password), 'the CouchDB password is in no answer');
    const post = (headers: Record<string, string>) => fetch(`${origin}/api/actions/drain`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...headers }, body: '{}' });
    const noToken = await post({ origin });
    assert.equal(noToken.status, 403);
    assert.match((await noToken.json()).error, /CSRF/);
    assert.equal((await post({ origin: 'http://evil.example', 'x-csrf-token': csrf })).status, 403, 'another site, even with the token');
    assert.equal((await post({ origin, 'x-csrf-token': 'x'.repeat(csrf.length) })).status, 403, 'a wrong token');
    assert.equal(await ctx.db.find(CONTROL_DOC_ID), undefined, 'nothing was written by the refused requests');
    const ok = await post({ origin, 'x-csrf-token': csrf });
    assert.equal(ok.status, 200);
    assert.match((await ok.json()).message, /next lease renewal/);
    assert.equal((await ctx.db.get<{ _id: string; drain?: boolean }>(CONTROL_DOC_ID)).drain, true);
    // fetch() does not let a Host header be set: node:http does.
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(dash.url);
      http.get({ host: u.hostname, port: u.port, path: '/', headers: { host: `attacker.example:${u.port}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
    });
    assert.equal(rebound, 403, 'a DNS name pointed at 127.0.0.1 by someone else is refused');
  } finally {
    dash.child.kill('SIGTERM');
    await dash.child.result;
  }
});

test('with --login: a CouchDB user logs in (checked by the server) and the page acts as that user; wrong passwords and non-members are refused', async () => {
  await ensureDesignDocs(ctx.db);
  // Users of this test's own (never a wrong password for the admin: CouchDB locks the account).
  const member = `dash-member-${randomBytes(3).toString('hex')}`;
  const stranger = `dash-stranger-${randomBytes(3).toString('hex')}`;
  const password = randomBytes(9).toString('hex');
  const users = ctx.couch.db('_users');
  for (const name of [member, stranger]) await users.put({ _id: `org.couchdb.user:${name}`, name, password, roles: [], type: 'user' });
  const security = await ctx.db.getSecurity();
  await ctx.db.setSecurity({ ...security, members: { names: [...(security.members?.names ?? []), member], roles: security.members?.roles ?? [] } });
  const dash = await startDashboardCli(cliEnv(ctx.server, { PICAS_DATABASE: ctx.db.name, PICAS_USERNAME: '', PICAS_PASSWORD: '' }), ['--login']);
  try {
    const origin = new URL(dash.url).origin;
    const home = await fetch(dash.url, { redirect: 'manual' });
    assert.equal(home.status, 303);
    assert.equal(home.headers.get('location'), '/login');
    const login = (user: string, pw: string) => fetch(`${origin}/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ username: user, password: pw }).toString(),
    });
    const wrong = await login(member, `${password}-wrong`);
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /wrong user name or password/);
    const outsider = await login(stranger, password);
    assert.equal(outsider.status, 401);
    assert.match(await outsider.text(), new RegExp(`user ${stranger} may not read database`));
    const crossSite = await fetch(`${origin}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, body: new URLSearchParams({ username: member, password }).toString() });
    assert.equal(crossSite.status, 403);
    const ok = await login(member, password);
    assert.equal(ok.status, 303);
    const cookie = cookieOf(ok);
    const page = await fetch(dash.url, { headers: { cookie } });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.ok(!html.includes(password));
    const status = await (await fetch(`${origin}/api/status`, { headers: { cookie } })).json();
    assert.equal(status.user, member, 'the status was read as the logged-in user');
    // Acting as the member: a member may write tokens, so a reset works; the write is the member's own.
    await ctx.db.put(newToken({ _id: 'by-member' }));
    const res = await fetch(`${origin}/api/actions/delete`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, origin, 'x-csrf-token': csrfOf(html) }, body: JSON.stringify({ ids: ['by-member'] }) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).changed, 1);
    assert.equal(await ctx.db.find('by-member'), undefined);
  } finally {
    dash.child.kill('SIGTERM');
    await dash.child.result;
    for (const name of [member, stranger]) {
      const doc = await ctx.couch.db('_users').find(`org.couchdb.user:${name}`);
      if (doc?._rev) await ctx.couch.db('_users').remove(doc._id, doc._rev).catch(() => undefined);
    }
  }
});

test('the token browser pages through a state or an id prefix, one bounded read per page; the token view escapes nothing itself but sends text', async () => {
  const db = ctx.couch.db(`${ctx.db.name}-browse`);
  await db.create();
  try {
    await ensureDesignDocs(db);
    await db.bulkDocs([...Array.from({ length: 5 }, (_, i) => newToken({ _id: `run3_${i}` })), ...Array.from({ length: 3 }, (_, i) => newToken({ _id: `run4_${i}` })), newToken({ _id: 'x<b>y</b>', input: '<i>hi</i>' })]);
    const dash = await startDashboardCli(cliEnv(ctx.server, { PICAS_DATABASE: db.name }));
    try {
      const origin = new URL(dash.url).origin;
      const cookie = cookieOf(await fetch(dash.url));
      const get = async (q: string) => (await fetch(`${origin}/api/tokens?${q}`, { headers: { cookie } })).json();
      const ids: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await get(new URLSearchParams({ state: 'todo', prefix: 'run3_', limit: '2', ...(after ? { after } : {}) }).toString());
        ids.push(...page.tokens.map((t: { id: string }) => t.id));
        if (!page.next) break;
        after = page.next;
      }
      assert.deepEqual(ids, ['run3_0', 'run3_1', 'run3_2', 'run3_3', 'run3_4']);
      assert.deepEqual((await get('prefix=run4_')).tokens.map((t: { id: string }) => t.id), ['run4_0', 'run4_1', 'run4_2']);
      const bad = await fetch(`${origin}/api/tokens?state=finished`, { headers: { cookie } });
      assert.equal(bad.status, 400);
      const detail = await (await fetch(`${origin}/api/token?id=${encodeURIComponent('x<b>y</b>')}`, { headers: { cookie } })).json();
      assert.equal(detail.doc.input, '<i>hi</i>', 'raw text in JSON; the page puts it in with textContent');
      const missing = await fetch(`${origin}/api/token?id=nope`, { headers: { cookie } });
      assert.equal(missing.status, 400);
      assert.match((await missing.json()).error, /no token "nope"/);
    } finally {
      dash.child.kill('SIGTERM');
      await dash.child.result;
    }
  } finally {
    await db.destroy();
  }
});
