// lib/node/read-clock.js: the reads of one turn of Node's loop share one Date.now(), and the next
// turn takes a new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';

const require = createRequire(import.meta.url);
const { readTime } = require('../lib/node/read-clock.js');

function spin(ms) {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

test('readTime: one Date.now() for a turn of the loop, a new one after its check phase', async () => {
  await nextTurn();
  const before = Date.now();
  const first = readTime();
  assert.ok(first >= before);
  spin(5);
  assert.equal(readTime(), first, 'a second read in the same turn took the time again');
  await nextTurn();
  spin(2);
  const later = readTime();
  assert.ok(later >= first + 7, `the next turn reused the time (${later - first} ms apart)`);
});
