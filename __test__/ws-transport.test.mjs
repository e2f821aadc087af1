// daloy-ws-native/ws's server on the native transport (lib/node/native-socket.js): which transport
// each server mode gets, what `ws._socket` offers there, bytes that arrive with the upgrade, and
// Node's server.close()/getConnections() with taken-over connections. Runs under both values of
// DALOY_WS_TRANSPORT; on `stream` (or where the native transport does not apply) every connection is
// expected on Node's stream.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import Reference from 'ws';
import { WebSocketServer } from '../ws.mjs';
import { cleanup, upgradeRequest } from './fixtures/node-helpers.mjs';
import { clientFrame, within } from './ws/harness.mjs';

const require = createRequire(import.meta.url);
const { NativeSocket, TRANSPORT_MODE } = require('../lib/node/native-socket.js');
const NATIVE_HERE = TRANSPORT_MODE === 'native' && (process.platform === 'linux' || process.platform === 'darwin');
const T = { timeout: 20_000 };

async function listening(t, server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup(t, () => new Promise((resolve) => server.close(() => resolve())));
  return server.address().port;
}

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

async function client(t, url, options) {
  const ws = new Reference(url, options);
  ws.on('error', () => {});
  cleanup(t, () => ws.terminate());
  await within(3000, once(ws, 'open'), 'open');
  return ws;
}

async function roundTrip(ws, data) {
  const reply = once(ws, 'message');
  ws.send(data);
  const [message] = await within(3000, reply, 'the echo');
  return message.toString();
}

function assertOnTransport(socket, native) {
  assert.equal(socket instanceof NativeSocket, native, native ? 'taken over natively' : "on Node's stream");
  assert.equal(socket.remoteAddress, '127.0.0.1');
  assert.equal(typeof socket.remotePort, 'number');
  assert.equal(socket.localAddress, '127.0.0.1');
}

describe('which transport each server mode gets', () => {
  test('port: native where it applies', T, async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    cleanup(t, () => new Promise((resolve) => wss.close(() => resolve())));
    const accepted = once(wss, 'connection');
    const ws = await client(t, `ws://127.0.0.1:${wss.address().port}`);
    const [server] = await accepted;
    echo(server);
    assertOnTransport(server._socket, NATIVE_HERE);
    assert.equal(await roundTrip(ws, 'over port'), 'over port');
    const closed = once(server, 'close');
    ws.close(1000);
    assert.equal((await within(3000, closed, 'close'))[0], 1000);
  });

  test('server (an http.Server) and noServer: native where it applies', T, async (t) => {
    const httpServer = http.createServer();
    const withServer = new WebSocketServer({ server: httpServer, path: '/a' });
    const noServer = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (req, socket, head) => {
      if (req.url === '/b') noServer.handleUpgrade(req, socket, head, (ws) => noServer.emit('connection', ws, req));
    });
    for (const wss of [withServer, noServer]) wss.on('connection', echo);
    const port = await listening(t, httpServer);
    cleanup(t, () => {
      for (const wss of [withServer, noServer]) for (const ws of wss.clients) ws.terminate();
    });
    for (const [wss, path] of [[withServer, '/a'], [noServer, '/b']]) {
      const accepted = once(wss, 'connection');
      const ws = await client(t, `ws://127.0.0.1:${port}${path}`);
      const [server] = await accepted;
      assertOnTransport(server._socket, NATIVE_HERE);
      assert.equal(await roundTrip(ws, path), path);
    }
  });

  test('server (an https.Server): TLS stays on the stream', T, async (t) => {
    const httpsServer = https.createServer({
      key: fs.readFileSync(new URL('./fixtures/node-tls-key.pem', import.meta.url)),
      cert: fs.readFileSync(new URL('./fixtures/node-tls-cert.pem', import.meta.url)),
    });
    const wss = new WebSocketServer({ server: httpsServer });
    wss.on('connection', echo);
    const port = await listening(t, httpsServer);
    cleanup(t, () => {
      for (const ws of wss.clients) ws.terminate();
    });
    const accepted = once(wss, 'connection');
    const ws = await client(t, `wss://127.0.0.1:${port}`, { rejectUnauthorized: false });
    const [server] = await accepted;
    assert.ok(server._socket instanceof tls.TLSSocket);
    assert.equal(await roundTrip(ws, 'over tls'), 'over tls');
  });
});

describe('the taken-over connection', () => {
  test('frames sent with the upgrade request are read after the connection listeners are attached', T, async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    cleanup(t, () => new Promise((resolve) => wss.close(() => resolve())));
    const messages = [];
    wss.on('connection', (ws) => ws.on('message', (data) => messages.push(data.toString())));
    const socket = net.connect(wss.address().port, '127.0.0.1');
    socket.on('error', () => {});
    cleanup(t, () => socket.destroy());
    await once(socket, 'connect');
    // The request and two frames in one write: they reach Node's parser together.
    socket.write(Buffer.concat([Buffer.from(upgradeRequest('/'), 'latin1'), clientFrame(0x1, 'first'), clientFrame(0x1, 'second')]));
    await within(3000, (async () => {
      while (messages.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    })(), 'two messages');
    assert.deepEqual(messages, ['first', 'second']);
    const [ws] = wss.clients;
    assert.equal(ws._socket instanceof NativeSocket, NATIVE_HERE);
  });

  test("server.close() waits for the WebSocket, getConnections() counts it; closing the WebSocket lets the server close", T, async (t) => {
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer });
    const port = await listening(t, httpServer);
    const accepted = once(wss, 'connection');
    const ws = await client(t, `ws://127.0.0.1:${port}`);
    const [server] = await accepted;
    const count = await new Promise((resolve, reject) => httpServer.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    assert.equal(count, 1);
    let serverClosed = false;
    httpServer.close(() => {
      serverClosed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(serverClosed, false, 'server.close() waits for the open WebSocket');
    const closed = once(ws, 'close');
    server.close(1001);
    await within(3000, closed, 'the client sees the close');
    await within(3000, (async () => {
      while (!serverClosed) await new Promise((resolve) => setTimeout(resolve, 5));
    })(), 'the http server closes');
  });

  test("addresses: ws._socket's and req.socket's are the client's and the server's, on IPv4 and IPv6", T, async (t) => {
    for (const host of ['127.0.0.1', '::1']) {
      const wss = new WebSocketServer({ port: 0, host });
      try {
        await once(wss, 'listening');
      } catch (err) {
        if (host === '::1' && err.code === 'EADDRNOTAVAIL') continue; // no IPv6 loopback here
        throw err;
      }
      cleanup(t, () => new Promise((resolve) => wss.close(() => resolve())));
      const accepted = new Promise((resolve) => {
        wss.on('connection', (ws, req) => {
          // Read in the listener, as engine.io and loggers do.
          resolve({ ws, request: req, req: [req.socket.remoteAddress, req.socket.remotePort, req.socket.remoteFamily] });
        });
      });
      const url = `ws://${host.includes(':') ? `[${host}]` : host}:${wss.address().port}`;
      const ws = await client(t, url);
      const { ws: server, request, req } = await accepted;
      const family = host.includes(':') ? 'IPv6' : 'IPv4';
      const mine = ws._socket;
      assert.deepEqual(req, [host, mine.localPort, family], 'req.socket: the peer');
      const socket = server._socket;
      assert.equal(socket instanceof NativeSocket, NATIVE_HERE);
      assert.deepEqual([socket.remoteAddress, socket.remotePort, socket.remoteFamily], [host, mine.localPort, family]);
      assert.deepEqual([socket.localAddress, socket.localPort], [host, wss.address().port]);
      assert.deepEqual(socket.address(), { address: host, family, port: wss.address().port });
      const closed = once(server, 'close');
      ws.close(1000);
      await within(3000, closed, 'the close');
      // Read while open, kept after the close, as Node's socket keeps the peer's (its local
      // address it forgets with its handle; the native transport's keeps it too).
      assert.equal(socket.remoteAddress, host);
      assert.equal(request.socket.remoteAddress, host);
      assert.equal(socket.localPort, NATIVE_HERE ? wss.address().port : undefined);
    }
  });

  test('addresses never read before the close are undefined after it, as a net.Socket\'s', T, async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    cleanup(t, () => new Promise((resolve) => wss.close(() => resolve())));
    const accepted = once(wss, 'connection');
    const ws = await client(t, `ws://127.0.0.1:${wss.address().port}`);
    const [server] = await accepted;
    const socket = server._socket;
    const closed = once(server, 'close');
    ws.close(1000);
    await within(3000, closed, 'the close');
    assert.equal(socket.remotePort, undefined);
    assert.equal(socket.localAddress, undefined);
    assert.deepEqual(socket.address(), {});
  });

  test('handleUpgrade() twice with the same socket throws, as ws does', T, async (t) => {
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    const thrown = [];
    httpServer.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, () => {});
      try {
        wss.handleUpgrade(req, socket, head, () => {});
      } catch (err) {
        thrown.push(err.message);
      }
    });
    const port = await listening(t, httpServer);
    cleanup(t, () => {
      for (const ws of wss.clients) ws.terminate();
    });
    await client(t, `ws://127.0.0.1:${port}`);
    assert.deepEqual(thrown, ['server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration']);
  });
});
