// Topics on the Node wiring: a publish is one frame buffer, written as is to every subscriber's
// socket, in order with each connection's own sends whatever their sizes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { App } from '../index.js';
import { serve } from '../node.js';
import { createRequire } from 'node:module';

const { NativeSocket } = createRequire(import.meta.url)('../lib/node/native-socket.js');
import { startServer, connect, nextMessage, until, captureLogger } from './fixtures/node-helpers.mjs';

const T = { timeout: 15_000 };

describe('topics on Node', () => {
  test('one publish writes the same frame buffer to every subscriber: no copy per subscriber', T, async (t) => {
    const app = new App({ logger: false });
    app.ws('/t', {
      open(conn) {
        conn.subscribe('all');
      },
    });
    const server = await startServer(t, app);
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await connect(t, `ws://127.0.0.1:${server.port}/t`));
    await until(() => server.subscriberCount('all') === 5);
    const payload = 'p'.repeat(300);
    const written = [];
    // The connections' sockets: Node's streams, or the native transport's sockets (DALOY_WS_TRANSPORT).
    const prototypes = [net.Socket.prototype, NativeSocket.prototype];
    const writes = prototypes.map((proto) => proto.write);
    prototypes.forEach((proto, i) => {
      proto.write = function spy(chunk, ...rest) {
        if (Buffer.isBuffer(chunk) && chunk.length === payload.length + 4) written.push(chunk);
        return writes[i].call(this, chunk, ...rest);
      };
    });
    let queued;
    try {
      queued = server.publish('all', payload);
    } finally {
      prototypes.forEach((proto, i) => {
        proto.write = writes[i];
      });
    }
    assert.equal(queued, 5);
    assert.equal(written.length, 5);
    for (const chunk of written) assert.equal(chunk, written[0], 'the same Buffer object');
    for (const ws of clients) assert.deepEqual(await nextMessage(ws), { data: Buffer.from(payload), isBinary: false });
  });

  test('send and publish keep their order on a connection, small and large frames alike', T, async (t) => {
    const app = new App({ logger: false });
    const big = (c) => c.repeat(70 * 1024);
    app.ws('/t', {
      open(conn) {
        conn.subscribe('room');
      },
      message(conn) {
        conn.send('1');
        app.publish('room', '2');
        conn.send(big('3'));
        app.publish('room', big('4'));
        conn.send('5');
        app.publish('room', new Uint8Array([6]));
        conn.send(big('7'));
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/t`);
    const other = await connect(t, `ws://127.0.0.1:${server.port}/t`);
    await until(() => server.subscriberCount('room') === 2);
    ws.send('go');
    const firsts = [];
    for (let i = 0; i < 7; i++) {
      const { data, isBinary } = await nextMessage(ws);
      firsts.push(isBinary ? `b${data[0]}` : `${data.toString()[0]}:${data.length}`);
    }
    assert.deepEqual(firsts, ['1:1', '2:1', `3:${70 * 1024}`, `4:${70 * 1024}`, '5:1', 'b6', `7:${70 * 1024}`]);
    assert.equal((await nextMessage(other)).data.toString(), '2');
    assert.equal((await nextMessage(other)).data.length, 70 * 1024);
    assert.deepEqual(await nextMessage(other), { data: Buffer.from([6]), isBinary: true });
  });

  test('app.publish without a server, or to a topic nobody holds, returns 0; bad input still throws', () => {
    const app = new App({ logger: false });
    assert.equal(app.publish('nobody', 'x'), 0);
    assert.throws(() => app.publish('', 'x'), RangeError);
    assert.throws(() => app.publish('t', {}), TypeError);
    assert.throws(() => app.ws('/x', { maxTopicsPerConnection: 0 }), /maxTopicsPerConnection must be a positive integer/);
  });

  test('serve() refuses a pubsub that is not a broker, naming what is missing', () => {
    const app = new App({ logger: false });
    app.ws('/t', {});
    assert.throws(() => serve(app, { port: 0, handleSignals: false, pubsub: 42 }), /pubsub must be a broker object/);
    assert.throws(() => serve(app, { port: 0, handleSignals: false, pubsub: { start() {} } }), /pubsub must have a publish\(\) method/);
  });
});

describe('topics with a broker (an in-process stand-in)', () => {
  /** A broker that records the calls the registry makes and can fail its publishes. */
  function fakeBroker() {
    const calls = [];
    const broker = {
      calls,
      deliver: null,
      failPublish: false,
      start(deliver) {
        broker.deliver = deliver;
      },
      subscribe: (topic) => calls.push(['subscribe', topic]),
      unsubscribe: (topic) => calls.push(['unsubscribe', topic]),
      publish(topic, payload, isBinary) {
        if (broker.failPublish) throw new Error('broker down');
        calls.push(['publish', topic, Buffer.from(payload).toString(), isBinary]);
      },
      close: () => calls.push(['close']),
    };
    return broker;
  }

  test('joins a topic on its first local subscriber, leaves on its last, carries every publish, and delivers remote ones', T, async (t) => {
    const broker = fakeBroker();
    const { logger, entries } = captureLogger();
    const app = new App({ logger });
    app.ws('/t/:topic', {
      open(conn, ctx) {
        conn.subscribe(ctx.params.topic);
      },
      message(conn, data) {
        conn.publish('news', data);
      },
    });
    const server = await startServer(t, app, { pubsub: broker });
    const a = await connect(t, `ws://127.0.0.1:${server.port}/t/news`);
    const b = await connect(t, `ws://127.0.0.1:${server.port}/t/news`);
    await until(() => server.subscriberCount('news') === 2);
    assert.deepEqual(broker.calls, [['subscribe', 'news']]);
    a.send('hello');
    assert.deepEqual(await nextMessage(b), { data: Buffer.from('hello'), isBinary: false });
    assert.deepEqual(broker.calls[1], ['publish', 'news', 'hello', false]);
    // A publish from another process reaches every local subscriber, the text checked as UTF-8.
    broker.deliver('news', Buffer.from('from afar'), false);
    broker.deliver('news', Buffer.from([0xff]), false);
    broker.deliver('news', Buffer.from([1, 2]), true);
    for (const ws of [a, b]) {
      assert.deepEqual(await nextMessage(ws), { data: Buffer.from('from afar'), isBinary: false });
      assert.deepEqual(await nextMessage(ws), { data: Buffer.from([1, 2]), isBinary: true });
    }
    assert.ok(entries.some((e) => /not UTF-8/.test(e.message)));
    // A failing broker costs the other processes the message, never the local subscribers.
    broker.failPublish = true;
    assert.equal(server.publish('news', 'still local'), 2);
    assert.equal((await nextMessage(a)).data.toString(), 'still local');
    assert.ok(entries.some((e) => e.message === 'Topics broker publish failed'));
    a.close();
    b.close();
    await until(() => broker.calls.some(([name]) => name === 'unsubscribe'));
    assert.deepEqual(broker.calls.at(-1), ['unsubscribe', 'news']);
    await server.close();
    assert.deepEqual(broker.calls.at(-1), ['close']);
  });
});
