import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { IdlePolicy, type IdlePolicyOptions } from '../../src/worker/idle-policy.js';
import { runPilot } from '../../src/worker/run-pilot.js';
import { holderState } from '../../src/claim/live-holders.js';
import { heartbeatId } from '../../src/lease/heartbeat.js';
import { ensureDesignDocs, newToken, countStates, type Token } from '../../src/tokens/index.js';
import type { Database } from '../../src/couch/database.js';

/**
 * The idle policy decides what a pilot with nothing to claim does: end at once when every held token's
 * pilot is alive, wait (bounded, said once) for tokens of pilots that are not, put back claims whose answer
 * was lost, poll with --wait. Heartbeat documents here are written as src/lease/heartbeat.ts writes them.
 */
const ctx = useTestDb('idlepolicy');
let n = 0;
const LEASE = 30;
const MARGIN = 3;

async function freshDb(ids: string[]): Promise<Database> {
  const db = ctx.couch.db(`${ctx.db.name}-${n++}`);
  await db.create();
  await ensureDesignDocs(db);
  await db.bulkDocs(ids.map((id) => newToken({ _id: id })));
  return db;
}

/** Lock `id` under `pilot` with a lease from now. */
async function holdAs(db: Database, id: string, pilot: string, leaseFromNow = LEASE): Promise<void> {
  const now = Math.floor((await db.server.syncClock()) / 1000);
  const t = await db.get<Token>(id);
  await db.put({ ...t, lock: now, picas: { attempt: `attempt_${id}`, pilot, host: 'elsewhere', claimed_at: now, lease_until: now + leaseFromNow } });
}

/** A heartbeat renewed `ago` seconds ago (by the server's clock), as heartbeat.ts writes it. */
async function heartbeat(db: Database, pilot: string, ago: number, extra: Record<string, unknown> = {}): Promise<void> {
  const now = Math.ceil((await db.server.syncClock()) / 1000);
  await db.put({ _id: heartbeatId(pilot), type: 'picas-pilot', pilot, host: 'elsewhere', started_at: now - 100, alive_until: now - ago + LEASE, holding: [], ...extra });
}

function policy(db: Database, lines: string[], extra: Partial<IdlePolicyOptions> = {}): IdlePolicy {
  return new IdlePolicy(db, {
    pilotId: 'pilot_me', leaseSeconds: LEASE, marginSeconds: MARGIN, leaseWaitMs: 60_000, wait: false,
    knows: () => false, claimBusy: () => false, log: (l) => lines.push(l), ...extra,
  });
}

test('holderState: alive while renewed within lease/3 + margin; stopped or without heartbeat is not alive', () => {
  const now = 1_000_000;
  const o = { leaseSeconds: 30, marginSeconds: 3, nowServer: now };
  assert.equal(holderState('p', { alive_until: now + 30 - 12 }, o).alive, true, 'renewed 12 s ago (< 10 + 3)');
  assert.equal(holderState('p', { alive_until: now + 30 - 14 }, o).alive, false, 'renewed 14 s ago');
  assert.equal(holderState('p', { alive_until: now + 30, stopped: true }, o).alive, false);
  assert.equal(holderState('p', undefined, o).alive, false);
  // Its own lease and renewal time, when the document says them, win over the reader's lease.
  assert.equal(holderState('p', { alive_until: now + 600 - 50, lease_seconds: 600 }, o).alive, true);
  assert.equal(holderState('p', { alive_until: now + 600, renewed_at: now - 20 }, o).alive, false);
});

test('every held token belongs to a live pilot: end at once, without waiting for their leases', async () => {
  const db = await freshDb(['a', 'b']);
  try {
    await holdAs(db, 'a', 'pilot_busy');
    await holdAs(db, 'b', 'pilot_busy');
    await heartbeat(db, 'pilot_busy', 1);
    const lines: string[] = [];
    assert.deepEqual(await policy(db, lines).decide(), { kind: 'exit' });
    assert.match(lines.join('\n'), /2 held token\(s\) belong to live pilots/);
    // The whole pilot: nothing to claim, the holder alive: it ends without a word about waiting for leases.
    const logs: string[] = [];
    const summary = await runPilot({ processTask: () => ({ exitCode: 0 }) }, { db, leaseSeconds: LEASE, marginSeconds: MARGIN, leaseWaitMs: 20_000, log: (l) => logs.push(l) });
    assert.equal(summary.stoppedBy, 'empty');
    assert.equal(summary.claimed, 0);
    assert.doesNotMatch(logs.join('\n'), /waiting/, logs.join('\n'));
  } finally {
    await db.destroy();
  }
});

test('tokens of pilots not alive are waited for, said once with token, pilot and when it is free; live pilots\' tokens are not', async () => {
  const db = await freshDb(['live1', 'dead1', 'gone1']);
  try {
    await holdAs(db, 'live1', 'pilot_live');
    await heartbeat(db, 'pilot_live', 2);
    await holdAs(db, 'dead1', 'pilot_dead');
    await heartbeat(db, 'pilot_dead', 20); // renewed 20 s ago: more than 30/3 + 3
    await holdAs(db, 'gone1', 'pilot_nobeat'); // never wrote a heartbeat
    const lines: string[] = [];
    const p = policy(db, lines);
    const first = await p.decide();
    assert.equal(first.kind, 'wait');
    const second = await p.decide();
    assert.equal(second.kind, 'wait');
    assert.equal(lines.length, 1, `said once: ${lines.join(' | ')}`);
    assert.match(lines[0]!, /dead1 \(pilot_dead, free after \d\d:\d\d:\d\d UTC\)/);
    assert.match(lines[0]!, /gone1 \(pilot_nobeat, free after/);
    assert.doesNotMatch(lines[0]!, /live1/);
    // The wait is bounded per idle stretch.
    const bounded = policy(db, [], { leaseWaitMs: 1 });
    assert.equal((await bounded.decide()).kind, 'wait');
    assert.equal((await bounded.decide()).kind, 'exit');
  } finally {
    await db.destroy();
  }
});

test('a token held under this pilot\'s own name that it does not know is put back (a claim whose answer was lost)', async () => {
  const db = await freshDb(['orphan', 'known']);
  try {
    await holdAs(db, 'orphan', 'pilot_me');
    await holdAs(db, 'known', 'pilot_me');
    const lines: string[] = [];
    const busy = policy(db, lines, { claimBusy: () => true, knows: (id) => id === 'known' });
    assert.equal((await busy.decide()).kind, 'exit', 'not while a claim is on its way (its tokens are not known yet)');
    assert.deepEqual(await policy(db, lines, { knows: (id) => id === 'known' }).decide(), { kind: 'claim-again' });
    const counts = await countStates(db);
    assert.deepEqual([counts.todo, counts.locked], [1, 1], 'the orphan is back, the known token untouched');
  } finally {
    await db.destroy();
  }
});

test('with --wait: poll, said once per idle stretch', async () => {
  const db = await freshDb([]);
  try {
    const lines: string[] = [];
    const p = policy(db, lines, { wait: { pollMs: 10, maxPollMs: 50 } });
    for (let i = 0; i < 3; i++) {
      const d = await p.decide();
      assert.equal(d.kind, 'wait');
      assert.ok(d.kind === 'wait' && d.ms <= 50);
    }
    assert.equal(lines.length, 1);
    p.claimed();
    await p.decide();
    assert.equal(lines.length, 2, 'a new idle stretch says it again');
  } finally {
    await db.destroy();
  }
});

test('a holder that looks alive may have just died: where seeing it renew costs a few seconds, the pilot waits for that renewal before ending', async () => {
  const db = await freshDb(['a']);
  const pilot = 'pilot_quiet';
  const renew = async () => {
    const now = Math.ceil((await db.server.syncClock()) / 1000);
    const cur = await db.get<Record<string, unknown> & { _id: string }>(heartbeatId(pilot)).catch(() => undefined);
    await db.put({ ...(cur ?? {}), _id: heartbeatId(pilot), type: 'picas-pilot', pilot, host: 'elsewhere', started_at: now - 100, alive_until: now + 6, renewed_at: now, lease_seconds: 6, holding: [] });
  };
  const short = { leaseSeconds: 6, marginSeconds: 1 };
  try {
    await holdAs(db, 'a', pilot, 6);
    await renew();
    const p = policy(db, [], short);
    assert.equal((await p.decide()).kind, 'wait', 'not ended on one look at a heartbeat that may be its last');
    await new Promise((r) => setTimeout(r, 1_100));
    await renew();
    assert.deepEqual(await p.decide(), { kind: 'exit' }, 'the holder renewed: alive, the pilot ends');
    // The same holder silent from now on (a lost node): after the wait it is not alive, and its lease is waited for.
    const q = policy(db, [], short);
    const w = await q.decide();
    assert.equal(w.kind, 'wait');
    await new Promise((r) => setTimeout(r, (w as { ms: number }).ms));
    const after = await q.decide();
    assert.equal(after.kind, 'wait', 'a holder that did not renew is not trusted: its lease is waited for');
  } finally {
    await db.destroy();
  }
});
