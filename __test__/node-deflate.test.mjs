// permessage-deflate (RFC 7692) on the Node wiring: the route option, the negotiation in the 101,
// compressed frames both ways checked against bytes (node:zlib on the test's side, independent of
// the package), `conn.extensions`, `send(data, { compress })`, the threshold, and real clients
// with deflate offered: `ws` and Node's built-in WebSocket (Node 22+).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { App } from '../index.js';
import deflatePrimitives from '../lib/primitives/deflate.js';
import { startServer, connect, nextMessage, cleanup, RawClient, clientFrame, decodeClose } from './fixtures/node-helpers.mjs';
import { bombRepeatedly, builtinWebSocketEcho, compress, gibibyteBomb, inflate, noBuiltinWebSocket, sendBomb } from './fixtures/deflate.mjs';

const T = { timeout: 30_000 };
const TEXT = 1;
const CLOSE = 8;


function echoApp(perMessageDeflate, extra = {}) {
  return new App().ws('/echo', {
    perMessageDeflate,
    message(conn, data, isBinary) {
      conn.send(data, { binary: isBinary });
    },
    ...extra,
  });
}

async function rawDeflate(t, app, offer = 'permessage-deflate; client_max_window_bits') {
  const server = await startServer(t, app);
  const client = await RawClient.open(t, server.port);
  const { upgradeRequest } = await import('./fixtures/node-helpers.mjs');
  client.send(upgradeRequest('/echo', { headers: { 'Sec-WebSocket-Extensions': offer } }));
  const res = await client.response();
  assert.equal(res.status, 101);
  return { client, res, server };
}

describe('perMessageDeflate route option', () => {
  test('is off by default: an offer is answered without the extension and RSV1 is refused with 1002', T, async (t) => {
    const { client, res } = await rawDeflate(t, echoApp(undefined));
    assert.equal(res.headers['sec-websocket-extensions'], undefined);
    client.send(clientFrame(TEXT, compress(Buffer.from('Hello')), { rsv: 4 }));
    const frame = await client.frame();
    assert.equal(frame.opcode, CLOSE);
    assert.equal(decodeClose(frame.payload).code, 1002);
  });

  test('shared mode: agrees no context takeover both ways and echoes compressed frames', T, async (t) => {
    let extensions;
    const app = echoApp(true, {
      open(conn) {
        extensions = conn.extensions;
      },
    });
    const { client, res } = await rawDeflate(t, app);
    const header = res.headers['sec-websocket-extensions'];
    assert.match(header, /^permessage-deflate/);
    assert.match(header, /server_no_context_takeover/);
    assert.match(header, /client_no_context_takeover/);
    const text = JSON.stringify({ items: Array.from({ length: 100 }, (_, i) => ({ id: i, name: `item ${i}` })) });
    client.send(clientFrame(TEXT, compress(Buffer.from(text)), { rsv: 4 }));
    const frame = await client.frame();
    assert.equal(frame.opcode, TEXT);
    assert.equal(frame.rsv, 4, 'RSV1 set on a compressed message');
    assert.ok(frame.payload.length < text.length / 3);
    assert.equal(inflate(frame.payload).toString(), text);
    assert.equal(extensions, header);
    // Fragmented, RSV1 on the first frame only, a ping between the fragments.
    const parts = compress(Buffer.from(text));
    client.send(clientFrame(TEXT, parts.subarray(0, 10), { rsv: 4, fin: false }));
    client.send(clientFrame(9, Buffer.from('p')));
    client.send(clientFrame(0, parts.subarray(10)));
    assert.equal((await client.frame()).opcode, 10);
    assert.equal(inflate((await client.frame()).payload).toString(), text);
  });

  test('messages below the threshold go uncompressed; { compress } decides per message', T, async (t) => {
    const app = new App().ws('/echo', {
      perMessageDeflate: { threshold: 100 },
      message(conn, data) {
        const text = data.toString();
        if (text === 'force') conn.send('short', { compress: true });
        else if (text === 'never') conn.send('x'.repeat(1000), { compress: false });
        else conn.send(text);
      },
    });
    const { client } = await rawDeflate(t, app);
    client.send(clientFrame(TEXT, Buffer.from('small')));
    let frame = await client.frame();
    assert.equal(frame.rsv, 0);
    assert.equal(frame.payload.toString(), 'small');
    client.send(clientFrame(TEXT, Buffer.from('y'.repeat(100))));
    frame = await client.frame();
    assert.equal(frame.rsv, 4);
    assert.equal(inflate(frame.payload).toString(), 'y'.repeat(100));
    client.send(clientFrame(TEXT, Buffer.from('force')));
    frame = await client.frame();
    assert.equal(frame.rsv, 4);
    assert.equal(inflate(frame.payload).toString(), 'short');
    client.send(clientFrame(TEXT, Buffer.from('never')));
    frame = await client.frame();
    assert.equal(frame.rsv, 0);
    assert.equal(frame.payload.toString(), 'x'.repeat(1000));
  });

  test('dedicated mode asks for client_no_context_takeover unless its decompressor is dedicated', T, async (t) => {
    const shared = await rawDeflate(t, echoApp({ mode: 'dedicated', threshold: 0 }));
    assert.equal(shared.res.headers['sec-websocket-extensions'], 'permessage-deflate; client_no_context_takeover');
    const own = await rawDeflate(t, echoApp({ mode: 'dedicated', decompressor: 'dedicated', threshold: 0 }));
    assert.equal(own.res.headers['sec-websocket-extensions'], 'permessage-deflate');
  });

  test('a released dedicated deflater continues its stream: the next message still refers back', () => {
    const { MessageDeflater } = deflatePrimitives;
    const config = { mode: 'dedicated', level: 6, threshold: 0 };
    const deflater = new MessageDeflater(config, { serverNoContextTakeover: false, serverMaxWindowBits: 15 });
    const text = JSON.stringify({ items: Array.from({ length: 30 }, (_, i) => ({ id: i, name: `item ${i}` })) });
    const first = deflater.deflate(text);
    const sync = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const inflated = [zlib.inflateRawSync(Buffer.concat([first, Buffer.from([0, 0, 0xff, 0xff])]), sync)];
    deflater.release();
    const second = deflater.deflate(text);
    assert.ok(second.length * 5 < first.length, `${second.length} vs ${first.length}`);
    // One stream: the second message only inflates after the first one.
    assert.throws(() => zlib.inflateRawSync(Buffer.concat([second, Buffer.from([0, 0, 0xff, 0xff])]), sync), /distance too far back/);
    const both = zlib.inflateRawSync(Buffer.concat([first, Buffer.from([0, 0, 0xff, 0xff]), second, Buffer.from([0, 0, 0xff, 0xff])]), sync);
    inflated.push(both.subarray(inflated[0].length));
    assert.deepEqual(inflated.map(String), [text, text]);
    deflater.release();
  });

  test('dedicated mode keeps its window: a repeated message shrinks; windowBits is answered', T, async (t) => {
    const app = echoApp({ mode: 'dedicated', decompressor: 'dedicated', windowBits: 10, threshold: 0 });
    const { client, res } = await rawDeflate(t, app);
    const header = res.headers['sec-websocket-extensions'];
    assert.match(header, /server_max_window_bits=10/);
    assert.doesNotMatch(header, /no_context_takeover/);
    const text = 'the same sentence, sent twice over one connection';
    const stream = zlib.createInflateRaw({ windowBits: 15 });
    const read = async (payload) => {
      const chunks = [];
      const onData = (c) => chunks.push(c);
      stream.on('data', onData);
      stream.write(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]));
      await new Promise((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
      stream.off('data', onData);
      return Buffer.concat(chunks).toString();
    };
    cleanup(t, () => stream.destroy());
    client.send(clientFrame(TEXT, Buffer.from(text)));
    const first = await client.frame();
    client.send(clientFrame(TEXT, Buffer.from(text)));
    const second = await client.frame();
    assert.equal(await read(first.payload), text);
    assert.equal(await read(second.payload), text);
    assert.ok(second.payload.length < first.payload.length / 2, `${second.payload.length} vs ${first.payload.length}`);
  });

  test('RSV1 on a control frame or a continuation is refused with 1002', T, async (t) => {
    for (const frames of [
      [clientFrame(9, Buffer.from('p'), { rsv: 4 })],
      [clientFrame(TEXT, Buffer.from('ab'), { fin: false }), clientFrame(0, compress(Buffer.from('c')), { rsv: 4 })],
    ]) {
      const { client } = await rawDeflate(t, echoApp(true));
      for (const f of frames) client.send(f);
      const frame = await client.frame();
      assert.equal(frame.opcode, CLOSE);
      assert.equal(decodeClose(frame.payload).code, 1002);
    }
  });

  test('invalid UTF-8 inflated from a text message is refused with 1007, corrupt data with 1007', T, async (t) => {
    for (const payload of [compress(Buffer.from([0x61, 0xff, 0x62])), Buffer.from([0xff, 0xff, 0xff])]) {
      const { client } = await rawDeflate(t, echoApp(true));
      client.send(clientFrame(TEXT, payload, { rsv: 4 }));
      const frame = await client.frame();
      assert.equal(frame.opcode, CLOSE);
      assert.equal(decodeClose(frame.payload).code, 1007);
    }
  });

  test('a 1 KiB frame that inflates to 1 MiB is refused with 1009 and memory stays bounded', T, async (t) => {
    const bomb = compress(Buffer.alloc(1 << 20));
    assert.ok(bomb.length <= 1100, `${bomb.length} bytes`);
    const app = echoApp(true, { maxPayloadLength: 64 * 1024 });
    const server = await startServer(t, app);
    const { upgradeRequest } = await import('./fixtures/node-helpers.mjs');
    const offer = { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } };
    const one = async () => {
      const client = await RawClient.open(t, server.port);
      client.send(upgradeRequest('/echo', offer));
      assert.equal((await client.response()).status, 101);
      await sendBomb(client, bomb);
      client.socket.destroy();
    };
    const grown = await bombRepeatedly(one);
    t.diagnostic(`RSS after 200 bombs: ${(grown / 1048576).toFixed(1)} MiB above the level after 10`);
    assert.ok(grown < 32 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
  });

  test('a 1 MB frame that would inflate to 1 GiB is refused with 1009 within the default 1 MiB limit', T, async (t) => {
    const bomb = await gibibyteBomb();
    assert.ok(bomb.length < 1 << 20, `${bomb.length} bytes`);
    const { client } = await rawDeflate(t, echoApp(true), 'permessage-deflate');
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    await sendBomb(client, bomb);
    const grown = process.memoryUsage().rss - before;
    t.diagnostic(`${bomb.length}-byte frame (1 GiB inflated): RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
    // The frame itself arrives (1 MB) and the message buffer may reach the limit (1 MiB).
    assert.ok(grown < 8 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
  });

  test('is refused in production under secureDefaults, as an options object too', () => {
    const prod = () => new App({ env: 'production' });
    const guarded = { beforeUpgrade() {}, allowedOrigins: 'same-origin' };
    for (const perMessageDeflate of [true, { mode: 'dedicated' }]) {
      assert.throws(() => prod().ws('/z', { ...guarded, perMessageDeflate }), /perMessageDeflate: true is refused in production/);
    }
    assert.doesNotThrow(() => new App({ env: 'production', secureDefaults: false, acknowledgeInsecureDefaults: true }).ws('/z', { ...guarded, perMessageDeflate: { level: 1 } }));
  });

  test('bad options are refused when the route is added', () => {
    const add = (perMessageDeflate) => new App().ws('/x', { perMessageDeflate });
    // Not a boolean nor an object: DaloyJS's own message, as a plain Error.
    assert.throws(() => add('yes'), { message: 'app.ws(): perMessageDeflate must be a boolean.' });
    assert.throws(() => add({ mode: 'both' }), TypeError);
    assert.throws(() => add({ windowBits: 12 }), TypeError, 'windowBits is for the dedicated mode');
    assert.throws(() => add({ mode: 'dedicated', windowBits: 16 }), RangeError);
    assert.throws(() => add({ mode: 'dedicated', windowBits: 7 }), RangeError);
    assert.throws(() => add({ decompressor: 'dedicated' }), TypeError, 'a dedicated decompressor is for the dedicated mode');
    assert.throws(() => add({ mode: 'dedicated', decompressor: 'own' }), TypeError);
    assert.throws(() => add({ level: 10 }), RangeError);
    assert.throws(() => add({ level: '6' }), TypeError);
    assert.throws(() => add({ threshold: -1 }), RangeError);
    assert.throws(() => add({ serverMaxWindowBits: 10 }), TypeError, 'unknown option');
    add(true);
    add(false);
    add({ mode: 'dedicated', windowBits: 8, level: 1, threshold: 0 });
  });
});

describe('clients with deflate offered', () => {
  for (const mode of ['shared', 'dedicated']) {
    test(`the ws client exchanges compressed messages (${mode})`, T, async (t) => {
      const server = await startServer(t, echoApp({ mode, threshold: 0 }));
      const ws = await connect(t, `ws://127.0.0.1:${server.port}/echo`, undefined, { perMessageDeflate: true });
      assert.equal(ws.extensions, 'permessage-deflate');
      const messages = ['Hello', 'é'.repeat(70_000), JSON.stringify({ a: [1, 2, 3] }).repeat(500)];
      for (const message of messages) {
        ws.send(message);
        const { data, isBinary } = await nextMessage(ws);
        assert.equal(isBinary, false);
        assert.equal(data.toString(), message);
      }
      const bytes = Buffer.alloc(200_000, 7);
      ws.send(bytes);
      const { data } = await nextMessage(ws);
      assert.deepEqual(data, bytes);
      ws.close(1000);
      assert.equal((await ws.closed).code, 1000);
    });
  }

  test("Node's built-in WebSocket exchanges compressed messages", { ...T, skip: noBuiltinWebSocket }, async (t) => {
    const server = await startServer(t, echoApp({ threshold: 0 }));
    await builtinWebSocketEcho(t, `ws://127.0.0.1:${server.port}/echo`);
  });
});

describe('publish to permessage-deflate subscribers', () => {
  const OFFER = { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } };
  const NEWS = JSON.stringify({ items: Array.from({ length: 60 }, (_, i) => ({ id: i, title: `headline ${i}` })) });

  // Routes whose connections subscribe to "news" on open; "publish" from any of them publishes NEWS.
  function newsApp(routes) {
    const app = new App();
    for (const [path, perMessageDeflate] of Object.entries(routes)) {
      app.ws(path, {
        perMessageDeflate,
        open(conn) {
          conn.subscribe('news');
        },
        message(conn, data) {
          if (data === 'publish') conn.publish('news', NEWS);
        },
      });
    }
    return app;
  }

  test('shared-mode subscribers: compressed once per publish, the same frame to each', T, async (t) => {
    const { deflateCounters: counters } = deflatePrimitives;
    const server = await startServer(t, newsApp({ '/a': true, '/b': { mode: 'shared', threshold: 0 }, '/plain': false }));
    const shared = [];
    for (let i = 0; i < 3; i++) shared.push(await RawClient.upgrade(t, server.port, '/a', OFFER));
    shared.push(await RawClient.upgrade(t, server.port, '/b', OFFER));
    const noOffer = await RawClient.upgrade(t, server.port, '/a');
    const publisher = await RawClient.upgrade(t, server.port, '/plain');
    const before = counters.messages;
    publisher.send(clientFrame(TEXT, Buffer.from('publish')));
    const frames = await Promise.all(shared.map((c) => c.frame()));
    const plain = await noOffer.frame();
    assert.equal(counters.messages - before, 1, 'one compression for four subscribers with the same agreement');
    for (const frame of frames) {
      assert.equal(frame.rsv, 4);
      assert.deepEqual(frame.payload, frames[0].payload);
      assert.equal(inflate(frame.payload).toString(), NEWS);
      assert.ok(frame.payload.length < NEWS.length / 2);
    }
    assert.equal(plain.rsv, 0);
    assert.equal(plain.payload.toString(), NEWS);
  });

  test('dedicated-mode subscribers compress for themselves; another level is another compression', T, async (t) => {
    const { deflateCounters: counters } = deflatePrimitives;
    const server = await startServer(
      t,
      newsApp({ '/dedicated': { mode: 'dedicated', decompressor: 'dedicated' }, '/shared': true, '/fast': { level: 1 }, '/plain': false }),
    );
    const dedicated = [await RawClient.upgrade(t, server.port, '/dedicated', OFFER), await RawClient.upgrade(t, server.port, '/dedicated', OFFER)];
    const shared = [await RawClient.upgrade(t, server.port, '/shared', OFFER), await RawClient.upgrade(t, server.port, '/shared', OFFER)];
    const fast = await RawClient.upgrade(t, server.port, '/fast', OFFER);
    const publisher = await RawClient.upgrade(t, server.port, '/plain');
    const before = counters.messages;
    publisher.send(clientFrame(TEXT, Buffer.from('publish')));
    const frames = await Promise.all([...dedicated, ...shared, fast].map((c) => c.frame()));
    assert.equal(counters.messages - before, 2 + 1 + 1, 'one per dedicated subscriber, one per shared agreement');
    for (const frame of frames) {
      assert.equal(frame.rsv, 4);
      assert.equal(inflate(frame.payload).toString(), NEWS);
    }
    // The dedicated subscribers' windows now hold the message: a second publish refers back to it.
    publisher.send(clientFrame(TEXT, Buffer.from('publish')));
    const again = await dedicated[0].frame();
    assert.ok(again.payload.length * 5 < frames[0].payload.length, `${again.payload.length} vs ${frames[0].payload.length}`);
    for (const c of [dedicated[1], ...shared, fast]) await c.frame();
  });
});
