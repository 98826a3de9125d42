import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { ownServerSkipReason } from '../helpers/couch.js';
import { useOwnServer } from './fixture.js';

describe('embedded server _changes feeds', { skip: ownServerSkipReason() }, () => {
  const s = useOwnServer();

  it('longpoll with nothing new returns within timeout + 1 s', async () => {
    await s.req('PUT', '/lp');
    await s.req('PUT', '/lp/a', { body: {} });
    // The request is aborted at timeout + 1 s: an answer must come before.
    const r = await s.req('GET', '/lp/_changes?feed=longpoll&since=now&timeout=1000', { timeoutMs: 2000 });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results, []);
    assert.ok(r.body.last_seq !== undefined);
  });

  it('longpoll wakes on a change', async () => {
    await s.req('PUT', '/lp2');
    const since = (await s.req('GET', '/lp2/_changes')).body.last_seq;
    const waiting = s.req('GET', `/lp2/_changes?feed=longpoll&since=${since}&timeout=20000`, { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 200));
    await s.req('PUT', '/lp2/woken', { body: {} });
    const r = await waiting;
    assert.equal(r.body.results[0].id, 'woken');
  });

  it('a continuous feed to a client accepting gzip delivers each change within 1 s', async () => {
    await s.req('PUT', '/cont');
    const u = new URL(`${s.url}/cont/_changes?feed=continuous&since=now&heartbeat=500`);
    const auth = Buffer.from(`${s.admin.username}:${s.admin.password}`).toString('base64');
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(u, { headers: { authorization: `Basic ${auth}`, 'accept-encoding': 'gzip, deflate' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
    const lines = createInterface({ input: body });
    const seen: string[] = [];
    let wake: (() => void) | undefined;
    lines.on('line', (line) => { if (line.trim()) { seen.push(JSON.parse(line).id); wake?.(); } });
    try {
      for (let i = 0; i < 5; i++) {
        const id = `c${i}`;
        await s.req('PUT', `/cont/${id}`, { body: { i } });
        const arrived = await new Promise<boolean>((resolve) => {
          if (seen.includes(id)) return resolve(true);
          const timer = setTimeout(() => resolve(false), 1000);
          wake = () => { if (seen.includes(id)) { clearTimeout(timer); resolve(true); } };
        });
        assert.ok(arrived, `change ${id} did not arrive within 1 s (got ${seen.join(',')})`);
      }
    } finally {
      res.destroy();
    }
    await s.alive();
  });

  it('a continuous feed ends after timeout with last_seq', async () => {
    await s.req('PUT', '/cont2');
    const r = await s.req('GET', '/cont2/_changes?feed=continuous&timeout=300', { timeoutMs: 5000 });
    assert.equal(r.status, 200);
    assert.match(typeof r.body === "string" ? r.body : JSON.stringify(r.body), /"last_seq"/);
  });
});
