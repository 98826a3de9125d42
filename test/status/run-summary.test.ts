import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunSummary } from '../../src/status/run-summary.js';

const stream = (isTTY: boolean, written: string[]) => ({ isTTY, write: (s: string) => { written.push(s); return true; } }) as unknown as NodeJS.WriteStream;

test('picas run on a terminal: one live summary line, other messages above it, per-token lines only with -v', () => {
  const written: string[] = [];
  const s = new RunSummary({ stream: stream(true, written) });
  s.tokenStarted('a');
  s.tokenStarted('b');
  s.log('a: done');
  s.tokenEnded('a', 'done');
  s.log('b: exit code 3');
  s.tokenEnded('b', 'failed');
  s.log('draining (asked in the database): finishing current tokens, claiming no more');
  s.stop();
  const screen = written.join('');
  assert.doesNotMatch(screen, /a: done/, 'per-token lines hidden without -v');
  assert.match(screen, /\r\x1b\[Kdraining \(asked in the database\)/, 'other messages printed over the live line');
  assert.match(screen, /1 done, 1 failed, 0 running, [\d.]+ tokens\/min, \S+\n$/, 'the last state stays');
  const verbose: string[] = [];
  const v = new RunSummary({ stream: stream(true, verbose), verbose: true });
  v.log('a: done');
  v.stop();
  assert.match(verbose.join(''), /a: done\n/);
});

test('picas run in a log file: every line as it comes, and a summary line every interval', async () => {
  const written: string[] = [];
  const s = new RunSummary({ stream: stream(false, written), intervalMs: 50 });
  s.tokenStarted('a');
  s.log('a: done');
  s.tokenEnded('a', 'done');
  await new Promise((r) => setTimeout(r, 130));
  s.stop();
  assert.equal(written[0], 'a: done\n');
  assert.ok(written.slice(1).every((l) => /^summary: 1 done, 0 failed, 0 running, /.test(l)) && written.length >= 2, JSON.stringify(written));
  assert.ok(!written.some((l) => l.includes('\r')), 'no terminal control in a log file');
});
