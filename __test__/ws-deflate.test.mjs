// permessage-deflate on `daloy-ws-native/ws` beyond the differential suite: inflation bombs
// against the server (closed with 1009, memory bounded), the checks of the option, and real
// clients with deflate offered (`ws` both ways is in the differential suite; here Node's built-in
// WebSocket, Node 22+).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { RawClient, cleanup, clientFrame, upgradeRequest } from './fixtures/node-helpers.mjs';
import { bombRepeatedly, builtinWebSocketEcho, compress, gibibyteBomb, inflate, noBuiltinWebSocket, sendBomb } from './fixtures/deflate.mjs';

const require = createRequire(import.meta.url);
const { WebSocketServer, WebSocket } = require('../ws.js');

const T = { timeout: 60_000 };
const MiB = 1024 * 1024;


/** An echo server of this module on 127.0.0.1, port 0, closed when the test ends. */
async function echoServer(t, options) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  cleanup(t, () => {
    for (const ws of wss.clients) ws.terminate();
    return new Promise((resolve) => wss.close(() => resolve()));
  });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await once(wss, 'listening');
  return wss.address().port;
}

/** A raw connection offering permessage-deflate; throws unless the server agreed it. */
async function deflateClient(t, port) {
  const client = await RawClient.open(t, port);
  client.send(upgradeRequest('/', { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
  const res = await client.response();
  assert.equal(res.status, 101);
  assert.match(res.headers['sec-websocket-extensions'], /^permessage-deflate/);
  return client;
}

describe('inflation bombs against the ws server', () => {
  test('a 1 KiB frame that inflates to 1 MiB is closed with 1009, 200 times, and memory stays bounded', T, async (t) => {
    const bomb = compress(Buffer.alloc(MiB));
    assert.ok(bomb.length <= 1100, `${bomb.length} bytes`);
    const port = await echoServer(t, { perMessageDeflate: true, maxPayload: 64 * 1024 });
    const one = async () => {
      const client = await deflateClient(t, port);
      await sendBomb(client, bomb);
      client.socket.destroy();
    };
    const grown = await bombRepeatedly(one);
    t.diagnostic(`RSS after 200 bombs: ${(grown / MiB).toFixed(1)} MiB above the level after 10`);
    assert.ok(grown < 32 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
  });

  test('a 1 MB frame that would inflate to 1 GiB is closed with 1009 within maxPayload (1 MiB)', T, async (t) => {
    const bomb = await gibibyteBomb();
    assert.ok(bomb.length < MiB, `${bomb.length} bytes`);
    const port = await echoServer(t, { perMessageDeflate: true, maxPayload: MiB });
    const client = await deflateClient(t, port);
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    await sendBomb(client, bomb);
    const grown = process.memoryUsage().rss - before;
    t.diagnostic(`${bomb.length}-byte frame (1 GiB inflated): RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    // The frame itself arrives (1 MB) and the message may reach the limit (1 MiB).
    assert.ok(grown < 8 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
  });
});

describe('the perMessageDeflate option', () => {
  test('bad values are refused with a TypeError or RangeError naming the field; nothing is left listening', () => {
    const make = (perMessageDeflate) => new WebSocketServer({ noServer: true, perMessageDeflate });
    assert.throws(() => make('yes'), { name: 'TypeError', message: /^perMessageDeflate must be a boolean or an options object/ });
    assert.throws(() => make({ serverMaxWindowBits: 16 }), { name: 'RangeError', message: /^perMessageDeflate\.serverMaxWindowBits/ });
    assert.throws(() => make({ clientMaxWindowBits: 7 }), { name: 'RangeError', message: /^perMessageDeflate\.clientMaxWindowBits/ });
    assert.throws(() => make({ serverNoContextTakeover: 'yes' }), { name: 'TypeError', message: /serverNoContextTakeover/ });
    assert.throws(() => make({ threshold: -1 }), { name: 'RangeError', message: /threshold/ });
    assert.throws(() => make({ zlibDeflateOptions: { level: 10 } }), { name: 'RangeError', message: /zlibDeflateOptions\.level/ });
    assert.throws(() => make({ zlibDeflateOptions: 'fast' }), { name: 'TypeError', message: /zlibDeflateOptions/ });
    assert.throws(() => make({ concurrencyLimit: 0 }), { name: 'RangeError', message: /concurrencyLimit/ });
    assert.throws(() => new WebSocketServer({ port: 0, perMessageDeflate: { serverMaxWindowBits: 99 } }), RangeError);
    // What `ws` accepts: booleans for the window options, zlib's -1 level, zlib options that do not apply here.
    make(true);
    make(false);
    make({ serverMaxWindowBits: false, clientMaxWindowBits: true, zlibDeflateOptions: { level: -1, memLevel: 9, chunkSize: 1024 }, zlibInflateOptions: { chunkSize: 1024 }, concurrencyLimit: 10 });
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', { perMessageDeflate: { clientMaxWindowBits: 20 } }), RangeError);
  });

  test('zlibDeflateOptions.level is the compression level: 0 stores, 9 compresses', T, async (t) => {
    const sizes = {};
    for (const level of [0, 9]) {
      const port = await echoServer(t, { perMessageDeflate: { zlibDeflateOptions: { level } } });
      const client = await deflateClient(t, port);
      const text = 'level test '.repeat(400);
      client.send(clientFrame(1, compress(Buffer.from(text)), { rsv: 4 }));
      const frame = await client.frame();
      assert.equal(frame.rsv, 4);
      sizes[level] = frame.payload.length;
      assert.equal(inflate(frame.payload).toString(), text);
      client.socket.destroy();
    }
    assert.ok(sizes[0] > 4000 && sizes[9] < 200, JSON.stringify(sizes));
  });
});

describe('Receiver', () => {
  test("inflates compressed messages with a connection's extensions, as ws's Receiver takes them", T, async (t) => {
    const { Receiver } = require('../ws.js');
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    cleanup(t, () => new Promise((resolve) => wss.close(() => resolve())));
    await once(wss, 'listening');
    const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}/`);
    cleanup(t, () => client.terminate());
    const [ws] = await once(wss, 'connection');
    assert.equal(ws.extensions, 'permessage-deflate');
    const receiver = new Receiver({ isServer: true, extensions: ws._extensions });
    const received = [];
    receiver.on('message', (data, isBinary) => received.push([data.toString(), isBinary]));
    receiver.write(clientFrame(1, compress(Buffer.from('Hello')), { rsv: 4 }));
    receiver.write(clientFrame(1, 'plain'));
    assert.deepEqual(received, [
      ['Hello', false],
      ['plain', false],
    ]);
    ws.terminate();
  });
});

describe('clients with deflate offered', () => {
  test("Node's built-in WebSocket exchanges compressed messages with the ws server", { ...T, skip: noBuiltinWebSocket }, async (t) => {
    const port = await echoServer(t, { perMessageDeflate: true });
    await builtinWebSocketEcho(t, `ws://127.0.0.1:${port}/`);
  });

  test('the client inflates within maxPayload: a larger message from the server fails the connection', T, async (t) => {
    const port = await echoServer(t, { perMessageDeflate: true });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { maxPayload: 1000 });
    cleanup(t, () => ws.terminate());
    await once(ws, 'open');
    assert.equal(ws.extensions, 'permessage-deflate');
    const errors = [];
    ws.on('error', (err) => errors.push(err.code));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    // 900 bytes out, 1001 back: the echo is larger than the client's limit only once inflated.
    ws.send('a'.repeat(900));
    const [echo] = await once(ws, 'message');
    assert.equal(echo.length, 900);
    ws.send('a'.repeat(1001));
    const code = await closed;
    // As with `ws`: the client fails the connection (its CLOSE says 1009) and reports 1006.
    assert.equal(code, 1006);
    assert.deepEqual(errors, ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });
});
