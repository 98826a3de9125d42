import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { liveHolders, holderState } from '../../src/claim/live-holders.js';
import { Heartbeat } from '../../src/lease/heartbeat.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';

/** live-holders.ts reads heartbeat documents as the pilots' Heartbeat (src/lease/heartbeat.ts) writes them. */
const ctx = useTestDb('liveholders');

test('a pilot renewing its heartbeat is alive; once stopped it is not; one never seen is not', async () => {
  const db = ctx.db;
  const pilot = pilotIdentity();
  const beat = new Heartbeat(db, pilot, { leaseSeconds: 30 });
  await beat.start();
  try {
    const now = () => db.server.serverNow() / 1000;
    const states = await liveHolders(db, [pilot.pilotId, 'pilot_never_seen'], { leaseSeconds: 30, marginSeconds: 3, nowServer: now() });
    assert.equal(states.get(pilot.pilotId)?.alive, true);
    assert.equal(states.get(pilot.pilotId)?.host, pilot.hostname);
    assert.equal(states.get('pilot_never_seen')?.alive, false);
    // Seen from 20 s later without a renewal (more than 30/3 + 3): not alive.
    const later = await liveHolders(db, [pilot.pilotId], { leaseSeconds: 30, marginSeconds: 3, nowServer: now() + 20 });
    assert.equal(later.get(pilot.pilotId)?.alive, false);
  } finally {
    await beat.stop();
  }
  const after = await liveHolders(db, [pilot.pilotId], { leaseSeconds: 30, marginSeconds: 3, nowServer: db.server.serverNow() / 1000 });
  assert.equal(after.get(pilot.pilotId)?.alive, false, 'a stopped pilot is not alive');
});

test('holderState: the holder\'s own lease and renewal time, when written, win over the reader\'s lease', () => {
  const now = 1_000_000;
  const o = { leaseSeconds: 30, marginSeconds: 3, nowServer: now };
  assert.equal(holderState('p', { alive_until: now + 600 - 50, lease_seconds: 600 }, o).alive, true, 'renewed 50 s ago, 600 s lease (interval 200 s)');
  assert.equal(holderState('p', { alive_until: now + 600 - 50, lease_seconds: 600, renewed_at: now - 250 }, o).alive, false, 'renewed 250 s ago: more than 200 + 3');
  assert.equal(holderState('p', { alive_until: now + 30, renewed_at: now - 2 }, o).alive, true);
  assert.equal(holderState('p', { alive_until: now + 30, state: 'stopped' }, o).alive, false);
});
