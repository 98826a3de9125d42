import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkPace } from '../../src/worker/work-pace.js';

/** WorkPace decides how many tokens a pilot claims and how many unstarted ones it keeps; the clock is the test's. */
function paced(slots: number, maxBatch = 10) {
  let now = 0;
  const pace = new WorkPace({ slots, maxBatch, batchSeconds: 2, now: () => now });
  const run = (slot: number, ms: number) => { pace.started(slot); now += ms; pace.ended(slot); };
  return { pace, run, advance: (ms: number) => { now += ms; } };
}

test('before any token ended: one token per slot; no limit on what is kept', () => {
  const { pace } = paced(4);
  assert.equal(pace.claimSize(), 4);
  assert.equal(pace.keepUnstarted(), Number.POSITIVE_INFINITY);
});

test('short tokens: large claims (up to the batch); a long token changes the estimate at once', () => {
  const { pace, run } = paced(1);
  for (let i = 0; i < 8; i++) run(0, 100);
  assert.equal(pace.claimSize(), 10, '2 s of 0.1 s tokens is 20, capped at the batch');
  run(0, 5_000);
  assert.equal(pace.estimateMs(), 5_000, 'the last token counts in full');
  assert.equal(pace.claimSize(), 1);
  assert.equal(pace.keepUnstarted(), 0);
});

test('a running token longer than the estimate lowers what is kept before it ends', () => {
  const { pace, run, advance } = paced(1);
  for (let i = 0; i < 8; i++) run(0, 100);
  pace.started(0);
  assert.ok(pace.keepUnstarted() >= 10);
  advance(500);
  assert.equal(pace.keepUnstarted(), 4, '2 s / 0.5 s so far');
  advance(1_600);
  assert.equal(pace.keepUnstarted(), 0, 'running 2.1 s: nothing it holds would start within 2 s');
});

test('mixed durations over several slots: slots busy with long tokens count for little, idle ones in full', () => {
  const { pace, run, advance } = paced(4);
  for (let i = 0; i < 8; i++) run(i % 4, 200);
  pace.started(0);
  pace.started(1);
  advance(10_000);
  // Two slots on 10 s tokens (0.2 starts each), two free slots at 0.2 s per token (10 each).
  assert.equal(pace.keepUnstarted(), 20);
  assert.equal(pace.claimSize(), 10);
  pace.ended(0, false);
  assert.equal(pace.estimateMs(), 200, 'a stopped token says nothing of durations');
});
