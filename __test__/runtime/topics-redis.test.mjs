// Topics across processes on every runtime: two servers of the runtime under test share a Redis
// server (serve(app, { pubsub: createRedisBroker(...) })), clients on both.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RUNTIME, startRuntimeServer } from './harness.mjs';
import { RawClient, clientFrame, decodeFrame } from '../fixtures/node-helpers.mjs';
import { startRedis } from '../fixtures/redis.mjs';

const T = { timeout: 60_000 };

async function join(t, port, path) {
  const client = await RawClient.upgrade(t, port, path);
  assert.equal(await text(client), 'ready');
  client.received = [];
  return client;
}

async function text(client) {
  const frame = await client.frame();
  assert.equal(frame.opcode, 0x1);
  return frame.payload.toString('utf8');
}

/** Moves the complete frames `client` has into `client.received`. */
function drain(client) {
  for (let frame; client.length > 0 && (frame = decodeFrame(client.buffer)) !== null; ) {
    client.buffer = client.buffer.subarray(frame.size);
    client.received.push(frame.payload.toString('utf8'));
  }
}

/** Reads `client`'s messages into `client.received` until `done()`; false after `ms`. */
async function readFor(client, done, ms) {
  const deadline = Date.now() + ms;
  for (drain(client); !done(); drain(client)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Reads `client`'s messages into `client.received` until `done()`; fails after 20 s. */
async function readUntil(client, done) {
  if (!(await readFor(client, done, 20_000))) throw new Error(`timed out; received ${JSON.stringify(client.received)}`);
}

describe(`topics through Redis (${RUNTIME})`, () => {
  test('a publish on either server reaches the subscribers of both exactly once', T, async (t) => {
    const redis = await startRedis(t);
    const one = await startRuntimeServer(RUNTIME, { DALOY_REDIS_URL: redis.url });
    const two = await startRuntimeServer(RUNTIME, { DALOY_REDIS_URL: redis.url });
    t.after(() => Promise.all([one.stop(), two.stop()]));
    const a = await join(t, one.port, '/topic/scale?tag=a');
    const b = await join(t, two.port, '/topic/scale?tag=b');
    const c = await join(t, two.port, '/topic/scale?tag=c');
    // Until the second server's subscription reached Redis, a publish crosses to nobody: probe, again
    // every 250 ms (at most once: an early probe is simply lost).
    const deadline = Date.now() + 20_000;
    for (let i = 0; ; i++) {
      a.send(clientFrame(0x1, `publish-to scale probe-${i}`));
      if (await readFor(b, () => b.received.includes(`probe-${i}`), 250)) break;
      assert.ok(Date.now() < deadline, 'no probe crossed to the second server within 20 s');
    }
    a.send(clientFrame(0x1, 'publish-to scale from-one'));
    b.send(clientFrame(0x1, 'publish from-two'));
    await readUntil(a, () => a.received.includes('from-two'));
    await readUntil(b, () => b.received.includes('from-one') && b.received.some((m) => m.startsWith('after ')));
    await readUntil(c, () => c.received.includes('from-one') && c.received.includes('from-two'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const client of [a, b, c]) await readUntil(client, () => true);
    const count = (client, m) => client.received.filter((x) => x === m).length;
    assert.equal(count(a, 'from-one'), 1);
    assert.equal(count(a, 'from-two'), 1);
    assert.equal(count(b, 'from-one'), 1);
    assert.equal(count(b, 'from-two'), 0, 'conn.publish skips the sender, here and elsewhere');
    assert.equal(count(c, 'from-one'), 1);
    assert.equal(count(c, 'from-two'), 1);
    assert.deepEqual(b.received.filter((m) => m.startsWith('after ')), ['after 1']);
  });
});
