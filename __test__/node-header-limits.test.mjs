// Header floods on the upgrade path, with raw-socket clients: serve() refuses an upgrade request
// with too many header fields (431, before any WebSocket work, as DaloyJS's Node adapter does) and
// caps the byte size of the head; attach() applies the count to the app's routes on a server it
// did not create.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { App } from '../index.js';
import { attach } from '../node.js';
import { startServer, cleanup, RawClient, upgradeRequest, eventLog } from './fixtures/node-helpers.mjs';

const T = { timeout: 15_000 };

/** An upgrade request with `total` header fields in all (the five of the handshake, Host included). */
function requestWithFields(path, total) {
  const headers = {};
  for (let i = 0; i < total - 5; i++) headers[`X-Filler-${i}`] = 'v';
  return upgradeRequest(path, { headers });
}

async function answer(t, port, text) {
  const client = await RawClient.open(t, port);
  client.send(text);
  return client.response();
}

function spiedApp() {
  const log = eventLog();
  const app = new App().ws('/ws', {
    beforeUpgrade() {
      log.push('before');
    },
  });
  return { app, log };
}

describe('serve(): header count', () => {
  test('refuses an upgrade with 100 header fields or more with 431, before beforeUpgrade; 99 pass', T, async (t) => {
    const { app, log } = spiedApp();
    const server = await startServer(t, app);
    assert.equal(server.server.maxHeadersCount, 100);
    assert.equal((await answer(t, server.port, requestWithFields('/ws', 100))).status, 431);
    assert.equal((await answer(t, server.port, requestWithFields('/ws', 3000))).status, 431);
    // Even for a path no route owns: the count is checked first.
    assert.equal((await answer(t, server.port, requestWithFields('/nope', 150))).status, 431);
    assert.deepEqual(log.kinds(), []);
    assert.equal((await answer(t, server.port, requestWithFields('/ws', 99))).status, 101);
    assert.deepEqual(log.kinds(), ['before']);
  });

  test('maxHeaderCount sets the cap; 0 turns it off (Node keeps every field)', T, async (t) => {
    const small = await startServer(t, spiedApp().app, { maxHeaderCount: 10 });
    assert.equal((await answer(t, small.port, requestWithFields('/ws', 10))).status, 431);
    assert.equal((await answer(t, small.port, requestWithFields('/ws', 9))).status, 101);
    const off = await startServer(t, spiedApp().app, { maxHeaderCount: 0 });
    assert.equal(off.server.maxHeadersCount, 0);
    assert.equal((await answer(t, off.port, requestWithFields('/ws', 300))).status, 101);
    await assert.rejects(startServer(t, spiedApp().app, { maxHeaderCount: -1 }), RangeError);
  });
});

describe('serve(): header bytes', () => {
  test('refuses a head over 16 KiB by default with 431; maxHeaderBytes raises the cap', T, async (t) => {
    const { app, log } = spiedApp();
    const server = await startServer(t, app);
    const big = upgradeRequest('/ws', { headers: { 'X-Big': 'a'.repeat(20 * 1024) } });
    assert.equal((await answer(t, server.port, big)).status, 431);
    assert.deepEqual(log.kinds(), []);
    const roomy = await startServer(t, app, { maxHeaderBytes: 64 * 1024 });
    assert.equal((await answer(t, roomy.port, big)).status, 101);
    const tight = await startServer(t, app, { maxHeaderBytes: 1024 });
    const medium = upgradeRequest('/ws', { headers: { 'X-Medium': 'a'.repeat(2048) } });
    assert.equal((await answer(t, tight.port, medium)).status, 431);
    await assert.rejects(startServer(t, app, { maxHeaderBytes: 0 }), RangeError);
  });
});

describe('attach(): header count on a server it did not create', () => {
  test('431 for the app\'s routes; other paths stay with the server\'s other listeners', T, async (t) => {
    const { app, log } = spiedApp();
    const server = http.createServer((req, res) => res.end());
    const others = [];
    server.on('upgrade', (req, socket) => {
      if (req.url !== '/other') return;
      others.push(req.rawHeaders.length / 2);
      socket.end('HTTP/1.1 418 I\'m a Teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    const handle = attach(app, server);
    cleanup(t, () => new Promise((resolve) => server.close(resolve)));
    cleanup(t, () => handle.close());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address();
    // The server's own maxHeadersCount is untouched.
    assert.equal(server.maxHeadersCount, null);
    assert.equal((await answer(t, port, requestWithFields('/ws', 150))).status, 431);
    assert.deepEqual(log.kinds(), []);
    assert.equal((await answer(t, port, requestWithFields('/other', 150))).status, 418);
    assert.deepEqual(others, [150]);
    assert.equal((await answer(t, port, requestWithFields('/ws', 20))).status, 101);
  });
});
