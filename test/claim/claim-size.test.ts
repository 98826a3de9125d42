import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimSizer } from '../../src/claim/claim-size.js';

test('ClaimSizer: the whole batch until a claim loses more than one token in twenty; then half, growing back by a quarter per clean claim', () => {
  const sizer = new ClaimSizer();
  assert.equal(sizer.size(50), 50);
  sizer.after(50, 0);
  assert.equal(sizer.size(50), 50, 'clean claims change nothing');
  sizer.after(50, 2);
  assert.equal(sizer.size(50), 50, 'losing 2 of 50 (4%) is tolerated');
  sizer.after(50, 3);
  assert.equal(sizer.size(50), 25, 'a claim that lost tokens halves the next');
  sizer.after(25, 2);
  assert.equal(sizer.size(50), 12);
  sizer.after(12, 0);
  assert.equal(sizer.size(50), 16, '12 x 1.25 + 1');
  sizer.after(16, 0);
  sizer.after(20, 1);
  assert.equal(sizer.size(50), 21, 'a tolerated loss neither shrinks nor grows it (16 x 1.25 + 1 = 21)');
  for (let i = 0; i < 20; i++) sizer.after(sizer.size(50), 0);
  assert.equal(sizer.size(50), 50, 'never beyond what is asked');
  assert.equal(sizer.size(3), 3);
  for (let i = 0; i < 10; i++) sizer.after(1, 1);
  assert.equal(sizer.size(50), 1, 'at least one');
  sizer.after(0, 0);
  assert.equal(sizer.size(50), 1, 'an empty claim says nothing');
});
