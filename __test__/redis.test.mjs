// Scale-out through a real Redis: examples/chat-cluster.mjs run as several processes on their own
// ports against one Redis server (PUB/SUB) or a 3-node Redis Cluster (sharded pub/sub), clients on
// each, every message counted at every client. And the broker itself: its own publishes, foreign
// messages, Redis going away and coming back.
import { test, describe } from 'node:test';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { cleanup, connect, captureLogger, until } from './fixtures/node-helpers.mjs';
import { startRedis, startRedisCluster, redisCli } from './fixtures/redis.mjs';
import { startExample } from './fixtures/example-process.mjs';
import { App } from '../index.js';
import { serve } from '../node.js';
import { createRedisBroker } from '../redis.js';
import { createClient } from '@redis/client';

const T = { timeout: 60_000 };

/** Starts examples/chat-cluster.mjs with `args`; resolves once it printed its address. */
function startChat(t, args) {
  return startExample(t, 'chat-cluster.mjs', ['--port', '0', '--host', '127.0.0.1', ...args], /^listening on ws:\/\/127\.0\.0\.1:(\d+)$/m);
}

/** A client of `room` on `port` that records every text message it receives. */
async function member(t, port, room, name) {
  const ws = await connect(t, `ws://127.0.0.1:${port}/chat/${room}`);
  ws.name = name;
  ws.received = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) ws.received.push(data.toString());
  });
  return ws;
}

function countOf(ws, text) {
  return ws.received.filter((m) => m === text).length;
}

/**
 * Waits until a probe sent by every member reaches every member: each process has then
 * subscribed its room's channel (a subscription takes a round trip to Redis). Probes are resent
 * until they arrive, since at most once means a probe sent too early is simply lost.
 */
async function settle(members, tag) {
  const deadline = Date.now() + 20_000;
  for (let round = 0; ; round++) {
    const probes = members.map((m) => `${tag}-probe-${m.name}-${round}`);
    for (const [i, m] of members.entries()) m.send(probes[i]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    if (members.every((m) => probes.every((p) => countOf(m, p) === 1))) return round + 1;
    if (Date.now() > deadline) throw new Error(`${tag}: probes never crossed every process`);
  }
}

/** Every member sends `perMember` messages; every member must receive each exactly once. */
async function exchange(members, tag, perMember) {
  const sent = [];
  for (let i = 0; i < perMember; i++) {
    for (const m of members) {
      const text = `${tag}-${m.name}-${i}`;
      sent.push(text);
      m.send(text);
    }
  }
  await until(() => members.every((m) => sent.every((text) => countOf(m, text) >= 1)));
  // A duplicate would arrive right behind the original: give it the time to.
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const m of members) {
    for (const text of sent) assert.equal(countOf(m, text), 1, `${m.name} got ${text} ${countOf(m, text)} times`);
  }
  return sent.length;
}

function noDuplicates(members) {
  for (const m of members) {
    const seen = new Set();
    for (const text of m.received) {
      assert.ok(!seen.has(text), `${m.name} received ${text} twice`);
      seen.add(text);
    }
  }
}

describe('scale-out through Redis PUB/SUB (examples/chat-cluster.mjs)', () => {
  test('two processes: a message reaches every member of the room on both exactly once, and no other room', T, async (t) => {
    const redis = await startRedis(t);
    const [p1, p2] = [await startChat(t, ['--redis', redis.url]), await startChat(t, ['--redis', redis.url])];
    const members = [await member(t, p1.port, 'lobby', 'a1'), await member(t, p1.port, 'lobby', 'a2'), await member(t, p2.port, 'lobby', 'b1'), await member(t, p2.port, 'lobby', 'b2')];
    const elsewhere = await member(t, p2.port, 'kitchen', 'k1');
    await settle(members, 'two');
    assert.equal(await exchange(members, 'two', 5), 20);
    assert.deepEqual(elsewhere.received, []);
    noDuplicates(members);
  });

  test('three processes: every publish on any process reaches every subscriber exactly once', T, async (t) => {
    const redis = await startRedis(t);
    const procs = [];
    for (let i = 0; i < 3; i++) procs.push(await startChat(t, ['--redis', redis.url]));
    const members = [];
    for (const [i, p] of procs.entries()) {
      members.push(await member(t, p.port, 'hall', `p${i}a`), await member(t, p.port, 'hall', `p${i}b`));
    }
    await settle(members, 'three');
    assert.equal(await exchange(members, 'three', 5), 30);
    noDuplicates(members);
  });

  test('Redis killed and restarted: local delivery goes on, remote delivery resumes, no crash, no duplicate', T, async (t) => {
    const redis = await startRedis(t);
    const p1 = await startChat(t, ['--redis', redis.url]);
    const p2 = await startChat(t, ['--redis', redis.url]);
    const a1 = await member(t, p1.port, 'ops', 'a1');
    const a2 = await member(t, p1.port, 'ops', 'a2');
    const b1 = await member(t, p2.port, 'ops', 'b1');
    const members = [a1, a2, b1];
    await settle(members, 'before');
    await exchange(members, 'before', 3);

    await redis.stop('SIGKILL');
    const killedAt = Date.now();
    a1.send('during-1');
    b1.send('during-2');
    await until(() => countOf(a2, 'during-1') === 1 && countOf(b1, 'during-2') === 1);
    assert.equal(countOf(a1, 'during-1'), 1, 'the sender hears its own message locally');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(countOf(b1, 'during-1'), 0, 'nothing crossed while Redis was down');
    assert.equal(countOf(a1, 'during-2'), 0);
    // Long enough for several failed reconnection attempts; publishes keep flowing locally.
    for (let i = 3; i < 8; i++) {
      a2.send(`during-${i}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await until(() => countOf(a1, 'during-7') === 1);
    for (let i = 3; i < 8; i++) assert.equal(countOf(b1, `during-${i}`), 0);
    t.diagnostic(`during the outage: local delivery on both processes, nothing across (${Date.now() - killedAt} ms)`);

    await redis.restart();
    const restartedAt = Date.now();
    const rounds = await settle(members, 'after');
    t.diagnostic(`Redis back: remote delivery resumed after ${Date.now() - restartedAt} ms (${rounds} probe rounds)`);
    assert.equal(await exchange(members, 'after', 5), 15);
    assert.equal(p1.proc.exitCode, null, 'process 1 is still running');
    assert.equal(p2.proc.exitCode, null, 'process 2 is still running');
    noDuplicates(members);
    assert.match(p1.stderr(), /Redis broker: connection error, reconnecting/);
    assert.equal(p1.stderr().match(/connection error/g).length, 1, `one report per outage:\n${p1.stderr()}`);
  });

  test('many cores on one port: --workers 2 (node:cluster) shares the room through Redis; SIGTERM stops every worker', T, async (t) => {
    const redis = await startRedis(t);
    const chat = await startChat(t, ['--redis', redis.url, '--workers', '2']);
    const members = [];
    for (let i = 0; i < 6; i++) members.push(await member(t, chat.port, 'cores', `c${i}`));
    await settle(members, 'cores');
    assert.equal(await exchange(members, 'cores', 3), 18);
    chat.proc.kill('SIGTERM');
    const codes = await Promise.all(members.map((m) => new Promise((resolve) => m.once('close', resolve))));
    assert.deepEqual(new Set(codes), new Set([1001]));
    assert.deepEqual(await chat.exited, { code: 0, signal: null });
  });
});

describe('scale-out through a Redis Cluster (sharded pub/sub)', () => {
  test('three masters, two processes, rooms on several shards: exactly once everywhere', T, async (t) => {
    const nodes = await startRedisCluster(t);
    const urls = nodes.map((n) => n.url).join(',');
    const p1 = await startChat(t, ['--redis-cluster', urls]);
    const p2 = await startChat(t, ['--redis-cluster', urls]);
    const rooms = ['red', 'green', 'blue', 'amber'];
    for (const room of rooms) {
      const members = [await member(t, p1.port, room, `${room}-1`), await member(t, p2.port, room, `${room}-2`), await member(t, p2.port, room, `${room}-3`)];
      await settle(members, room);
      assert.equal(await exchange(members, room, 3), 9);
      noDuplicates(members);
    }
    // Each room is a sharded channel on the node that owns its slot, and the rooms span several nodes.
    const perNode = nodes.map((n) => redisCli(n.port, 'PUBSUB', 'SHARDCHANNELS').split('\n').filter(Boolean));
    assert.deepEqual(perNode.flat().sort(), rooms.map((room) => `daloy-ws:${room}`).sort());
    assert.ok(perNode.filter((channels) => channels.length > 0).length > 1, JSON.stringify(perNode));
    assert.equal(redisCli(nodes[0].port, 'PUBSUB', 'CHANNELS').trim(), '', 'no plain PUB/SUB channel on a cluster');
  });
});

/** A server whose route /t/:topic subscribes each connection to :topic, with a Redis broker; ready and connected. */
async function serveWithBroker(t, redis, logger) {
  const broker = createRedisBroker({ url: redis.url, logger });
  const app = new App({ logger });
  app.ws('/t/:topic', {
    open(conn, ctx) {
      conn.subscribe(ctx.params.topic);
    },
  });
  const server = serve(app, { port: 0, hostname: '127.0.0.1', handleSignals: false, pubsub: broker });
  cleanup(t, () => server.close());
  await server.ready;
  await broker.ready;
  return server;
}

describe('createRedisBroker', () => {
  test('a process never delivers its own publish twice; another process gets it once, with its kind', T, async (t) => {
    const redis = await startRedis(t);
    const { logger } = captureLogger();
    const a = createRedisBroker({ url: redis.url, logger });
    const b = createRedisBroker({ url: redis.url, logger });
    cleanup(t, () => Promise.all([a.close(), b.close()]));
    const gotA = [];
    const gotB = [];
    a.start((topic, payload, isBinary) => gotA.push([topic, Buffer.from(payload).toString(), isBinary]));
    b.start((topic, payload, isBinary) => gotB.push([topic, Buffer.from(payload).toString(), isBinary]));
    await Promise.all([a.ready, b.ready]);
    a.subscribe('news');
    b.subscribe('news');
    await until(() => redisCli(redis.port, 'PUBSUB', 'NUMSUB', 'daloy-ws:news').includes('\n2'));
    a.publish('news', Buffer.from('from a'), false);
    b.publish('news', Buffer.from([1, 2]), true);
    await until(() => gotA.length === 1 && gotB.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(gotA, [['news', '\u0001\u0002', true]]);
    assert.deepEqual(gotB, [['news', 'from a', false]]);
  });

  test('subscribes a channel for the first local subscriber and leaves it with the last', T, async (t) => {
    const redis = await startRedis(t);
    const server = await serveWithBroker(t, redis, captureLogger().logger);
    const numsub = () => Number(redisCli(redis.port, 'PUBSUB', 'NUMSUB', 'daloy-ws:room').trim().split('\n')[1]);
    assert.equal(numsub(), 0);
    const one = await connect(t, `ws://127.0.0.1:${server.port}/t/room`);
    const two = await connect(t, `ws://127.0.0.1:${server.port}/t/room`);
    await until(() => numsub() === 1);
    one.close();
    await until(() => server.subscriberCount('room') === 1);
    assert.equal(numsub(), 1);
    two.close();
    await until(() => numsub() === 0);
    await server.close();
    assert.equal(redisCli(redis.port, 'PUBSUB', 'CHANNELS').trim(), '');
  });

  test('drops what is not its own envelope, and text that is not UTF-8, with a log line', T, async (t) => {
    const redis = await startRedis(t);
    const { logger, entries } = captureLogger();
    const server = await serveWithBroker(t, redis, logger);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/t/raw`);
    const got = [];
    ws.on('message', (data) => got.push(data.toString()));
    await until(() => redisCli(redis.port, 'PUBSUB', 'NUMSUB', 'daloy-ws:raw').includes('\n1'));
    const raw = createClient({ url: redis.url });
    raw.on('error', () => {});
    await raw.connect();
    cleanup(t, () => raw.close());
    await raw.publish('daloy-ws:raw', 'hello from another client');
    // Version 1, text, a foreign id, then 0xff: not UTF-8.
    await raw.publish('daloy-ws:raw', Buffer.concat([Buffer.from([1, 0]), Buffer.alloc(16, 7), Buffer.from([0xff])]));
    await raw.publish('daloy-ws:raw', Buffer.concat([Buffer.from([1, 0]), Buffer.alloc(16, 8), Buffer.from('fine')]));
    await until(() => got.length === 1);
    assert.deepEqual(got, ['fine']);
    assert.ok(entries.some((e) => e.message === 'Redis broker: dropped a message that is not from daloy-ws-native'));
    assert.ok(entries.some((e) => e.message === 'Topics broker delivered a text message that is not UTF-8; dropped'));
  });

  test('daloy-ws-native/redis resolves through the exports map, ESM and CommonJS alike', async () => {
    const esm = await import('daloy-ws-native/redis');
    const cjs = createRequire(import.meta.url)('daloy-ws-native/redis');
    assert.equal(esm.createRedisBroker, createRedisBroker);
    assert.equal(cjs.createRedisBroker, createRedisBroker);
    assert.equal(esm.RedisBroker, cjs.RedisBroker);
  });

  test('refuses bad options with a TypeError', () => {
    assert.throws(() => createRedisBroker(), TypeError);
    assert.throws(() => createRedisBroker({}), /either url .* or cluster/);
    assert.throws(() => createRedisBroker({ url: 'redis://x', cluster: { rootNodes: [{ url: 'redis://y' }] } }), TypeError);
    assert.throws(() => createRedisBroker({ cluster: { rootNodes: [] } }), /rootNodes/);
    assert.throws(() => createRedisBroker({ url: 'redis://127.0.0.1:1', prefix: 3 }), /prefix/);
  });
});

describe('createRedisBroker under load', () => {
  test('publishes past maxPendingBytes are dropped for other processes, with one warning, and local delivery is untouched', T, async (t) => {
    const redis = await startRedis(t);
    const { logger, entries } = captureLogger();
    const broker = createRedisBroker({ url: redis.url, logger, maxPendingBytes: 64 * 1024 });
    cleanup(t, () => broker.close());
    broker.start(() => {});
    await broker.ready;
    const listener = createClient({ url: redis.url });
    listener.on('error', () => {});
    await listener.connect();
    cleanup(t, () => listener.close());
    let received = 0;
    await listener.subscribe('daloy-ws:load', () => received++, true);
    // 200 publishes of 4 KiB (+18 bytes of envelope) in one tick: none is acknowledged yet, so 15 fit.
    const payload = new Uint8Array(4096);
    for (let i = 0; i < 200; i++) broker.publish('load', payload, true);
    assert.equal(entries.filter((e) => /Redis is behind/.test(e.message)).length, 1);
    await until(() => received === 15);
    // Once acknowledged, the budget is free again.
    broker.publish('load', payload, true);
    await until(() => received === 16);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(received, 16);
    assert.equal(entries.filter((e) => /Redis is behind/.test(e.message)).length, 1);
  });
});
