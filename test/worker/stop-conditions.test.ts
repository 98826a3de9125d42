import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { StopConditions, type StopConditionsOptions } from '../../src/worker/stop-conditions.js';

function conditions(extra: Partial<StopConditionsOptions> = {}) {
  const lines: string[] = [];
  let now = 0;
  const signal = new AbortController();
  const stops = new StopConditions({ signal: signal.signal, log: (l) => lines.push(l), now: () => now, ...extra });
  return { stops, lines, signal, advance: (ms: number) => { now += ms; } };
}

test('nothing set: the pilot goes on', async () => {
  const { stops } = conditions();
  assert.equal(await stops.shouldStop(), false);
  assert.equal(stops.reason, undefined);
});

test('maxTasks and maxTotalTime', async () => {
  const a = conditions({ maxTasks: 2 });
  a.stops.taskStarted();
  assert.equal(await a.stops.shouldStop(), false);
  a.stops.taskStarted();
  assert.equal(await a.stops.shouldStop(), true);
  assert.equal(a.stops.reason, 'maxTasks');
  const b = conditions({ maxTotalTimeMs: 1_000 });
  b.advance(999);
  assert.equal(await b.stops.shouldStop(), false);
  b.advance(1);
  assert.equal(await b.stops.shouldStop(), true);
  assert.equal(b.stops.reason, 'maxTotalTime');
});

test('a signal wins over everything and is kept; the first reason stays', async () => {
  const { stops, signal } = conditions({ maxTasks: 0 });
  signal.abort();
  assert.equal(await stops.shouldStop(), true);
  assert.equal(stops.reason, 'signal');
  stops.settle('empty');
  assert.equal(stops.reason, 'signal');
});

test('drain: by stop file, by signal, or from the database; said once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'picas-stopcond-'));
  const file = join(dir, 'stop');
  const drain = new AbortController();
  const { stops, lines } = conditions({ stopFile: file, drain: drain.signal });
  assert.equal(await stops.shouldStop(), false);
  writeFileSync(file, '');
  assert.equal(await stops.shouldStop(), true);
  assert.equal(stops.reason, 'drain');
  drain.abort();
  stops.startDrain('asked in the database');
  assert.equal(lines.length, 1, lines.join(' | '));
  assert.match(lines[0]!, /draining \(stop file/);
  const bySignal = conditions({ drain: drain.signal });
  assert.equal(await bySignal.stops.shouldStop(), true, 'an already aborted drain signal counts at once');
});

test('the caller\'s stop function', async () => {
  let done = false;
  const { stops } = conditions({ stop: async () => done });
  assert.equal(await stops.shouldStop(), false);
  done = true;
  assert.equal(await stops.shouldStop(), true);
  assert.equal(stops.reason, 'stop');
});
