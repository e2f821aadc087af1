// An Express 5 application's server, shared: HTTP routes, this package's WebSocket routes and
// another `upgrade` listener (a `ws` server on its own path) side by side; attach(), its options,
// and routing upgrades by hand with createUpgradeHandler().
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { once } from 'node:events';
import express from 'express';
import { WebSocketServer } from 'ws';
import { App } from '../index.js';
import { attach, createUpgradeHandler } from '../node.js';
import {
  cleanup,
  connect,
  nextMessage,
  closed,
  eventLog,
  RawClient,
  upgradeRequest,
  WebSocket,
} from './fixtures/node-helpers.mjs';

const T = { timeout: 10_000 };

function echoApp() {
  return new App().ws('/ws/echo', {
    message(conn, data, isBinary) {
      conn.send(data, { binary: isBinary });
    },
  });
}

async function listen(t, server) {
  cleanup(t, () => new Promise((resolve) => server.close(() => resolve())));
  if (!server.listening) await once(server, 'listening');
  return server.address().port;
}

async function rawUpgrade(t, port, path) {
  const client = await RawClient.open(t, port);
  client.send(upgradeRequest(path));
  return client.response();
}

describe('an Express 5 app', () => {
  test('serves its HTTP routes, our WebSocket route and another upgrade listener on one port', T, async (t) => {
    const web = express();
    web.get('/health', (req, res) => res.json({ ok: true }));
    const server = web.listen(0, '127.0.0.1');
    const port = await listen(t, server);

    // Another library's upgrade handling, on its own path, as a user would wire `ws`.
    const other = new WebSocketServer({ noServer: true });
    other.on('connection', (socket) => socket.on('message', (data) => socket.send(`other: ${data}`)));
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (s) => other.emit('connection', s, req));
    });
    cleanup(t, () => other.close());
    const sockets = attach(echoApp(), server);
    cleanup(t, () => sockets.close());

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.deepEqual(await health.json(), { ok: true });
    const ours = await connect(t, `ws://127.0.0.1:${port}/ws/echo`);
    const theirs = await connect(t, `ws://127.0.0.1:${port}/other`);
    ours.send('to ours');
    theirs.send('to theirs');
    assert.equal((await nextMessage(ours)).data.toString(), 'to ours');
    assert.equal((await nextMessage(theirs)).data.toString(), 'other: to theirs');
    assert.equal(sockets.connections.size, 1);
    const missing = await fetch(`http://127.0.0.1:${port}/ws/echo`);
    assert.equal(missing.status, 404); // Express's own 404 for a plain request
  });

  test('close() ends our connections with 1001 and removes our listener; the server stays up', T, async (t) => {
    const web = express();
    web.get('/health', (req, res) => res.send('up'));
    const server = web.listen(0, '127.0.0.1');
    const port = await listen(t, server);
    const sockets = attach(echoApp(), server);
    assert.equal(server.listenerCount('upgrade'), 1);
    const ws = await connect(t, `ws://127.0.0.1:${port}/ws/echo`);
    await sockets.close();
    assert.equal((await closed(ws)).code, 1001);
    assert.equal(server.listenerCount('upgrade'), 0);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), 'up');
  });
});

describe('attach', () => {
  test('answers 404 for an unowned path when no other upgrade listener exists', T, async (t) => {
    const server = http.createServer().listen(0, '127.0.0.1');
    const port = await listen(t, server);
    const sockets = attach(echoApp(), server);
    cleanup(t, () => sockets.close());
    assert.equal((await rawUpgrade(t, port, '/elsewhere')).status, 404);
  });

  test('leaves an unowned path to the other listeners, or answers 404 itself with rejectUnmatched', T, async (t) => {
    const seen = [];
    const server = http.createServer().listen(0, '127.0.0.1');
    const port = await listen(t, server);
    const sockets = attach(echoApp(), server, { rejectUnmatched: true });
    cleanup(t, () => sockets.close());
    server.on('upgrade', (req, socket) => {
      seen.push(req.url);
      if (req.url === '/theirs') socket.end('HTTP/1.1 418 I\'m a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    assert.equal((await rawUpgrade(t, port, '/theirs')).status, 404);

    const shared = http.createServer().listen(0, '127.0.0.1');
    const sharedPort = await listen(t, shared);
    const polite = attach(echoApp(), shared);
    cleanup(t, () => polite.close());
    shared.on('upgrade', (req, socket) => {
      seen.push(req.url);
      if (req.url === '/theirs') socket.end('HTTP/1.1 418 I\'m a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    assert.equal((await rawUpgrade(t, sharedPort, '/theirs')).status, 418);
    assert.equal((await rawUpgrade(t, sharedPort, '/ws/echo')).status, 101);
    // Both listeners see every upgrade; ours took /ws/echo, theirs /theirs.
    assert.deepEqual(seen, ['/theirs', '/theirs', '/ws/echo']);
  });

  test('installs its listener only once the app has a route', T, async (t) => {
    const server = http.createServer().listen(0, '127.0.0.1');
    const port = await listen(t, server);
    const app = new App();
    const sockets = attach(app, server);
    cleanup(t, () => sockets.close());
    assert.equal(server.listenerCount('upgrade'), 0);
    app.ws('/late', {});
    assert.equal(server.listenerCount('upgrade'), 1);
    assert.equal((await rawUpgrade(t, port, '/late')).status, 101);
  });

  test('serves an https server, with https:// in ctx.request.url', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/secure', {
      open(conn, ctx) {
        log.push('open', ctx.request.url);
        conn.send('over tls');
      },
    });
    const server = https
      .createServer({
        key: fs.readFileSync(new URL('./fixtures/node-tls-key.pem', import.meta.url)),
        cert: fs.readFileSync(new URL('./fixtures/node-tls-cert.pem', import.meta.url)),
      })
      .listen(0, '127.0.0.1');
    const port = await listen(t, server);
    const sockets = attach(app, server);
    cleanup(t, () => sockets.close());
    const ws = await connect(t, `wss://127.0.0.1:${port}/secure`, undefined, { rejectUnauthorized: false });
    assert.equal((await nextMessage(ws)).data.toString(), 'over tls');
    assert.deepEqual(await log.wait('open'), [`https://127.0.0.1:${port}/secure`]);
  });

  test('refuses what is not an App or not a server', () => {
    assert.throws(() => attach({}, http.createServer()), /expected an App/);
    assert.throws(() => attach(new App(), {}), /expected an http.Server/);
  });
});

describe('createUpgradeHandler', () => {
  test('lets an upgrade listener route by hand: handleUpgrade says whether it took the request', T, async (t) => {
    const upgrades = createUpgradeHandler(echoApp());
    const taken = [];
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => {
      const took = upgrades.handleUpgrade(req, socket, head);
      taken.push([req.url, took]);
      if (!took) socket.end('HTTP/1.1 410 Gone\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    server.listen(0, '127.0.0.1');
    const port = await listen(t, server);
    cleanup(t, () => upgrades.close());
    assert.equal((await rawUpgrade(t, port, '/gone')).status, 410);
    const ws = await connect(t, `ws://127.0.0.1:${port}/ws/echo`);
    ws.send('manual');
    assert.equal((await nextMessage(ws)).data.toString(), 'manual');
    assert.deepEqual(taken, [
      ['/gone', false],
      ['/ws/echo', true],
    ]);
    assert.equal(upgrades.connections.size, 1);
    await upgrades.close();
    assert.equal((await closed(ws)).code, 1001);
  });

  test('negotiates no extension with a client that offers permessage-deflate', T, async (t) => {
    const upgrades = createUpgradeHandler(echoApp());
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => upgrades.handleUpgrade(req, socket, head));
    server.listen(0, '127.0.0.1');
    const port = await listen(t, server);
    cleanup(t, () => upgrades.close());
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/echo`, { perMessageDeflate: true });
    cleanup(t, () => ws.terminate());
    await once(ws, 'open');
    assert.equal(ws.extensions, '');
    ws.send('x'.repeat(10_000));
    const [data] = await once(ws, 'message');
    assert.equal(data.toString(), 'x'.repeat(10_000));
  });
});
