// permessage-deflate (RFC 7692) scenarios of the `ws` differential suite: the server's answer to a
// table of offers under several configurations (the 101's bytes), the client's offer and its
// check of the server's answer, and messages both ways, read off the wire frame by frame (RSV1,
// opcode, FIN) and inflated here with node:zlib. Compressed bytes are not compared: this package
// compresses with zlib-rs, `ws` with zlib; what a peer reads (frames and inflated content) is.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { clientFrame, httpServer, listen, next, rawExchange, show, until, upgradeRequest, Peer } from './harness.mjs';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;

function acceptKeyOf(key) {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** The whole frames of `buffer` (unmasked) and how many bytes they took. */
function parseFrames(buffer) {
  const frames = [];
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const b0 = buffer[at];
    const b1 = buffer[at + 1];
    let length = b1 & 0x7f;
    let p = at + 2;
    if (length === 126) {
      if (buffer.length < p + 2) break;
      length = buffer.readUInt16BE(p);
      p += 2;
    } else if (length === 127) {
      if (buffer.length < p + 8) break;
      length = Number(buffer.readBigUInt64BE(p));
      p += 8;
    }
    let key = null;
    if (b1 & 0x80) {
      if (buffer.length < p + 4) break;
      key = buffer.subarray(p, p + 4);
      p += 4;
    }
    if (buffer.length < p + length) break;
    const payload = Buffer.from(buffer.subarray(p, p + length));
    if (key !== null) for (let i = 0; i < length; i++) payload[i] ^= key[i & 3];
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, masked: key !== null, payload });
    at = p + length;
  }
  return { frames, used: at };
}

/**
 * What a reader of one direction of a connection sees: each data message as its frames' headers
 * (opcode, FIN, RSV1) and its content (inflated when RSV1 was set; text as text), control frames
 * as opcode and payload. Inflation keeps one stream per direction (the concatenation of flushed
 * messages is one raw deflate stream whether or not the sender kept its window).
 */
class WireReader {
  #buffer = Buffer.alloc(0);
  #compressed = [];
  #inflatedLength = 0;
  #message = null;
  records = [];
  // The payload length on the wire of each data frame, from the first byte after the 101.
  payloadSizes = [];

  push(chunk) {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const { frames, used } = parseFrames(this.#buffer);
    this.#buffer = this.#buffer.subarray(used);
    for (const frame of frames) this.#frame(frame);
  }

  #frame(frame) {
    if (frame.opcode >= 0x8) {
      this.records.push(['control', frame.opcode, frame.masked, frame.payload.toString('hex')]);
      return;
    }
    this.payloadSizes.push(frame.payload.length);
    if (this.#message === null) this.#message = { headers: [], parts: [], compressed: frame.rsv1, text: frame.opcode === TEXT };
    const message = this.#message;
    message.headers.push([frame.opcode, frame.fin, frame.rsv1, frame.masked]);
    message.parts.push(frame.payload);
    if (!frame.fin) return;
    this.#message = null;
    let data = Buffer.concat(message.parts);
    if (message.compressed) {
      this.#compressed.push(data, TAIL);
      const all = zlib.inflateRawSync(Buffer.concat(this.#compressed), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      data = all.subarray(this.#inflatedLength);
      this.#inflatedLength = all.length;
    }
    this.records.push(['message', message.headers, message.text ? data.toString() : data.toString('hex')]);
  }
}

/** A compressor of one direction: `context` keeps the window between messages. */
function compressor(context) {
  let stream = null;
  return async (bytes, fin = true) => {
    if (stream === null || !context) stream = zlib.createDeflateRaw({ windowBits: 15 });
    const parts = [];
    const onData = (chunk) => parts.push(chunk);
    stream.on('data', onData);
    stream.write(bytes);
    await new Promise((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
    stream.off('data', onData);
    const out = Buffer.concat(parts);
    return fin ? out.subarray(0, out.length - 4) : out;
  };
}

/**
 * A raw client of `port` offering `offer`: the 101 (as text, Date aside), a WireReader of what the
 * server sends, and `send(frame)`.
 */
async function rawDeflateClient(port, offer, track, path = '/') {
  const socket = net.connect(port, '127.0.0.1');
  track.push(() => socket.destroy());
  socket.on('error', () => {});
  await next(socket, 'connect');
  const headers = offer === undefined ? {} : { 'Sec-WebSocket-Extensions': offer };
  socket.write(upgradeRequest(path, { headers }));
  const reader = new WireReader();
  let head = Buffer.alloc(0);
  let response;
  socket.on('data', (chunk) => {
    if (response !== undefined) return reader.push(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) return;
    response = head.subarray(0, end + 4).toString('latin1');
    reader.push(head.subarray(end + 4));
  });
  const closed = new Promise((resolve) => socket.on('close', resolve));
  await until(() => response !== undefined, 'the 101');
  return { socket, reader, response, closed, send: (frame) => socket.write(frame) };
}

// Offers a client may make, one per line of the table.
const OFFERS = [
  undefined,
  'permessage-deflate',
  'permessage-deflate; client_max_window_bits',
  'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  'permessage-deflate; server_max_window_bits=12',
  'permessage-deflate; client_max_window_bits=11',
  'permessage-deflate; server_max_window_bits=10; client_max_window_bits',
  'x-webkit-deflate-frame',
  'x-webkit-deflate-frame, permessage-deflate; client_max_window_bits',
  'permessage-deflate; server_no_context_takeover, permessage-deflate',
];

// Server configurations (`perMessageDeflate`), one scenario each.
const SERVER_CONFIGS = {
  'off (the default)': undefined,
  true: true,
  'no context takeover both ways': { serverNoContextTakeover: true, clientNoContextTakeover: true },
  'serverMaxWindowBits 10': { serverMaxWindowBits: 10 },
  'clientMaxWindowBits 10': { clientMaxWindowBits: 10 },
  'serverNoContextTakeover and serverMaxWindowBits 12': { serverNoContextTakeover: true, serverMaxWindowBits: 12 },
};

export const scenarios = {};

for (const [name, perMessageDeflate] of Object.entries(SERVER_CONFIGS)) {
  scenarios[`deflate: the server's answers to a table of offers, perMessageDeflate ${name}`] = async ({ impl, rec, track }) => {
    const { wss, port } = await listen(impl, perMessageDeflate === undefined ? {} : { perMessageDeflate }, track);
    let seen = null;
    wss.on('connection', (ws) => {
      seen = ws.extensions;
      ws.terminate();
    });
    for (const offer of OFFERS) {
      seen = null;
      const headers = offer === undefined ? {} : { 'Sec-WebSocket-Extensions': offer };
      const response = await rawExchange(port, upgradeRequest('/', { headers }));
      await until(() => seen !== null || !response.startsWith('HTTP/1.1 101'), 'the connection');
      rec(offer ?? '(no offer)', response, seen);
    }
  };
}

// Offers that break RFC 7692 or that no configuration here can honour.
const BAD_OFFERS = [
  'permessage-deflate; foo',
  'permessage-deflate; server_max_window_bits',
  'permessage-deflate; server_max_window_bits=7',
  'permessage-deflate; client_no_context_takeover=1',
  'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
  'permessage-deflate; server_max_window_bits=9',
];

scenarios['deflate: offers the server declines (invalid, or asking for less than serverMaxWindowBits 10)'] = async ({ impl, rec, track }) => {
  const { wss, port } = await listen(impl, { perMessageDeflate: { serverMaxWindowBits: 10 } }, track);
  wss.on('connection', (ws) => {
    rec('connection', ws.extensions);
    ws.terminate();
  });
  for (const offer of BAD_OFFERS) {
    rec(offer, await rawExchange(port, upgradeRequest('/', { headers: { 'Sec-WebSocket-Extensions': offer } })));
  }
};

scenarios['deflate: the server option is checked and kept as given'] = async ({ impl, rec }) => {
  const options = { threshold: 10, zlibDeflateOptions: { level: 1, memLevel: 4 }, zlibInflateOptions: { chunkSize: 1024 }, concurrencyLimit: 2 };
  const wss = new impl.WebSocketServer({ noServer: true, perMessageDeflate: options });
  rec('kept', wss.options.perMessageDeflate === options);
  const enabled = new impl.WebSocketServer({ noServer: true, perMessageDeflate: true });
  rec('true', enabled.options.perMessageDeflate);
};

/** A server of `impl` (deflate as `perMessageDeflate`) echoing, with a few commands for sends of its own. */
async function deflateEcho(impl, perMessageDeflate, rec, track) {
  const { wss, port } = await listen(impl, { perMessageDeflate }, track);
  // When a send callback runs depends on how compression is scheduled (`ws` compresses in
  // libuv's thread pool): it is recorded when the scenario ends, not among the events.
  const callbacks = [];
  wss.on('connection', (ws) => {
    rec('extensions', ws.extensions);
    ws.on('error', (err) => rec('error', err.code));
    ws.on('close', (code) => rec('close', code));
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      rec('message', isBinary, isBinary ? data.toString('hex') : text.length > 80 ? `${text.length} chars` : text);
      if (text === 'fragments') {
        ws.send('first half '.repeat(30), { fin: false });
        ws.send('second half '.repeat(30), { fin: true }, (err) => callbacks.push(show(err)));
      } else if (text === 'uncompressed') {
        ws.send('not compressed '.repeat(100), { compress: false });
      } else if (text === 'twice') {
        const same = JSON.stringify({ user: 'someone', items: Array.from({ length: 40 }, (_, i) => ({ i, name: `item ${i}` })) });
        ws.send(same);
        ws.send(same);
      } else if (text === 'small') {
        ws.send('tiny');
        ws.send(Buffer.alloc(2000, 0x61));
      } else {
        ws.send(data, { binary: isBinary });
      }
    });
  });
  return { port, callbacks };
}

for (const [name, offer, perMessageDeflate, context] of [
  ['context takeover (the defaults)', 'permessage-deflate; client_max_window_bits', true, true],
  ['no context takeover both ways, threshold 100', 'permessage-deflate; client_max_window_bits', { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 100 }, false],
  ['window bits 9 both ways, as a client asked', 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=9', true, true],
]) {
  scenarios[`deflate: messages both ways with a raw client, ${name}`] = async ({ impl, rec, track }) => {
    const { port, callbacks } = await deflateEcho(impl, perMessageDeflate, rec, track);
    const client = await rawDeflateClient(port, offer, track);
    rec('101', client.response);
    const deflate = compressor(context);
    const text = (s) => clientFrame(TEXT, s, { rsv: 4 });
    client.send(text(await deflate(Buffer.from('Hello'))));
    client.send(clientFrame(BINARY, await deflate(Buffer.from([1, 2, 3, 1, 2, 3, 1, 2, 3])), { rsv: 4 }));
    client.send(clientFrame(TEXT, 'plain, uncompressed'));
    // One compressed message in three frames: RSV1 on the first only.
    const whole = await deflate(Buffer.from('fragmented and compressed '.repeat(20)));
    client.send(clientFrame(TEXT, whole.subarray(0, 10), { rsv: 4, fin: false }));
    client.send(clientFrame(CONTINUATION, whole.subarray(10, 20), { fin: false }));
    client.send(clientFrame(CONTINUATION, whole.subarray(20)));
    for (const command of ['fragments', 'uncompressed', 'twice', 'small']) client.send(text(await deflate(Buffer.from(command))));
    client.send(clientFrame(0x9, 'ping'));
    await until(() => client.reader.records.length >= 11, 'the echoes', 5000);
    client.send(clientFrame(0x8, Buffer.from([0x03, 0xe8])));
    await client.closed;
    for (const record of client.reader.records) rec('wire', ...record);
    rec('send callbacks', callbacks);
  };
}

scenarios['deflate: context takeover on the server shrinks a repeated message; without it, not'] = async ({ impl, rec, track }) => {
  for (const perMessageDeflate of [true, { serverNoContextTakeover: true }]) {
    const { wss, port } = await listen(impl, { perMessageDeflate }, track);
    const message = JSON.stringify({ user: 'someone', items: Array.from({ length: 60 }, (_, i) => ({ i, name: `item ${i}` })) });
    wss.on('connection', (ws) => {
      ws.send(message);
      ws.send(message);
    });
    const client = await rawDeflateClient(port, 'permessage-deflate', track);
    // Counted by the reader from the first byte after the 101: the frames may arrive with it.
    const sizes = client.reader.payloadSizes;
    await until(() => client.reader.records.length >= 2, 'two messages');
    rec(JSON.stringify(perMessageDeflate), client.response.match(/Sec-WebSocket-Extensions: .*/)[0], client.reader.records);
    rec('second much smaller than the first', sizes[1] * 4 < sizes[0]);
    client.socket.destroy();
  }
};

scenarios['deflate: a client that keeps its window after agreeing client_no_context_takeover fails with 1007'] = async ({ impl, rec, track }) => {
  const { port } = await deflateEcho(impl, { clientNoContextTakeover: true }, rec, track);
  const client = await rawDeflateClient(port, 'permessage-deflate', track);
  rec('101', client.response);
  const deflate = compressor(true);
  const message = Buffer.from('the same message, twice, the second refers back to the first');
  client.send(clientFrame(TEXT, await deflate(message), { rsv: 4 }));
  client.send(clientFrame(TEXT, await deflate(message), { rsv: 4 }));
  await client.closed;
  for (const record of client.reader.records) rec('wire', ...record);
};

scenarios['deflate: RSV1 on a continuation, on a control frame, and without the extension fails with 1002'] = async ({ impl, rec, track }) => {
  for (const [offer, frames] of [
    ['permessage-deflate', [clientFrame(TEXT, 'a', { fin: false }), clientFrame(CONTINUATION, 'b', { rsv: 4 })]],
    ['permessage-deflate', [clientFrame(0x9, 'p', { rsv: 4 })]],
    [undefined, [clientFrame(TEXT, 'a', { rsv: 4 })]],
  ]) {
    const { port } = await deflateEcho(impl, true, rec, track);
    const client = await rawDeflateClient(port, offer, track);
    for (const frame of frames) client.send(frame);
    await client.closed;
    for (const record of client.reader.records) rec('wire', ...record);
  }
};

scenarios['deflate: a compressed message over maxPayload once inflated fails with 1009'] = async ({ impl, rec, track }) => {
  const { wss, port } = await listen(impl, { perMessageDeflate: true, maxPayload: 1000 }, track);
  wss.on('connection', (ws) => {
    ws.on('error', (err) => rec('error', err.constructor.name, err.code));
    ws.on('message', () => rec('message'));
    ws.on('close', (code) => rec('close', code));
  });
  const client = await rawDeflateClient(port, 'permessage-deflate', track);
  const small = await compressor(false)(Buffer.alloc(1001));
  rec('compressed size under the limit', small.length < 1000);
  client.send(clientFrame(BINARY, small, { rsv: 4 }));
  await client.closed;
  for (const record of client.reader.records) rec('wire', ...record);
};

// ------------------------------------------------------------- the client

/** An http server answering upgrades with `extensions` (null: no header), recording offers and client frames. */
async function answeringServer(rec, track, extensions) {
  const { server, port } = await httpServer((req, res) => res.end(), track);
  const readers = [];
  server.on('upgrade', (req, socket) => {
    rec('offer', req.headers['sec-websocket-extensions']);
    socket.on('error', () => {});
    const reader = new WireReader();
    readers.push(reader);
    socket.on('data', (chunk) => reader.push(chunk));
    const header = extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`;
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKeyOf(req.headers['sec-websocket-key'])}\r\n${header}\r\n`,
    );
  });
  return { port, readers };
}

scenarios['deflate: the client offers permessage-deflate by default; its options shape the offer'] = async ({ impl, rec, track }) => {
  const { port } = await answeringServer(rec, track, null);
  for (const perMessageDeflate of [undefined, true, false, { serverNoContextTakeover: true, clientNoContextTakeover: true }, { serverMaxWindowBits: 10, clientMaxWindowBits: 12 }]) {
    const options = perMessageDeflate === undefined ? {} : { perMessageDeflate };
    const ws = new impl.WebSocket(`ws://127.0.0.1:${port}`, options);
    track.push(() => ws.terminate());
    ws.on('error', (err) => rec('error', show(err)));
    await next(ws, 'open');
    rec('open', ws.extensions);
    ws.terminate();
    await next(ws, 'close');
  }
};

/** A client of `impl` (with `options`) whose handshake gets `response`: what it reports, until it closes. */
async function answeredWith(impl, rec, track, response, options) {
  const { port } = await answeringServer(() => {}, track, response);
  const ws = new impl.WebSocket(`ws://127.0.0.1:${port}`, options);
  track.push(() => ws.terminate());
  const closed = next(ws, 'close');
  ws.on('open', () => {
    rec(response, 'open', ws.extensions);
    ws.terminate();
  });
  ws.on('error', (err) => rec(response, 'error', show(err)));
  ws.on('close', (code) => rec(response, 'close', code));
  await closed;
}

const RESPONSES = [
  'permessage-deflate',
  'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
  'permessage-deflate; client_no_context_takeover',
  'x-unknown',
  'permessage-deflate, x-unknown',
  'permessage-deflate; foo',
  'permessage-deflate; client_max_window_bits',
  'permessage-deflate; server_max_window_bits=16',
  'permessage-deflate; server_no_context_takeover=1',
  'permessage-deflate; ;',
  '',
];

scenarios["deflate: the client checks the server's answer; a bad one fails the handshake"] = async ({ impl, rec, track }) => {
  for (const response of RESPONSES) {
    await answeredWith(impl, rec, track, response, {});
  }
  const { port } = await answeringServer(() => {}, track, 'permessage-deflate');
  const off = new impl.WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  off.on('error', (err) => rec('not offered', 'error', show(err)));
  await next(off, 'close');
};

for (const [name, response, perMessageDeflate] of [
  ['context takeover', 'permessage-deflate', undefined],
  ['no context takeover, threshold 100', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', { threshold: 100 }],
  ['client window 9', 'permessage-deflate; client_max_window_bits=9', undefined],
]) {
  scenarios[`deflate: the client's messages on the wire, ${name}`] = async ({ impl, rec, track }) => {
    const { port, readers } = await answeringServer(rec, track, response);
    const ws = new impl.WebSocket(`ws://127.0.0.1:${port}`, perMessageDeflate === undefined ? {} : { perMessageDeflate });
    track.push(() => ws.terminate());
    await next(ws, 'open');
    rec('extensions', ws.extensions);
    ws.send('tiny');
    ws.send('a longer text message, compressible, compressible, compressible '.repeat(5));
    ws.send(Buffer.alloc(300, 7));
    ws.send('not compressed '.repeat(20), { compress: false });
    ws.send('part one '.repeat(20), { fin: false });
    ws.send('part two '.repeat(20), { fin: true });
    ws.send('sent with a callback '.repeat(10), (err) => rec('cb', show(err)));
    ws.ping('p');
    await until(() => readers[0].records.length >= 7, 'the frames');
    for (const record of readers[0].records) rec('wire', record[0], record[1], record[2]);
  };
}

scenarios['deflate: the client against a ws server, messages both ways'] = async ({ impl, rec, track }) => {
  for (const perMessageDeflate of [true, { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11, threshold: 0 }]) {
    const { wss, port } = await listen(Peer, { perMessageDeflate }, track);
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const ws = new impl.WebSocket(`ws://127.0.0.1:${port}`);
    track.push(() => ws.terminate());
    ws.on('upgrade', (res) => rec('answer', res.headers['sec-websocket-extensions']));
    const messages = [];
    ws.on('message', (data, isBinary) => messages.push([isBinary, isBinary ? data.length : data.toString().slice(0, 40)]));
    await next(ws, 'open');
    rec('extensions', ws.extensions);
    ws.send('Hello');
    ws.send('é'.repeat(30000));
    ws.send(Buffer.alloc(100000, 1));
    ws.send('x'.repeat(10), { fin: false });
    ws.send('y'.repeat(5000));
    await until(() => messages.length >= 4, 'the echoes');
    rec('echoes', messages);
    ws.close(1000);
    await next(ws, 'close');
  }
};

// Answers RFC 7692 says a client must fail the connection on (§7.1.1.1, §7.1.2.1; RFC 6455 §9.1
// for an extension named twice), each to the offer of the options beside it.
const ANSWERS_TO_FAIL = [
  ['permessage-deflate, permessage-deflate', true],
  ['permessage-deflate', { serverNoContextTakeover: true }],
  ['permessage-deflate', { serverMaxWindowBits: 10 }],
  ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }],
];

scenarios['deflate: answers that leave out what the offer asked for, or name the extension twice'] = async ({ impl, rec, track }) => {
  for (const [response, perMessageDeflate] of ANSWERS_TO_FAIL) {
    await answeredWith(impl, rec, track, response, { perMessageDeflate });
  }
};
