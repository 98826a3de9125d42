import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { startHttpProxy } from '../helpers/http-proxy.js';
import { CouchServer } from '../../src/couch/server.js';
import { claimToken } from '../../src/claim/claim.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { ensureDesignDocs, newToken } from '../../src/tokens/index.js';
import { Heartbeat, heartbeatId, type HeartbeatDoc } from '../../src/lease/heartbeat.js';

const ctx = useTestDb('server-clock');
const SKEW_S = 3 * 3600;

/** A real loopback proxy to the test server whose answers carry a Date header three hours ahead. */
const skewedProxy = (target: string) => startHttpProxy(target, { headers: (h) => ({ ...h, date: new Date(Date.now() + SKEW_S * 1000).toUTCString() }) });

test('lease times come from the server\'s Date header, not from this node\'s clock', async () => {
  await ensureDesignDocs(ctx.db);
  await ctx.db.put(newToken({ _id: 'clocked' }));
  const proxy = await skewedProxy(ctx.server.url);
  const couch = new CouchServer({ url: proxy.url, username: ctx.server.username, password: ctx.server.password });
  after(async () => { await couch.close(); await proxy.close(); });
  const db = couch.db(ctx.db.name);
  await couch.syncClock();
  const pilot = pilotIdentity();
  const token = (await claimToken(db, { pilot, leaseSeconds: 60 }))!;
  const localNow = Date.now() / 1000;
  assert.ok(Math.abs(token.picas.claimed_at - (localNow + SKEW_S)) < 5, `claimed_at ${token.picas.claimed_at} is server time`);
  assert.ok(Math.abs(token.picas.lease_until - (localNow + SKEW_S + 60)) < 5);
  const hb = new Heartbeat(db, pilot, { leaseSeconds: 60 });
  await hb.start();
  await hb.stop();
  const beat = await ctx.db.get<HeartbeatDoc>(heartbeatId(pilot.pilotId));
  assert.ok(beat.started_at > localNow + SKEW_S - 5, 'heartbeat written in server time');
  // The local deadline is the lease length from now, whatever the skew.
  assert.ok(Math.abs(hb.deadlineLocalMs - (Date.now() + 60_000)) < 5_000, `deadline ${hb.deadlineLocalMs - Date.now()} ms from now`);
});
