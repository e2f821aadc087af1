// Topics on every runtime (scripts/runtimes.sh runs this against Node, Bun, Deno and Bun's
// node:http): subscribe/unsubscribe/publish through the routes of topic-routes.mjs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RUNTIME, startRuntimeServer } from './harness.mjs';
import { RawClient, clientFrame } from '../fixtures/node-helpers.mjs';

const T = { timeout: 20_000 };
// Bun publishes natively and queues to a slow subscriber (the README lists it): a route's
// backpressure limit reaches a subscriber at its own sends, not at a publish.
const NATIVE_PUBLISH = RUNTIME === 'bun';

let server;
before(async () => {
  server = await startRuntimeServer();
});
after(async () => {
  await server?.stop();
});

/** A client on `path`, past the route's "ready" greeting. */
async function join(t, path) {
  const client = await RawClient.upgrade(t, server.port, path);
  assert.equal(await text(client), 'ready');
  return client;
}

async function data(client) {
  for (;;) {
    const frame = await client.frame();
    if (frame.opcode === 0x1) return frame.payload.toString('utf8');
    if (frame.opcode === 0x2) return frame.payload;
    if (frame.opcode === 0x8) throw new Error(`closed: ${frame.payload.readUInt16BE(0)}`);
  }
}

async function text(client) {
  const value = await data(client);
  assert.equal(typeof value, 'string', `expected a TEXT message, got BINARY ${value.toString()}`);
  return value;
}

function command(client, line) {
  client.send(clientFrame(0x1, line));
}

/** Asks the server how many subscribers `topic` has, through `client`. */
async function count(client, topic) {
  command(client, `count ${topic}`);
  const answer = await text(client);
  return Number(answer.slice('count '.length));
}

describe(`topics (${RUNTIME})`, () => {
  test('conn.publish reaches every subscriber but the sender; send and publish keep their order', T, async (t) => {
    const a = await join(t, '/topic/order?tag=a');
    const b = await join(t, '/topic/order?tag=b');
    const c = await join(t, '/topic/order?tag=c');
    assert.equal(await count(a, 'order'), 3);
    command(a, 'publish hello');
    assert.deepEqual([await text(a), await text(a)], ['before', 'after 2']);
    assert.equal(await text(b), 'hello');
    assert.equal(await text(c), 'hello');
    command(b, 'publish-binary bytes');
    const binary = await data(c);
    assert.ok(Buffer.isBuffer(binary));
    assert.equal(binary.toString(), 'bytes');
    assert.equal((await data(a)).toString(), 'bytes');
  });

  test('server.publish and app.publish reach the sender too, between its sends in call order', T, async (t) => {
    const a = await join(t, '/topic/both?tag=a');
    const b = await join(t, '/topic/both?tag=b');
    command(a, 'server-publish');
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await data(a));
    assert.deepEqual(seen.map(String), ['s1', 'p1', 's2', 'p2', 's3 2 2']);
    assert.equal(await text(b), 'p1');
    const p2 = await data(b);
    assert.ok(Buffer.isBuffer(p2), 'bytes are published as BINARY');
    assert.equal(p2.toString(), 'p2');
  });

  test('subscriptions, isSubscribed and unsubscribe; a topic nobody holds counts 0', T, async (t) => {
    const a = await join(t, '/topic/subs?tag=a');
    command(a, 'subscriptions');
    assert.deepEqual(JSON.parse(await text(a)), { subscriptions: ['subs'], subscribed: true });
    command(a, 'unsubscribe');
    assert.equal(await text(a), 'unsubscribed false');
    assert.equal(await count(a, 'subs'), 0);
    command(a, 'publish-to subs nobody');
    assert.equal(await text(a), 'published 0');
    command(a, 'subscriptions');
    assert.deepEqual(JSON.parse(await text(a)), { subscriptions: [], subscribed: false });
  });

  test('an unsubscribe between two publishes: the first reaches the subscriber, the second does not', T, async (t) => {
    const a = await join(t, '/topic/between?tag=between-a');
    const b = await join(t, '/topic/between?tag=between-b');
    command(a, 'unsubscribe-between between-b');
    assert.deepEqual([await text(a), await text(a), await text(a)], ['one', 'two', 'between 2 1']);
    assert.equal(await text(b), 'one');
    command(b, 'subscriptions');
    assert.deepEqual(JSON.parse(await text(b)), { subscriptions: [], subscribed: false });
  });

  test('a closing or closed subscriber leaves all its topics once its close handler has run', T, async (t) => {
    const a = await join(t, '/topic/closing?tag=closing-a');
    const b = await join(t, '/topic/closing?tag=closing-b&announce=1');
    const c = await join(t, '/topic/closing?tag=closing-c&announce=1');
    command(b, 'close-me');
    assert.deepEqual(await server.next('topic-close', ([tag]) => tag === 'closing-b'), ['closing-b', 4001, 1]);
    assert.equal(await text(a), 'left closing-b', "conn.publish from b's close handler");
    c.socket.destroy();
    assert.deepEqual(await server.next('topic-close', ([tag]) => tag === 'closing-c'), ['closing-c', 1006, 1]);
    assert.equal(await text(a), 'left closing-c', 'and from a connection that dropped');
    assert.equal(await count(a, 'closing'), 1);
    command(a, 'publish-to closing still');
    assert.equal(await text(a), 'still');
    assert.equal(await text(a), 'published 1');
  });

  test('bad topic input gets a TypeError or RangeError naming the method; 1024 bytes is allowed', T, async (t) => {
    const a = await join(t, '/topic/bad?tag=bad');
    command(a, 'bad-topics');
    const { results, subscriptions } = JSON.parse(await text(a));
    assert.deepEqual(results, [
      'TypeError: subscribe(): topic must be a string (got number)',
      'RangeError: subscribe(): topic must not be empty',
      'RangeError: subscribe(): topic must be at most 1024 bytes of UTF-8',
      'RangeError: subscribe(): topic must be at most 1024 bytes of UTF-8',
      'TypeError: subscribe(): topic must be well-formed Unicode (it has a lone surrogate)',
      'TypeError: publish(): topic must be a string (got null)',
      'TypeError: publish() expects a string, an ArrayBuffer or an ArrayBuffer view',
      'TypeError: subscriberCount(): topic must be a string (got undefined)',
    ]);
    assert.equal(subscriptions, 2);
  });

  test('hostile: 100,000 subscribes stop at maxTopicsPerConnection with a RangeError; memory stays bounded', T, async (t) => {
    const a = await join(t, '/topic/hostile?tag=hostile');
    for (let round = 0; round < 3; round++) {
      command(a, 'subscribe-flood');
      assert.equal(
        await text(a),
        'error RangeError: subscribe(): a connection may subscribe to at most 1024 topics (maxTopicsPerConnection)',
      );
    }
    command(a, 'subscriptions');
    assert.equal(JSON.parse(await text(a)).subscriptions.length, 1024);
    assert.equal(await count(a, 'flood-1022'), 1);
    assert.equal(await count(a, 'flood-1023'), 0);
    command(a, 'huge-topic');
    assert.equal(await text(a), 'error RangeError: publish(): topic must be at most 1024 bytes of UTF-8');
    // The connection still works, and closing it releases every topic.
    a.socket.destroy();
    await server.next('topic-close', ([tag]) => tag === 'hostile');
    const b = await join(t, '/topic/probe?tag=probe');
    assert.equal(await count(b, 'flood-0'), 0);
  });

  test('a subscriber that stops reading is closed with 1009 at its backpressure limit', T, async (t) => {
    const slow = await join(t, '/topic-slow-close?tag=slow-close');
    slow.socket.pause();
    const publisher = await join(t, '/topic/publisher?tag=publisher-close&subscribe=no');
    command(publisher, 'flood topic-slow-close');
    const [, delivered, sent, left] = await server.next('flood-done', ([topic]) => topic === 'topic-slow-close');
    if (NATIVE_PUBLISH) {
      assert.equal(delivered, sent);
      assert.equal(left, 1);
      return;
    }
    assert.deepEqual(await server.next('topic-close', ([tag]) => tag === 'slow-close'), ['slow-close', 1009, 1]);
    assert.ok(delivered < sent, `delivered ${delivered} of ${sent}`);
    assert.equal(left, 0);
  });

  test('with closeOnBackpressureLimit false, a slow subscriber is skipped, stays subscribed, and reads whole frames', T, async (t) => {
    const slow = await join(t, '/topic-slow-skip?tag=slow-skip');
    slow.socket.pause();
    const publisher = await join(t, '/topic/publisher?tag=publisher-skip&subscribe=no');
    command(publisher, 'flood topic-slow-skip');
    const [, delivered, sent, left] = await server.next('flood-done', ([topic]) => topic === 'topic-slow-skip');
    assert.equal(left, 1);
    if (NATIVE_PUBLISH) assert.equal(delivered, sent);
    else assert.ok(delivered < sent, `delivered ${delivered} of ${sent}`);
    // What was queued arrives whole, and nothing skipped comes after it.
    slow.socket.resume();
    for (let i = 0; i < delivered; i++) assert.equal((await data(slow)).length, 64 * 1024);
    command(publisher, 'publish-to topic-slow-skip end');
    assert.equal(await text(publisher), 'published 1');
    assert.equal(await data(slow), 'end');
  });
});
