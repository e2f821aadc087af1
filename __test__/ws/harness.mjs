// Helpers of the `ws` differential suite: the two implementations, servers on 127.0.0.1 with an
// ephemeral port, a raw TCP client for handshakes and hand-written frames, and the recording of
// what a user observes in a form that compares across implementations.
import net from 'node:net';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { createRequire } from 'node:module';
// Upgrade requests as text, with the fixed Sec-WebSocket-Key of RFC 6455 §1.3 (so that 101 responses
// compare byte for byte), as the Node wiring suites write them.
import { upgradeRequest } from '../fixtures/node-helpers.mjs';

export { upgradeRequest };

const require = createRequire(import.meta.url);

/** The reference (`ws` from npm) and this module, with the same shape. */
export const IMPLEMENTATIONS = {
  ws: require('ws'),
  'daloy-ws-native/ws': require('../../ws.js'),
};

/** The reference client and server used as the fixed peer of the implementation under test. */
export const Peer = require('ws');

export { delay };


/** Rejects after `ms` with `what`, so that a scenario never hangs. */
export function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The arguments of the next `event` of `emitter` (an 'error' does not reject it), bounded in time. */
export function next(emitter, event, ms = 3000) {
  return within(ms, new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), `'${event}'`);
}

/** Resolves once `condition()` holds (polled), bounded in time. */
export function until(condition, what, ms = 3000) {
  return within(
    ms,
    (async () => {
      while (!condition()) await delay(5);
    })(),
    what,
  );
}

/** A value as a comparable, printable record: bytes as hex, errors by class, message and code. */
export function show(value) {
  if (Buffer.isBuffer(value)) return `buffer:${value.toString('hex')}`;
  if (value instanceof ArrayBuffer) return `arraybuffer:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(show);
  if (value instanceof Error) {
    const out = { error: value.constructor.name, message: value.message };
    if (value.code !== undefined) out.code = value.code;
    return out;
  }
  if (value === undefined) return 'undefined';
  return value;
}

/** A server of `impl` on 127.0.0.1, port 0; resolves once listening. */
export async function listen(impl, options = {}, track) {
  const wss = new impl.WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  track.push(() => closeServer(wss));
  await next(wss, 'listening');
  return { wss, port: wss.address().port };
}

/** An http server (or the given one, an https server say) on 127.0.0.1, port 0; closed with its sockets. */
export async function httpServer(handler, track, server = http.createServer(handler)) {
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  track.push(
    () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  server.listen(0, '127.0.0.1');
  await next(server, 'listening');
  return { server, port: server.address().port };
}

export function closeServer(wss) {
  for (const client of wss.clients ?? []) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

/** A reference client connected to `port` (path, protocols, options as `ws` takes them). */
export function peer(port, path = '/', protocols, options, track) {
  const client = new Peer(`ws://127.0.0.1:${port}${path}`, protocols, options);
  client.on('error', () => {});
  track.push(() => client.terminate());
  return client;
}

/**
 * Sends `text` on a new TCP connection and returns everything received until the peer closes,
 * or until nothing more has arrived for `idle` ms after a first byte (a keep-alive response, a 101).
 */
export async function rawExchange(port, text, { ms = 3000, idle = 150 } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  const chunks = [];
  socket.on('error', () => {});
  await next(socket, 'connect');
  const settled = new Promise((resolve) => {
    let timer;
    socket.on('data', (c) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(resolve, idle);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.write(text);
  try {
    await within(ms, settled, 'a response');
  } finally {
    socket.destroy();
  }
  // The Date header of an http response differs from one second to the next.
  return Buffer.concat(chunks).toString('latin1').replace(/^Date: .*\r\n/m, '');
}

/** A masked client frame, written by hand. */
export function clientFrame(opcode, payload, { fin = true, mask = true, rsv = 0 } = {}) {
  const data = Buffer.from(payload);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  if (data.length < 126) head.push(m | data.length);
  else if (data.length < 65536) head.push(m | 126, data.length >> 8, data.length & 0xff);
  else throw new RangeError('frames of 64 KiB and more are not needed here');
  const body = mask ? Buffer.from(data.map((b, i) => b ^ key[i & 3])) : data;
  return Buffer.concat([Buffer.from(head), mask ? key : Buffer.alloc(0), body]);
}

/**
 * Opens a raw WebSocket connection (handshake by hand) to `port`; returns the socket, a promise
 * of everything the server sends after its 101, and the 101 itself. With `wss`, also the server's
 * WebSocket, and the promise waits for its 'close' as well as the socket's: in one process the
 * order of the two ends' closes depends on timing, and what a scenario records after `done` must
 * come after both.
 */
export async function rawSocket(port, path = '/', track, wss) {
  const accepted = wss === undefined ? undefined : next(wss, 'connection');
  const socket = net.connect(port, '127.0.0.1');
  track.push(() => socket.destroy());
  socket.on('error', () => {});
  await next(socket, 'connect');
  socket.write(upgradeRequest(path));
  let buffered = Buffer.alloc(0);
  let response;
  const frames = [];
  const wire = new Promise((resolve) => {
    socket.on('data', (chunk) => {
      if (response === undefined) {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        response = buffered.subarray(0, end + 4).toString('latin1');
        chunk = buffered.subarray(end + 4);
      }
      if (chunk.length > 0) frames.push(chunk);
    });
    socket.on('close', () => resolve(Buffer.concat(frames)));
  });
  while (response === undefined) await delay(5);
  const ws = accepted === undefined ? undefined : (await accepted)[0];
  const closed = ws === undefined ? undefined : new Promise((resolve) => ws.once('close', resolve));
  const done = Promise.all([wire, closed]).then(([bytes]) => bytes);
  return { socket, done, response, ws };
}
