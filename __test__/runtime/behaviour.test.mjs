// One behavioural suite for every runtime: server.mjs runs under the runtime named by
// DALOY_RUNTIME (node by default; bun, deno, bun-node) in a child process, and these tests drive it
// from Node over raw 127.0.0.1 sockets. scripts/runtimes.sh runs it against each runtime.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RUNTIME, startRuntimeServer } from './harness.mjs';
import { RawClient, upgradeRequest, clientFrame, closePayload, decodeFrame, KEY, ACCEPT } from '../fixtures/node-helpers.mjs';

const T = { timeout: 15_000 };
// Deno.upgradeWebSocket gives no way to send a PING or an unsolicited PONG.
const SERVER_CONTROL_FRAMES = RUNTIME !== 'deno';
// Deno's own framing (the README lists it): unmasked client frames are accepted, and a frame
// with reserved bits or invalid UTF-8 ends the TCP connection without a CLOSE frame.
const DENO_FRAMING = RUNTIME === 'deno';

/** The server fails the connection: a CLOSE with `code`, or on Deno the TCP connection ends without one. */
async function failed(client, code) {
  if (DENO_FRAMING) {
    await client.ended;
    for (let frame; (frame = decodeFrame(client.buffer)) !== null; client.buffer = client.buffer.subarray(frame.size)) {
      assert.notEqual(frame.opcode, 0x8, 'Deno sent a CLOSE frame');
    }
    return;
  }
  assert.equal((await client.closeFrame()).code, code);
}

let server;
before(async () => {
  server = await startRuntimeServer();
});
after(async () => {
  await server?.stop();
});

async function handshake(t, path, options) {
  const client = await RawClient.open(t, server.port);
  client.send(upgradeRequest(path, options));
  const res = await client.response();
  return { ...res, client };
}

async function connect(t, path, options) {
  const res = await handshake(t, path, options);
  assert.equal(res.status, 101, `expected 101 on ${path}, got ${res.status} ${res.body}`);
  return res.client;
}

async function nextData(client) {
  for (;;) {
    const frame = await client.frame();
    if (frame.opcode === 0x1) return frame.payload.toString('utf8');
    if (frame.opcode === 0x2) return frame.payload;
    if (frame.opcode === 0x8) throw new Error(`closed: ${frame.payload.readUInt16BE(0)}`);
  }
}

function tagged(tag) {
  return ([data]) => data === tag;
}

describe(`handshake (${RUNTIME})`, () => {
  test('answers 101 with the RFC 6455 accept key, and the subprotocol beforeUpgrade selects', T, async (t) => {
    const res = await handshake(t, '/echo', { headers: { 'Sec-WebSocket-Protocol': 'other, echo.v1' } });
    assert.equal(res.status, 101);
    assert.equal(res.headers.upgrade.toLowerCase(), 'websocket');
    assert.equal(res.headers['sec-websocket-accept'], ACCEPT);
    assert.equal(res.headers['sec-websocket-protocol'], 'echo.v1');
    const plain = await handshake(t, '/echo');
    assert.equal(plain.status, 101);
    assert.equal(plain.headers['sec-websocket-protocol'], undefined);
    assert.equal(createHash('sha1').update(KEY + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64'), ACCEPT);
  });

  test('answers 404 to an upgrade for a path no route owns, and to plain HTTP requests', T, async (t) => {
    assert.equal((await handshake(t, '/nowhere')).status, 404);
    const client = await RawClient.open(t, server.port);
    client.send('GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.equal((await client.response()).status, 404);
  });

  test('answers 405 with Allow: GET to a method other than GET', { ...T, skip: DENO_FRAMING && 'Deno.serve answers 400 itself' }, async (t) => {
    const res = await handshake(t, '/echo', { method: 'POST', headers: { 'Content-Length': '0' } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET');
  });

  test('answers 400 to an Upgrade header other than websocket', T, async (t) => {
    const res = await handshake(t, '/echo', { headers: { Upgrade: 'h2c' } });
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Missing or invalid Upgrade header');
  });

  test('answers 426 with Sec-WebSocket-Version: 13 to another version', T, async (t) => {
    const res = await handshake(t, '/echo', { headers: { 'Sec-WebSocket-Version': '8' } });
    assert.equal(res.status, 426);
    assert.equal(res.headers['sec-websocket-version'], '13');
    assert.equal(res.body, 'Unsupported Sec-WebSocket-Version');
  });

  test('answers 400 to a malformed Sec-WebSocket-Key', T, async (t) => {
    const res = await handshake(t, '/echo', { headers: { 'Sec-WebSocket-Key': 'c2hvcnQ=' } });
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Missing or invalid Sec-WebSocket-Key');
  });

  test('answers 403 to an Origin off the allow-list, and accepts a listed or absent one', T, async (t) => {
    const denied = await handshake(t, '/origin', { headers: { Origin: 'http://evil.example' } });
    assert.equal(denied.status, 403);
    assert.equal((await handshake(t, '/origin', { headers: { Origin: 'http://allowed.example' } })).status, 101);
    assert.equal((await handshake(t, '/origin')).status, 101);
  });

  test('rejects with the status, headers and body of the Response beforeUpgrade returns', T, async (t) => {
    const res = await handshake(t, '/reject');
    assert.equal(res.status, 401);
    assert.equal(res.headers['x-reason'], 'token');
    assert.equal(res.body, 'unauthorized');
  });

  test('rejects with a Response of another fetch implementation as with the runtime\'s own', T, async (t) => {
    const res = await handshake(t, '/reject-foreign');
    assert.equal(res.status, 402);
    assert.equal(res.headers['x-reason'], 'foreign');
    assert.equal(res.body, 'payment required');
  });

  test('answers 500 to a beforeUpgrade that throws or rejects, and logs it', T, async (t) => {
    assert.equal((await handshake(t, '/before-sync-throw')).status, 500);
    assert.deepEqual(await server.next('log', ([, err]) => err === 'sync before failed'), ['WebSocket beforeUpgrade() failed', 'sync before failed']);
    assert.equal((await handshake(t, '/before/throw')).status, 500);
    await server.next('log', ([, err]) => err === 'before failed');
  });

  test('answers 400 to a WebSocketProtocolError and to a subprotocol the client did not offer', T, async (t) => {
    const protocolError = await handshake(t, '/before/protocol-error');
    assert.equal(protocolError.status, 400);
    assert.equal(protocolError.body, 'Bad token');
    const notOffered = await handshake(t, '/before/not-offered', { headers: { 'Sec-WebSocket-Protocol': 'first' } });
    assert.equal(notOffered.status, 400);
  });

  test('awaits an async beforeUpgrade that selects a subprotocol, then opens', T, async (t) => {
    const res = await handshake(t, '/before/select', { headers: { 'Sec-WebSocket-Protocol': 'first, second' } });
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-protocol'], 'second');
    assert.deepEqual(await server.next('open', ([what]) => what === 'before'), ['before', 'second']);
  });

  test('gives open a ctx with params, query, lower-case headers, protocols and a Request', T, async (t) => {
    const client = await connect(t, '/ctx/lobby%20one?user=ann&x=1', {
      headers: { 'X-Custom': 'yes', 'Sec-WebSocket-Protocol': 'p1, p2' },
    });
    const info = JSON.parse(await nextData(client));
    assert.deepEqual(info, {
      params: { room: 'lobby one' },
      query: { user: 'ann', x: '1' },
      host: '127.0.0.1',
      custom: 'yes',
      protocols: ['p1', 'p2'],
      method: 'GET',
      url: '/ctx/lobby%20one',
      state: {},
      readyState: 1,
      protocol: '',
      extensions: '',
      binaryType: 'nodebuffer',
      bufferedAmount: 'number',
    });
  });
});

describe(`messages (${RUNTIME})`, () => {
  test('echoes text as text and binary as binary, around each length encoding', T, async (t) => {
    const client = await connect(t, '/large');
    client.send(clientFrame(0x1, 'héllo'));
    assert.equal(await nextData(client), 'héllo');
    for (const size of [0, 125, 126, 4096]) {
      const bytes = Buffer.alloc(size, size & 0xff);
      client.send(clientFrame(0x2, bytes));
      const echoed = await nextData(client);
      assert.ok(Buffer.isBuffer(echoed));
      assert.ok(echoed.equals(bytes), `binary of ${size} bytes`);
    }
  });

  test('sends a string as binary with { binary: true }', T, async (t) => {
    const client = await connect(t, '/echo');
    client.send(clientFrame(0x1, 'binary-string'));
    const frame = await client.frame();
    assert.equal(frame.opcode, 0x2);
    assert.equal(frame.payload.toString(), 'as bytes');
  });

  test('reassembles a fragmented message with a PING between its fragments', T, async (t) => {
    const client = await connect(t, '/echo');
    client.send(clientFrame(0x1, 'frag', { fin: false }));
    client.send(clientFrame(0x9, 'mid'));
    client.send(clientFrame(0x0, 'mented'));
    const pong = await client.frame();
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.payload.toString(), 'mid');
    assert.equal(await nextData(client), 'fragmented');
  });

  test('delivers binary as an ArrayBuffer with binaryType "arraybuffer", and ignores unknown types', T, async (t) => {
    const client = await connect(t, '/arraybuffer');
    assert.deepEqual(await server.next('binaryType'), ['nodebuffer']);
    client.send(clientFrame(0x2, Buffer.from([1, 2, 3])));
    assert.deepEqual(await server.next('message-type'), [true, true, 3]);
    assert.deepEqual([...(await nextData(client))], [1, 2, 3]);
  });

  test('answers a PING with a PONG carrying the same payload', T, async (t) => {
    const client = await connect(t, '/echo');
    client.send(clientFrame(0x9, 'are you there'));
    const frame = await client.frame();
    assert.equal(frame.opcode, 0xa);
    assert.equal(frame.payload.toString(), 'are you there');
  });

  test('sends pings and unsolicited pongs with the given payload', { ...T, skip: !SERVER_CONTROL_FRAMES && 'Deno exposes no control frames' }, async (t) => {
    const client = await connect(t, '/echo');
    client.send(clientFrame(0x1, 'ping-me'));
    const ping = await client.frame();
    assert.deepEqual([ping.opcode, ping.payload.toString()], [0x9, 'from server']);
    const pong = await client.frame();
    assert.deepEqual([pong.opcode, pong.payload.toString()], [0xa, 'unsolicited']);
  });

  test('throws on a ping payload over 125 bytes', T, async (t) => {
    const client = await connect(t, '/echo');
    client.send(clientFrame(0x1, 'big-ping'));
    assert.equal(await nextData(client), 'WebSocketProtocolError: Control frame payload exceeds 125 bytes');
  });
});

describe(`closing (${RUNTIME})`, () => {
  test('answers a peer CLOSE with the same code and reason, and reports it to close', T, async (t) => {
    const client = await connect(t, '/echo?tag=peer-close');
    await server.next('open', tagged('peer-close'));
    client.send(clientFrame(0x8, closePayload(4321, 'done here')));
    assert.deepEqual(await client.closeFrame(), { code: 4321, reason: 'done here', empty: false });
    assert.deepEqual(await server.next('close', tagged('peer-close')), ['peer-close', 4321, 'done here', 3]);
    await client.ended;
  });

  test('answers an empty CLOSE with an empty CLOSE and reports 1005', T, async (t) => {
    const client = await connect(t, '/echo?tag=empty-close');
    await server.next('open', tagged('empty-close'));
    client.send(clientFrame(0x8));
    assert.deepEqual(await client.closeFrame(), { code: 1005, reason: '', empty: true });
    assert.deepEqual((await server.next('close', tagged('empty-close'))).slice(1, 3), [1005, '']);
  });

  test('close(code, reason) sends that CLOSE and calls close once, in CLOSING state', T, async (t) => {
    const client = await connect(t, '/echo?tag=server-close');
    client.send(clientFrame(0x1, 'close-me'));
    assert.deepEqual(await client.closeFrame(), { code: 4000, reason: 'bye', empty: false });
    assert.deepEqual(await server.next('close', tagged('server-close')), ['server-close', 4000, 'bye', 2]);
    client.send(clientFrame(0x8, closePayload(4000, 'bye')));
    await client.ended;
    assert.equal(server.events.filter((e) => e[0] === 'close' && e[1] === 'server-close').length, 1);
  });

  test('reports close(1006, "") when the peer disconnects without a closing handshake', T, async (t) => {
    const client = await connect(t, '/echo?tag=abrupt');
    await server.next('open', tagged('abrupt'));
    client.socket.destroy();
    assert.deepEqual((await server.next('close', tagged('abrupt'))).slice(1, 3), [1006, '']);
  });

  test('closes with 1002 on an unmasked client frame', { ...T, skip: DENO_FRAMING && 'Deno accepts unmasked client frames' }, async (t) => {
    const client = await connect(t, '/echo');
    client.send(clientFrame(0x1, 'plain', { mask: false }));
    assert.equal((await client.closeFrame()).code, 1002);
    await client.ended;
  });

  test('closes with 1002 on a reserved bit without an extension', T, async (t) => {
    const client = await connect(t, '/echo');
    client.send(clientFrame(0x1, 'rsv', { rsv: 2 }));
    await failed(client, 1002);
  });

  test('closes with 1007 on a text message that is not UTF-8, after the messages before it', T, async (t) => {
    const client = await connect(t, '/echo');
    client.send(Buffer.concat([clientFrame(0x1, 'fine'), clientFrame(0x1, Buffer.from([0xce, 0xba, 0xff]))]));
    assert.equal(await nextData(client), 'fine');
    await failed(client, 1007);
  });

  test('closes with 1009 on a message over the route maxPayloadLength, per route', T, async (t) => {
    const small = await connect(t, '/echo?tag=too-big');
    small.send(clientFrame(0x2, Buffer.alloc(2000)));
    assert.equal((await small.closeFrame()).code, 1009);
    assert.equal((await server.next('close', tagged('too-big')))[1], 1009);
    const large = await connect(t, '/large');
    large.send(clientFrame(0x2, Buffer.alloc(2000, 7)));
    assert.equal((await nextData(large)).length, 2000);
    large.send(clientFrame(0x2, Buffer.alloc(5000)));
    assert.equal((await large.closeFrame()).code, 1009);
  });

  test('closes a connection idle for idleTimeout seconds with 1001', T, async (t) => {
    const client = await connect(t, '/idle');
    assert.deepEqual(await client.closeFrame(), { code: 1001, reason: 'Idle timeout', empty: false });
    const [, code, reason] = await server.next('close', tagged('idle'));
    assert.deepEqual([code, reason], [1001, 'Idle timeout']);
  });

  test('closes with 1009 when a peer that does not read lets queued bytes pass backpressureLimit', { timeout: 30_000 }, async (t) => {
    const client = await connect(t, '/flood');
    client.send(clientFrame(0x1, 'go'));
    client.socket.pause();
    const [, code, reason] = await server.next('close', tagged('flood'));
    assert.deepEqual([code, reason], [1009, 'Backpressure limit exceeded']);
    client.socket.destroy();
  });
});

describe(`handler errors (${RUNTIME})`, () => {
  test('open: logged, reported to error(), and the connection closed with 1011', T, async (t) => {
    const client = await connect(t, '/open-throws');
    assert.deepEqual(await client.closeFrame(), { code: 1011, reason: 'Internal Server Error', empty: false });
    assert.deepEqual(await server.next('error', tagged('open-throws')), ['open-throws', 'open failed']);
    await server.next('log', ([message, err]) => message === 'WebSocket open() handler failed' && err === 'open failed');
  });

  test('message: a throw or a rejection is logged and reported; the connection keeps working', T, async (t) => {
    const client = await connect(t, '/message-throws');
    client.send(clientFrame(0x1, 'throw'));
    client.send(clientFrame(0x1, 'reject'));
    client.send(clientFrame(0x1, 'still here'));
    assert.equal(await nextData(client), 'still here');
    assert.deepEqual(await server.next('error', ([, m]) => m === 'message failed'), ['message-throws', 'message failed']);
    assert.deepEqual(await server.next('error', ([, m]) => m === 'message rejected'), ['message-throws', 'message rejected']);
    await server.next('log', ([message]) => message === 'WebSocket message() handler failed');
  });
});

describe(`graceful shutdown (${RUNTIME})`, () => {
  test('on SIGTERM sends 1001 to every connection, calls their close handlers, and exits 0', { timeout: 20_000 }, async (t) => {
    const own = await startRuntimeServer();
    t.after(() => own.stop());
    const clients = [];
    for (const tag of ['a', 'b']) {
      const client = await RawClient.open(t, own.port);
      client.send(upgradeRequest(`/echo?tag=${tag}`));
      assert.equal((await client.response()).status, 101);
      await own.next('open', tagged(tag));
      clients.push(client);
    }
    own.child.kill('SIGTERM');
    for (const client of clients) {
      assert.deepEqual(await client.closeFrame(), { code: 1001, reason: 'Server shutting down', empty: false });
      client.send(clientFrame(0x8, closePayload(1001)));
    }
    for (const tag of ['a', 'b']) assert.deepEqual((await own.next('close', tagged(tag))).slice(1, 3), [1001, 'Server shutting down']);
    await Promise.all(clients.map((c) => c.ended));
    assert.equal(await own.exited, 0);
  });
});
