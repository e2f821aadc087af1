// Hostile input never crashes the server nor grows its memory without bound, and after each
// attack the server still answers a new client. The server runs in a child process (its memory is
// measured there); the attacks come from raw sockets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { connect, nextMessage, RawClient, upgradeRequest, clientFrame, closePayload } from './fixtures/node-helpers.mjs';

const MiB = 1024 * 1024;
let child;
let port;
let baseline;
const messages = [];
const waiting = [];

function ask(message) {
  child.send(message);
  return new Promise((resolve) => waiting.push(resolve));
}

// Stats once the server has no connection left (polled: closes arrive over a few turns).
async function drained() {
  for (;;) {
    const stats = await ask('stats');
    if (stats.connections === 0) return stats;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// A fresh client of the echo route must be answered.
async function answersNewClient(t) {
  const ws = await connect(t, `ws://127.0.0.1:${port}/echo`);
  ws.send('still there?');
  assert.equal((await nextMessage(ws)).data.toString(), 'still there?');
  ws.close();
}

function openSocket() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

// `count` sockets, opened `batch` at a time.
async function openSockets(count, setup, batch = 100) {
  const sockets = [];
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, openSocket));
    for (const socket of opened) {
      socket.on('error', () => {});
      await setup(socket);
      sockets.push(socket);
    }
  }
  return sockets;
}

async function upgraded(socket) {
  socket.write(upgradeRequest('/echo'));
  let head = '';
  for await (const chunk of socket) {
    head += chunk.toString('latin1');
    if (head.includes('\r\n\r\n')) break;
  }
  assert.match(head, /^HTTP\/1\.1 101 /);
}

before(async () => {
  child = fork(new URL('./fixtures/node-hostile-server.mjs', import.meta.url).pathname, [], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('message', (message) => {
    messages.push(message);
    if (message.port === undefined) waiting.shift()?.(message);
  });
  [{ port }] = await once(child, 'message');
}, { timeout: 20_000 });

after(async () => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.send('exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}, { timeout: 20_000 });

describe('hostile input', { timeout: 60_000 }, () => {
  test('a warm-up round of connections sets the memory baseline', async (t) => {
    const sockets = await openSockets(200, upgraded);
    for (const socket of sockets) socket.destroy();
    baseline = (await drained()).rss;
    await answersNewClient(t);
  });

  test('garbage instead of a handshake gets an error response or a closed socket', async (t) => {
    for (const garbage of [
      Buffer.from('NOT HTTP AT ALL\r\n\r\n'),
      Buffer.from('GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \0\0\r\n\r\n'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff)),
    ]) {
      const client = await RawClient.open(t, port);
      client.send(garbage);
      const res = await client.response();
      assert.ok(res.status === 0 || res.status === 400, `status ${res.status}`);
      await client.ended;
    }
    await answersNewClient(t);
  });

  test('a CLOSE whose reason is not UTF-8 is answered with 1007', async (t) => {
    const client = await RawClient.upgrade(t, port, '/echo');
    client.send(clientFrame(8, closePayload(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xed, 0xa0, 0x80]))));
    assert.equal((await client.closeFrame()).code, 1007);
    await client.ended;
    await answersNewClient(t);
  });

  test('a frame declaring 2^62 bytes is refused with 1009 from its header alone', async (t) => {
    const client = await RawClient.upgrade(t, port, '/echo');
    client.send(clientFrame(2, Buffer.alloc(0), { length: 2 ** 62 }));
    assert.equal((await client.closeFrame()).code, 1009);
    await client.ended;
    await answersNewClient(t);
  });

  test('1,000 connections that send half a header and stall do not stop a new client', async (t) => {
    const halfHandshakes = await openSockets(500, (socket) => {
      socket.write('GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs');
    });
    const halfFrames = await openSockets(500, async (socket) => {
      await upgraded(socket);
      socket.write(clientFrame(1, 'x'.repeat(300)).subarray(0, 3)); // half of a 16-bit length header
    });
    await answersNewClient(t);
    for (const socket of [...halfHandshakes, ...halfFrames]) socket.destroy();
    await drained();
  });

  test('2,000 connections dropped abruptly at once are all reported closed with 1006', async (t) => {
    const before = (await ask('stats')).closes[1006] ?? 0;
    const sockets = await openSockets(2000, upgraded);
    for (const socket of sockets) socket.resetAndDestroy();
    const stats = await drained();
    assert.equal(stats.closes[1006] - before, 2000);
    await answersNewClient(t);
  });

  test('after all of it, the server memory is back near the baseline', async () => {
    const { rss } = await ask('stats');
    assert.ok(rss - baseline < 48 * MiB, `rss grew by ${((rss - baseline) / MiB).toFixed(1)} MiB`);
  });
});
