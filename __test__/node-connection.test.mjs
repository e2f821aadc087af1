// The connection object and its behaviour on the wire: sends, control frames, the closing
// handshake, protocol errors and their close codes, with the `ws` client and raw sockets.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { App, WebSocketProtocolError, WS_READY_STATE } from '../index.js';
import {
  startServer,
  connect,
  nextMessage,
  closed,
  eventLog,
  until,
  RawClient,
  clientFrame,
  closePayload,
} from './fixtures/node-helpers.mjs';
import { once } from 'node:events';

const T = { timeout: 10_000 };

function echoApp(extra = {}) {
  return new App().ws('/echo', {
    message(conn, data, isBinary) {
      conn.send(data, { binary: isBinary });
    },
    ...extra,
  });
}

describe('sending and receiving', () => {
  // Small frames of every connection are staged in one shared slab of 32 KiB that only moves
  // forward. These cross its boundaries at every offset the sizes give.
  test('300 handshakes in a row (over two slabs of 101 responses alone) are each answered in full', { timeout: 30_000 }, async (t) => {
    const server = await startServer(t, echoApp());
    for (let i = 0; i < 300; i++) {
      const client = await RawClient.upgrade(t, server.port, '/echo');
      client.socket.destroy();
    }
  });

  test('frames of every size up to 5 KiB, sent to interleaved connections in one tick, arrive whole and in order', { timeout: 30_000 }, async (t) => {
    const conns = [];
    const app = new App().ws('/fan', {
      open(conn) {
        conns.push(conn);
      },
      message(conn, data) {
        if (data !== 'go') return;
        // One tick: every size from 0 to 5,120 bytes, each to every connection in turn, so that
        // each connection's region is cut by the others' and by the slab's end.
        for (let size = 0; size <= 5120; size += 7) {
          const payload = Buffer.alloc(size, size & 0xff);
          for (const c of conns) c.send(size % 2 === 0 ? payload : payload.toString('latin1'), { binary: size % 2 === 0 });
        }
      },
    });
    const server = await startServer(t, app);
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await connect(t, `ws://127.0.0.1:${server.port}/fan`));
    await until(() => conns.length === 3);
    const received = clients.map((ws) => {
      const got = [];
      ws.on('message', (data, isBinary) => got.push({ data: Buffer.from(data), isBinary }));
      return got;
    });
    clients[0].send('go');
    const expected = Math.floor(5120 / 7) + 1;
    await until(() => received.every((got) => got.length === expected));
    for (const got of received) {
      got.forEach(({ data, isBinary }, i) => {
        const size = i * 7;
        assert.equal(isBinary, size % 2 === 0, `message ${i}`);
        if (isBinary) assert.ok(data.equals(Buffer.alloc(size, size & 0xff)), `message ${i} of ${size} bytes`);
        else assert.equal(data.toString(), Buffer.alloc(size, size & 0xff).toString('latin1'), `message ${i}`);
      });
    }
  });

  test('echoes text as text and binary as binary', T, async (t) => {
    const server = await startServer(t, echoApp());
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/echo`);
    ws.send('héllo wörld');
    ws.send(Buffer.from([0, 1, 2, 255]));
    const text = await nextMessage(ws);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'héllo wörld');
    const binary = await nextMessage(ws);
    assert.equal(binary.isBinary, true);
    assert.deepEqual([...binary.data], [0, 1, 2, 255]);
  });

  test('delivers text as a string and binary as a Buffer by default', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      message(conn, data, isBinary) {
        log.push(isBinary ? 'binary' : 'text', data);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    ws.send('abc');
    ws.send(Buffer.from('xyz'));
    const [text] = await log.wait('text');
    const [binary] = await log.wait('binary');
    assert.equal(text, 'abc');
    assert.ok(Buffer.isBuffer(binary));
    assert.equal(binary.toString(), 'xyz');
  });

  test('delivers binary as an ArrayBuffer with binaryType "arraybuffer", and ignores unknown types', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open(conn) {
        conn.binaryType = 'blob';
        log.push('type', conn.binaryType);
        conn.binaryType = 'arraybuffer';
      },
      message(conn, data) {
        log.push('message', data);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    ws.send(Buffer.from([9, 8, 7]));
    assert.deepEqual(await log.wait('type'), ['nodebuffer']);
    const [data] = await log.wait('message');
    assert.ok(data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(data)], [9, 8, 7]);
  });

  test('sends a string as binary with { binary: true }, and any ArrayBuffer or view as binary', T, async (t) => {
    const app = new App().ws('/x', {
      open(conn) {
        conn.send('as-binary', { binary: true });
        conn.send(new Uint8Array([1, 2, 3]).buffer);
        conn.send(new Uint16Array([0x0102, 0x0304]));
        conn.send(new DataView(new Uint8Array([5, 6, 7, 8]).buffer, 1, 2));
        conn.send('text', { binary: false });
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await nextMessage(ws));
    assert.deepEqual(
      got.map((m) => [m.isBinary, m.isBinary ? [...m.data] : m.data.toString()]),
      [
        [true, [...Buffer.from('as-binary')]],
        [true, [1, 2, 3]],
        [true, [...Buffer.from(new Uint16Array([0x0102, 0x0304]).buffer)]],
        [true, [6, 7]],
        [false, 'text'],
      ],
    );
  });

  test('round-trips messages around each frame length encoding (7-bit, 16-bit, 64-bit)', T, async (t) => {
    const server = await startServer(t, echoApp());
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/echo`);
    for (const size of [0, 125, 126, 1024, 1025, 65535, 65536, 300_000]) {
      const text = 'ü'.repeat(Math.floor(size / 2)) + 'a'.repeat(size % 2);
      ws.send(text);
      const echoed = await nextMessage(ws);
      assert.equal(echoed.isBinary, false);
      assert.equal(echoed.data.toString(), text, `text of ${size} bytes`);
      const bytes = Buffer.alloc(size, size % 251);
      ws.send(bytes);
      const back = await nextMessage(ws);
      assert.equal(back.isBinary, true);
      assert.ok(back.data.equals(bytes), `binary of ${size} bytes`);
    }
  });

  test('refuses to send what is neither a string nor bytes', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open(conn) {
        for (const value of [42, {}, null, undefined]) {
          try {
            conn.send(value);
            log.push('sent', value);
          } catch (err) {
            log.push('threw', err.constructor.name);
          }
        }
        log.push('done');
      },
    });
    const server = await startServer(t, app);
    await connect(t, `ws://127.0.0.1:${server.port}/x`);
    await log.wait('done');
    assert.deepEqual(log.events.slice(0, 4), [
      ['threw', 'TypeError'],
      ['threw', 'TypeError'],
      ['threw', 'TypeError'],
      ['threw', 'TypeError'],
    ]);
  });

  test('exposes protocol, extensions, bufferedAmount, readyState and a data slot', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open(conn) {
        conn.data = { n: 1 };
        log.push('open', conn.protocol, conn.extensions, conn.bufferedAmount, conn.readyState, conn.data);
      },
    });
    const server = await startServer(t, app);
    await connect(t, `ws://127.0.0.1:${server.port}/x`, undefined, { perMessageDeflate: true });
    const [protocol, extensions, buffered, state, data] = await log.wait('open');
    assert.equal(protocol, '');
    assert.equal(extensions, '');
    assert.equal(typeof buffered, 'number');
    assert.equal(state, WS_READY_STATE.OPEN);
    assert.deepEqual(data, { n: 1 });
  });
});

describe('control frames', () => {
  test('answers a PING with a PONG carrying the same payload', T, async (t) => {
    const server = await startServer(t, echoApp());
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/echo`);
    ws.ping(Buffer.from('are you there?'));
    const [payload] = await once(ws, 'pong');
    assert.equal(payload.toString(), 'are you there?');
  });

  test('sends pings and unsolicited pongs with the given payload', T, async (t) => {
    const app = new App().ws('/x', {
      open(conn) {
        conn.ping('p1');
        conn.ping(new Uint8Array([1, 2]));
        conn.pong('u1');
        conn.ping();
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    const frames = [await client.frame(), await client.frame(), await client.frame(), await client.frame()];
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.masked, [...f.payload]]),
      [
        [0x9, true, false, [...Buffer.from('p1')]],
        [0x9, true, false, [1, 2]],
        [0xa, true, false, [...Buffer.from('u1')]],
        [0x9, true, false, []],
      ],
    );
  });

  test('throws on a ping or pong payload over 125 bytes', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open(conn) {
        for (const fn of ['ping', 'pong']) {
          try {
            conn[fn]('x'.repeat(126));
          } catch (err) {
            log.push('threw', fn, err instanceof WebSocketProtocolError, err.message);
          }
        }
        conn.ping('y'.repeat(125));
        log.push('done');
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    await log.wait('done');
    assert.deepEqual(log.events.slice(0, 2), [
      ['threw', 'ping', true, 'Control frame payload exceeds 125 bytes'],
      ['threw', 'pong', true, 'Control frame payload exceeds 125 bytes'],
    ]);
    assert.equal((await client.frame()).payload.length, 125);
  });

  test('reassembles a fragmented message with a PING between its fragments', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      message(conn, data) {
        log.push('message', data);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    client.send(clientFrame(1, 'frag', { fin: false }));
    client.send(clientFrame(9, 'ping!'));
    client.send(clientFrame(0, 'men', { fin: false }));
    client.send(clientFrame(0, 'ted', { fin: true }));
    const pong = await client.frame();
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.payload.toString(), 'ping!');
    assert.deepEqual(await log.wait('message'), ['fragmented']);
  });
});

describe('closing', () => {
  test('answers a peer CLOSE with the same code and reason, then reports it', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      close(conn, code, reason) {
        log.push('close', code, reason, conn.readyState);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    ws.close(4321, 'done here');
    assert.deepEqual(await closed(ws), { code: 4321, reason: 'done here' });
    assert.deepEqual(await log.wait('close'), [4321, 'done here', WS_READY_STATE.CLOSED]);
  });

  test('answers an empty CLOSE with an empty CLOSE and reports 1005', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    client.send(clientFrame(8));
    const frame = await client.frame();
    assert.equal(frame.opcode, 8);
    assert.equal(frame.payload.length, 0);
    await client.ended;
    assert.deepEqual(await log.wait('close'), [1005, '']);
  });

  test('close(code, reason) sends that CLOSE, calls close once, and ends the socket when the peer answers', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open(conn) {
        conn.close(4000, 'bye');
        log.push('state', conn.readyState);
        conn.close(4001, 'again');
        conn.send('ignored after close');
      },
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    assert.deepEqual(await client.closeFrame(), { code: 4000, reason: 'bye', empty: false });
    client.send(clientFrame(8, closePayload(4000, 'bye')));
    await client.ended;
    assert.deepEqual(log.events, [
      ['close', 4000, 'bye'],
      ['state', WS_READY_STATE.CLOSING],
    ]);
    assert.equal(client.buffer.length, 0);
  });

  test('close() defaults to 1000 and refuses codes that may not go on the wire', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open(conn) {
        for (const [code, reason] of [[1005, ''], [1006, ''], [999, ''], [5000, ''], [1000, 'x'.repeat(124)]]) {
          try {
            conn.close(code, reason);
          } catch (err) {
            log.push('threw', code, err instanceof WebSocketProtocolError);
          }
        }
        log.push('state', conn.readyState);
        conn.close();
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    assert.deepEqual(await closed(ws), { code: 1000, reason: '' });
    assert.deepEqual(log.events, [
      ['threw', 1005, true],
      ['threw', 1006, true],
      ['threw', 999, true],
      ['threw', 5000, true],
      ['threw', 1000, true],
      ['state', WS_READY_STATE.OPEN],
    ]);
  });

  test('delivers no message after close, even one from the same read', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      message(conn, data) {
        log.push('message', data);
        conn.close(1000, 'enough');
      },
      close(conn, code) {
        log.push('close', code);
      },
      error(conn, err) {
        log.push('error', err);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    client.send(Buffer.concat([clientFrame(1, 'one'), clientFrame(1, 'two'), clientFrame(9, 'ping')]));
    assert.equal((await client.closeFrame()).code, 1000);
    client.send(clientFrame(8, closePayload(1000)));
    await client.ended;
    assert.deepEqual(log.events, [
      ['message', 'one'],
      ['close', 1000],
    ]);
  });

  test('terminate() drops the socket without a CLOSE frame and reports 1006', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      message(conn) {
        conn.terminate();
        log.push('state', conn.readyState);
      },
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    client.send(clientFrame(1, 'bye'));
    await client.ended;
    assert.equal(client.buffer.length, 0);
    assert.deepEqual(await log.wait('close'), [1006, '']);
    assert.deepEqual(log.events[0], ['state', WS_READY_STATE.CLOSED]);
  });

  test('reports close(1006, "") when the peer disconnects without a closing handshake', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open() {
        log.push('open');
      },
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    await log.wait('open');
    ws.terminate();
    assert.deepEqual(await log.wait('close'), [1006, '']);
    await until(() => server.connections.size === 0);
  });

  test('ends a closing handshake the peer never answers after the close timeout', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      open(conn) {
        conn.close(1000, 'going');
      },
      close(conn, code) {
        log.push('close', code);
      },
    });
    const server = await startServer(t, app, { closeTimeout: 100 });
    const client = await RawClient.upgrade(t, server.port, '/x');
    assert.equal((await client.closeFrame()).code, 1000);
    await client.ended;
    assert.deepEqual(log.events, [['close', 1000]]);
  });
});

describe('protocol errors', () => {
  async function failWith(t, route, bytes) {
    const log = eventLog();
    const app = new App().ws('/x', {
      ...route,
      message(conn, data) {
        log.push('message', data);
      },
      error(conn, err) {
        log.push('error', err);
      },
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    client.send(bytes);
    const close = await client.closeFrame();
    await client.ended;
    await log.wait('close');
    return { close, log };
  }

  test('closes with 1002 on an unmasked client frame', T, async (t) => {
    const { close, log } = await failWith(t, {}, clientFrame(1, 'plain', { mask: false }));
    assert.equal(close.code, 1002);
    const [err] = await log.wait('error');
    assert.ok(err instanceof WebSocketProtocolError);
    assert.equal(err.message, 'Client frames must be masked');
    assert.deepEqual(await log.wait('close'), [1002, 'Client frames must be masked']);
  });

  test('lets error() choose the close code, and still ends the socket at once', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/x', {
      error(conn, err) {
        conn.close(4400, err.code);
      },
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/x');
    client.send(clientFrame(1, 'plain', { mask: false }));
    assert.deepEqual(await client.closeFrame(), { code: 4400, reason: 'WS_ERR_EXPECTED_MASK', empty: false });
    await client.ended;
    assert.deepEqual(log.events, [['close', 4400, 'WS_ERR_EXPECTED_MASK']]);
  });

  test('closes with 1002 on a reserved bit without an extension', T, async (t) => {
    const { close } = await failWith(t, {}, clientFrame(1, 'x', { rsv: 4 }));
    assert.equal(close.code, 1002);
  });

  test('closes with 1007 on a text message that is not UTF-8, after delivering the messages before it', T, async (t) => {
    const bad = Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65]);
    const { close, log } = await failWith(t, {}, Buffer.concat([clientFrame(1, 'fine'), clientFrame(1, bad)]));
    assert.equal(close.code, 1007);
    assert.deepEqual(log.kinds(), ['message', 'error', 'close']);
    assert.equal(log.events[0][1], 'fine');
    assert.equal(log.events[1][1].code, 'WS_ERR_INVALID_UTF8');
  });

  test('closes with 1009 on a message over maxPayloadLength', T, async (t) => {
    const { close, log } = await failWith(t, { maxPayloadLength: 16 }, clientFrame(2, Buffer.alloc(17)));
    assert.equal(close.code, 1009);
    assert.equal((await log.wait('error'))[0].name, 'WebSocketPayloadTooLargeError');
  });

  test('closes with 1009 on fragments that together exceed maxPayloadLength', T, async (t) => {
    const frames = [clientFrame(2, Buffer.alloc(10), { fin: false }), clientFrame(0, Buffer.alloc(10), { fin: true })];
    const { close } = await failWith(t, { maxPayloadLength: 16 }, Buffer.concat(frames));
    assert.equal(close.code, 1009);
  });

  test('closes with 1008 on a message of more fragments than maxFragments', T, async (t) => {
    const frames = [clientFrame(1, 'a', { fin: false })];
    for (let i = 0; i < 5; i++) frames.push(clientFrame(0, 'b', { fin: false }));
    const { close } = await failWith(t, { maxFragments: 4 }, Buffer.concat(frames));
    assert.equal(close.code, 1008);
  });
});
