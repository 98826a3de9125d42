import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutageNotice } from '../../src/worker/outage-notice.js';

test('an outage is said once, with how long and until when; a retry after a calm is a new outage', () => {
  let now = Date.parse('2026-01-01T10:00:00Z');
  const lines: string[] = [];
  const notice = new OutageNotice(600_000, (l) => lines.push(l), { quietMs: 30_000, now: () => now });
  for (let i = 0; i < 20; i++) { notice.onRetry(new Error('GET x: unreachable')); now += 5_000; }
  assert.equal(lines.length, 1);
  assert.equal(lines[0], 'GET x: unreachable; waiting for the server: retrying for up to 600 s (until 10:10:00 UTC), then giving up (--outage-patience)');
  now += 60_000;
  notice.onRetry(new Error('GET y: 503'));
  assert.equal(lines.length, 2);
});
