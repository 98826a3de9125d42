import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDb } from '../helpers/couch.js';
import { waitFor } from '../helpers/cli.js';
import { newToken, lockToken, markDone, attachLogs, type Token } from '../../src/tokens/index.js';
import { heartbeatId, type HeartbeatDoc } from '../../src/lease/heartbeat.js';
import { followLogs, followRequests, LogPublisher, logDocId } from '../../src/status/log-follow.js';

const ctx = useTestDb('log-follow');

test('following a running token: the follower asks through the pilot\'s heartbeat, the pilot publishes a bounded tail only then, the rest comes from the logs at the end', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = { ...lockToken(newToken({ _id: 'long-1', input: 'simulate' }), { now }), picas: { attempt: 'a1', pilot: 'p1', host: 'h', claimed_at: now, lease_until: now + 300 } } as Token;
  await ctx.db.put(token);
  await ctx.db.put({ _id: heartbeatId('p1'), type: 'picas-pilot', pilot: 'p1', host: 'h', started_at: now, alive_until: now + 300, holding: ['long-1'] });
  const publisher = new LogPublisher(ctx.db, { intervalMs: 100 });
  publisher.started('long-1', 'a1');
  publisher.output('long-1', 'stdout', Buffer.from('step 1\n'));
  // Nobody follows yet: nothing is written.
  await publisher.publish();
  assert.equal(await ctx.db.find(logDocId('long-1')), undefined);

  let out = '';
  let err = '';
  const notes: string[] = [];
  const following = followLogs(ctx.db, await ctx.db.get<Token>('long-1'), {
    intervalMs: 100, maxMs: 60_000,
    write: (stream, text) => { if (stream === 'stdout') out += text; else err += text; },
    note: (line) => notes.push(line),
  });
  // The pilot sees the request at its next renewal (here: read its heartbeat as a renewal would).
  assert.ok(await waitFor(async () => followRequests(await ctx.db.get<HeartbeatDoc>(heartbeatId('p1')), now).has('long-1'), 10_000));
  publisher.setRequests(followRequests(await ctx.db.get<HeartbeatDoc>(heartbeatId('p1')), now));
  assert.ok(await waitFor(() => out === 'step 1\n', 10_000), `follower printed ${JSON.stringify(out)}`);
  publisher.output('long-1', 'stdout', Buffer.from('step 2\n'));
  publisher.output('long-1', 'stderr', Buffer.from('warning: slow\n'));
  assert.ok(await waitFor(() => out === 'step 1\nstep 2\n' && err === 'warning: slow\n', 10_000), `follower printed ${JSON.stringify(out)}`);
  // The command ends: its logs are attached, the live document goes, the follower prints the rest and ends.
  publisher.output('long-1', 'stdout', Buffer.from('step 3\n'));
  const current = await ctx.db.get<Token>('long-1');
  await ctx.db.put({ ...markDone(attachLogs(current, 'step 1\nstep 2\nstep 3\n', 'warning: slow\n'), now + 5), exit_code: 0 });
  await publisher.ended('long-1');
  publisher.stop();
  await following;
  assert.equal(out, 'step 1\nstep 2\nstep 3\n', 'every line once, in order');
  assert.equal(err, 'warning: slow\n');
  assert.match(notes.join('\n'), /following long-1 on pilot p1/);
  assert.match(notes.at(-1)!, /token long-1 is done \(exit code 0\)/);
  assert.equal(await ctx.db.find(logDocId('long-1')), undefined, 'the live document is removed when the command ends');
});

test('a token nobody follows is never published', async () => {
  const publisher = new LogPublisher(ctx.db, { intervalMs: 50 });
  publisher.started('quiet-1');
  for (let i = 0; i < 100; i++) publisher.output('quiet-1', 'stdout', Buffer.from(`line ${i}\n`));
  publisher.setRequests(new Map());
  await publisher.publish();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await ctx.db.find(logDocId('quiet-1')), undefined);
  await publisher.ended('quiet-1');
  publisher.stop();
});

test('a command that ends while its output is being published leaves no live document (CI failure: the removal lost to the write in flight)', async () => {
  for (let i = 0; i < 5; i++) {
    const id = `race-${i}`;
    const publisher = new LogPublisher(ctx.db, { intervalMs: 60_000 });
    publisher.started(id, 'a1');
    publisher.output(id, 'stdout', Buffer.from('one\n'));
    publisher.setRequests(new Map([[id, Math.floor(Date.now() / 1000) + 600]]));
    await publisher.publish();
    assert.ok(await ctx.db.find(logDocId(id)), 'published while followed');
    publisher.output(id, 'stdout', Buffer.from('two\n'));
    const inFlight = publisher.publish();
    await publisher.ended(id);
    await inFlight;
    publisher.stop();
    assert.equal(await ctx.db.find(logDocId(id)), undefined, `round ${i}: the live document is removed`);
  }
});
