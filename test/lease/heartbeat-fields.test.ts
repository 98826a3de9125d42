import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { runPilot } from '../../src/worker/run-pilot.js';
import { pilotIdentity } from '../../src/lease/pilot-identity.js';
import { heartbeatId, type HeartbeatDoc } from '../../src/lease/heartbeat.js';
import { setDrain } from '../../src/lease/control.js';
import { ensureDesignDocs, newToken } from '../../src/tokens/index.js';

/**
 * The heartbeat document tells people and the dashboard what a pilot does (docs/heartbeats.md): host,
 * batch job id, start time, last heartbeat, state, the tokens it runs with their start times, and how many
 * it finished.
 */
const ctx = useTestDb('heartbeat-fields');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a pilot\'s heartbeat: host, job, times, current tokens with start times, counts, and running -> draining -> stopped', { timeout: 90_000 }, async () => {
  const db = ctx.db;
  await ensureDesignDocs(db);
  await db.bulkDocs(['h0', 'h1', 'h2', 'h3'].map((_id) => newToken({ _id, input: 'work' })));
  const pilot = pilotIdentity({ SLURM_ARRAY_JOB_ID: '777', SLURM_ARRAY_TASK_ID: '4' });
  const seen: HeartbeatDoc[] = [];
  const before = Math.floor(Date.now() / 1000) - 5;
  let drained = false;
  const running = runPilot({
    processTask: async (token) => {
      // The second token fails; every token runs long enough for a renewal (lease 3 s: one a second).
      await sleep(2_200);
      return { exitCode: token._id === 'h1' ? 1 : 0 };
    },
  }, { db, pilot, leaseSeconds: 3, batchSize: 1 });
  // Read the document while the pilot works: at least one renewal per token.
  const watch = (async () => {
    for (let i = 0; i < 200; i++) {
      const doc = await db.find<HeartbeatDoc>(heartbeatId(pilot.pilotId));
      if (doc) seen.push(doc);
      if (doc?.state === 'stopped') return;
      // Once two tokens are finished, ask this pilot to drain (through its heartbeat document).
      if (!drained && (doc?.tokens_done ?? 0) + (doc?.tokens_failed ?? 0) >= 2) { drained = true; await setDrain(db, true, pilot.pilotId); }
      await sleep(250);
    }
  })();
  const summary = await running;
  await watch;
  const final = await db.get<HeartbeatDoc>(heartbeatId(pilot.pilotId));

  const busy = seen.find((d) => d.state === 'running' && (d.current?.length ?? 0) > 0)!;
  assert.ok(busy, 'seen running with a current token');
  assert.equal(busy.host, pilot.hostname);
  assert.equal(busy.job, '777_4');
  assert.ok(busy.started_at >= before && busy.renewed_at! >= busy.started_at);
  assert.equal(busy.current!.length, 1);
  assert.ok(['h0', 'h1', 'h2', 'h3'].includes(busy.current![0]!.id));
  assert.ok(busy.current![0]!.started_at >= busy.started_at);
  assert.deepEqual(busy.holding, [busy.current![0]!.id]);
  assert.ok(seen.some((d) => d.state === 'draining' && d.stopping_because === 'drain'), `seen draining: ${seen.map((d) => d.state).join(' ')}`);

  assert.equal(final.state, 'stopped');
  assert.equal(final.stopped, true);
  assert.equal(final.alive_until, 0);
  assert.deepEqual(final.current, []);
  assert.equal(final.tokens_done, summary.done);
  assert.equal(final.tokens_failed, summary.failed);
  assert.ok(summary.done + summary.failed >= 2 && summary.done + summary.failed < 4, `drained before the end: ${JSON.stringify(summary)}`);
  assert.equal(final.stopping_because, 'drain');
  assert.ok(final.renewed_at! >= busy.renewed_at!);
});
