// daloy-ws-native/ws under hostile input and faulty listeners: a listener that throws, an `error`
// event nobody listens to, garbage and oversized frames from a peer, cut at random points. The
// server answers with the right close code, never crashes, and keeps serving other connections.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import Reference from 'ws';
import { WebSocketServer, WebSocket } from '../ws.mjs';
import { clientFrame, rawSocket, within } from './ws/harness.mjs';
import { prng } from './helpers/frames.mjs';

const T = { timeout: 20_000 };

async function server(t, options = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  t.after(() => {
    for (const ws of wss.clients) ws.terminate();
    return new Promise((resolve) => wss.close(() => resolve()));
  });
  return { wss, port: wss.address().port };
}

async function reference(t, port) {
  const client = new Reference(`ws://127.0.0.1:${port}`);
  client.on('error', () => {});
  t.after(() => client.terminate());
  await within(3000, once(client, 'open'), 'open');
  return client;
}

/** The frames a server sent (unmasked), in order; an incomplete last one is left out. */
function* serverFrames(wire) {
  let at = 0;
  while (at + 2 <= wire.length) {
    const opcode = wire[at] & 0x0f;
    let length = wire[at + 1] & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > wire.length) return;
      length = wire.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > wire.length) return;
      length = Number(wire.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > wire.length) return;
    yield { opcode, payload: wire.subarray(start, start + length) };
    at = start + length;
  }
}

describe('listeners that throw', () => {
  test("a 'message' listener that throws becomes the 'error' event; the connection keeps serving", T, async (t) => {
    const { wss, port } = await server(t);
    const errors = [];
    wss.on('connection', (ws) => {
      ws.on('error', (err) => errors.push(err.message));
      ws.on('message', (data) => {
        if (String(data) === 'boom') throw new Error('listener failed');
        ws.send(`echo ${data}`);
      });
    });
    const client = await reference(t, port);
    client.send('boom');
    client.send('after');
    const [reply] = await within(3000, once(client, 'message'), 'the echo');
    assert.equal(String(reply), 'echo after');
    assert.deepEqual(errors, ['listener failed']);
  });

  test("without an 'error' listener, the throw is printed to stderr and the process lives on", T, async (t) => {
    const printed = t.mock.method(console, 'error', () => {});
    const { wss, port } = await server(t);
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        if (String(data) === 'boom') throw new Error('no one listens');
        ws.send('still here');
      });
      ws.on('close', () => {
        throw new Error('close listener failed');
      });
    });
    const client = await reference(t, port);
    client.send('boom');
    client.send('ok');
    const [reply] = await within(3000, once(client, 'message'), 'the reply');
    assert.equal(String(reply), 'still here');
    client.close();
    await within(3000, once(client, 'close'), 'close');
    await delay(50);
    const lines = printed.mock.calls.map((call) => String(call.arguments[0]));
    assert.ok(lines.some((line) => line.includes("'message' listener threw")), lines.join('\n'));
    assert.ok(lines.some((line) => line.includes("'close' listener threw")), lines.join('\n'));
  });

  test("a protocol error with no 'error' listener closes with its code and nothing crashes", T, async (t) => {
    const { wss, port } = await server(t);
    const closes = [];
    wss.on('connection', (ws) => ws.on('close', (code) => closes.push(code)));
    const { socket, done } = await rawSocket(port, '/', [], wss);
    t.after(() => socket.destroy());
    socket.write(clientFrame(0x1, Buffer.from([0xed, 0xa0, 0x80])));
    const wire = await within(3000, done, 'the server to close');
    assert.deepEqual([...wire.subarray(0, 4)], [0x88, 0x02, 0x03, 0xef]);
  });
});

describe('frames across slab boundaries', () => {
  // Small frames share 32 KiB slabs; thousands of them must cross from one slab to the next intact,
  // whether written by send(), as pre-encoded frames (sendFrame) or masked by the client.
  test('2,000 pre-encoded frames and 2,000 sends arrive intact and in order', T, async (t) => {
    const { wss, port } = await server(t);
    const client = await reference(t, port);
    const [ws] = wss.clients;
    const received = [];
    client.on('message', (data) => received.push(String(data)));
    for (let i = 0; i < 2000; i++) {
      const text = `frame ${i} `.padEnd(100, '.');
      ws._sender.sendFrame(WebSocket.Sender.frame(Buffer.from(text), { opcode: 1, fin: true, mask: false, readOnly: false }));
      ws.send(`send ${i} `.padEnd(150, '-'));
    }
    await within(5000, (async () => {
      while (received.length < 4000) await delay(10);
    })(), 'all messages');
    for (let i = 0; i < 2000; i++) {
      assert.equal(received[2 * i], `frame ${i} `.padEnd(100, '.'));
      assert.equal(received[2 * i + 1], `send ${i} `.padEnd(150, '-'));
    }
  });

  test('2,000 masked client messages arrive intact and in order', T, async (t) => {
    const upstream = new Reference.WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(upstream, 'listening');
    t.after(() => {
      for (const c of upstream.clients) c.terminate();
      return new Promise((resolve) => upstream.close(() => resolve()));
    });
    const received = [];
    upstream.on('connection', (ws) => ws.on('message', (data) => received.push(String(data))));
    const client = new WebSocket(`ws://127.0.0.1:${upstream.address().port}`);
    t.after(() => client.terminate());
    await within(3000, once(client, 'open'), 'open');
    for (let i = 0; i < 2000; i++) client.send(`message ${i} `.padEnd(120 + (i % 50), '*'));
    await within(5000, (async () => {
      while (received.length < 2000) await delay(10);
    })(), 'all messages');
    for (let i = 0; i < 2000; i++) assert.equal(received[i], `message ${i} `.padEnd(120 + (i % 50), '*'));
  });
});

describe('hostile peers', () => {
  test('a declared length over maxPayload closes with 1009 at once, before any payload arrives', T, async (t) => {
    const { wss, port } = await server(t, { maxPayload: 1024 });
    const errors = [];
    wss.on('connection', (ws) => ws.on('error', (err) => errors.push(err.code)));
    const { socket, done } = await rawSocket(port, '/', [], wss);
    t.after(() => socket.destroy());
    // A binary frame declaring 2^40 bytes, masked, with no payload at all.
    socket.write(Buffer.from([0x82, 0xff, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
    const wire = await within(3000, done, 'the server to close');
    assert.deepEqual([...wire.subarray(0, 4)], [0x88, 0x02, 0x03, 0xf1]);
    assert.deepEqual(errors, ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  test('random garbage on 40 connections, cut at random points: each is closed, the server keeps echoing', T, async (t) => {
    const { wss, port } = await server(t, { maxPayload: 64 * 1024 });
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const random = prng(0x5eed);
    for (let n = 0; n < 40; n++) {
      const { socket, done } = await rawSocket(port, '/', [], wss);
      t.after(() => socket.destroy());
      // Sometimes a valid frame first, then bytes no peer should send.
      const valid = random.chance(0.5) ? clientFrame(0x1, 'ok') : Buffer.alloc(0);
      const garbage = Buffer.from(random.bytes(random.range(1, 300)));
      const stream = Buffer.concat([valid, garbage]);
      for (let at = 0; at < stream.length; ) {
        const size = random.range(1, 40);
        socket.write(stream.subarray(at, at + size));
        at += size;
      }
      // The server either failed the connection (a CLOSE with an error code) or still waits for
      // the rest of a frame the garbage declared; the peer then hangs up.
      setTimeout(() => socket.end(), 30);
      const wire = await within(3000, done, `connection ${n} to close`);
      for (const frame of serverFrames(wire)) {
        if (frame.opcode !== 0x8 || frame.payload.length < 2) continue;
        const code = frame.payload.readUInt16BE(0);
        assert.ok([1002, 1007, 1008, 1009].includes(code), `close code ${code}`);
      }
    }
    const client = await reference(t, port);
    client.send('still serving');
    const [reply] = await within(3000, once(client, 'message'), 'the echo');
    assert.equal(String(reply), 'still serving');
  });

  test('the client fails on a server that sends garbage: error, then close 1006', T, async (t) => {
    const fake = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      });
    });
    fake.listen(0, '127.0.0.1');
    await once(fake, 'listening');
    t.after(() => new Promise((resolve) => fake.close(() => resolve())));
    const ws = new WebSocket(`ws://127.0.0.1:${fake.address().port}`);
    const events = [];
    ws.on('error', (err) => events.push(err.message));
    ws.on('close', (code) => events.push(code));
    await within(3000, new Promise((resolve) => ws.once('close', resolve)), 'close');
    assert.deepEqual(events, ['Unexpected server response: 200', 1006]);
  });
});
