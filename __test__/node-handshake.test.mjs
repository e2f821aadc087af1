// The opening handshake on Node's `upgrade` event, in DaloyJS's order: route match, handshake
// headers, allowedOrigins, beforeUpgrade, 101, open. Every rejection path, over raw sockets.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { App, WebSocketProtocolError } from '../index.js';
import { createUpgradeHandler } from '../node.js';
import {
  startServer,
  cleanup,
  captureLogger,
  eventLog,
  until,
  RawClient,
  upgradeRequest,
  clientFrame,
  ACCEPT,
} from './fixtures/node-helpers.mjs';

const T = { timeout: 10_000 };

function openSockets(server) {
  return new Promise((resolve) => server.getConnections((err, count) => resolve(count)));
}

async function request(t, port, path, options) {
  const client = await RawClient.open(t, port);
  client.send(upgradeRequest(path, options));
  const res = await client.response();
  return { ...res, client };
}

describe('accepted upgrades', () => {
  test('answers 101 with the RFC 6455 accept key and no subprotocol when none is selected', T, async (t) => {
    const app = new App().ws('/echo', {});
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/echo', { headers: { 'Sec-WebSocket-Protocol': 'a, b' } });
    assert.equal(res.status, 101);
    assert.equal(res.headers.upgrade, 'websocket');
    assert.equal(res.headers.connection, 'Upgrade');
    assert.equal(res.headers['sec-websocket-accept'], ACCEPT);
    assert.equal(res.headers['sec-websocket-protocol'], undefined);
    assert.equal(res.headers['sec-websocket-extensions'], undefined);
  });

  test('accepts an absolute-form request target', T, async (t) => {
    const app = new App().ws('/echo', {});
    const server = await startServer(t, app);
    const res = await request(t, server.port, `http://127.0.0.1:${server.port}/echo`);
    assert.equal(res.status, 101);
  });

  test('parses bytes that arrived with the upgrade request before later ones', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/echo', {
      message(conn, data) {
        log.push('message', data);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.open(t, server.port);
    client.send(Buffer.concat([Buffer.from(upgradeRequest('/echo')), clientFrame(1, 'first'), clientFrame(1, 'second')]));
    assert.equal((await client.response()).status, 101);
    client.send(clientFrame(1, 'third'));
    await until(() => log.events.length >= 3);
    assert.deepEqual(log.events, [
      ['message', 'first'],
      ['message', 'second'],
      ['message', 'third'],
    ]);
  });

  test('calls open after the 101, and frames sent from open follow it', T, async (t) => {
    const app = new App().ws('/hello', {
      open(conn) {
        conn.send('hello');
      },
    });
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/hello');
    assert.equal(res.status, 101);
    const frame = await res.client.frame();
    assert.equal(frame.opcode, 1);
    assert.equal(frame.payload.toString(), 'hello');
  });
});

describe('rejections before beforeUpgrade', () => {
  const app = new App()
    .ws('/echo', {})
    .ws('/list', { allowedOrigins: ['https://good.example'] })
    .ws('/same', { allowedOrigins: 'same-origin' })
    .ws('/fn', { allowedOrigins: (origin) => origin === 'https://fn.example' })
    .ws('/throws', {
      allowedOrigins: () => {
        throw new Error('policy broke');
      },
    });

  test('answers 404 to an upgrade for a path no route owns', T, async (t) => {
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/nowhere');
    assert.equal(res.status, 404);
    assert.equal(res.headers.connection, 'close');
    await res.client.ended;
  });

  test('answers 405 with Allow: GET to a method other than GET', T, async (t) => {
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/echo', { method: 'POST', headers: { 'Content-Length': '0' } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET');
  });

  test('answers 400 to an Upgrade header other than websocket', T, async (t) => {
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/echo', { headers: { Upgrade: 'h2c' } });
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Missing or invalid Upgrade header');
  });

  test('answers 426 with Sec-WebSocket-Version: 13 to another protocol version', T, async (t) => {
    const server = await startServer(t, app);
    for (const version of ['8', '14']) {
      const res = await request(t, server.port, '/echo', { headers: { 'Sec-WebSocket-Version': version } });
      assert.equal(res.status, 426);
      assert.equal(res.headers['sec-websocket-version'], '13');
      assert.equal(res.body, 'Unsupported Sec-WebSocket-Version');
    }
    const missing = await request(t, server.port, '/echo', { omit: ['Sec-WebSocket-Version'] });
    assert.equal(missing.status, 426);
  });

  test('answers 400 to a missing or malformed Sec-WebSocket-Key', T, async (t) => {
    const server = await startServer(t, app);
    for (const options of [{ omit: ['Sec-WebSocket-Key'] }, { headers: { 'Sec-WebSocket-Key': 'c2hvcnQ=' } }]) {
      const res = await request(t, server.port, '/echo', options);
      assert.equal(res.status, 400);
      assert.equal(res.body, 'Missing or invalid Sec-WebSocket-Key');
    }
  });

  test('answers 400 to a Connection header without the upgrade token', T, async (t) => {
    // Node's parser only emits `upgrade` with that token, so this listener removes it first.
    const upgrades = createUpgradeHandler(app);
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => {
      req.headers.connection = 'keep-alive';
      upgrades.handleUpgrade(req, socket, head);
    });
    server.listen(0, '127.0.0.1');
    cleanup(t, () => server.close());
    await once(server, 'listening');
    const res = await request(t, server.address().port, '/echo');
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Missing or invalid Connection header');
  });

  test('answers 403 when the Origin is not on the allow-list, and accepts listed or absent ones', T, async (t) => {
    const server = await startServer(t, app);
    const bad = await request(t, server.port, '/list', { headers: { Origin: 'https://evil.example' } });
    assert.equal(bad.status, 403);
    assert.equal(bad.body, 'WebSocket upgrade rejected: origin not allowlisted');
    assert.equal((await request(t, server.port, '/list', { headers: { Origin: 'https://good.example' } })).status, 101);
    assert.equal((await request(t, server.port, '/list')).status, 101);
  });

  test('answers 403 to a cross-origin upgrade on a same-origin route', T, async (t) => {
    const server = await startServer(t, app);
    const host = `127.0.0.1:${server.port}`;
    const bad = await request(t, server.port, '/same', { headers: { Host: host, Origin: 'http://evil.example' } });
    assert.equal(bad.status, 403);
    const good = await request(t, server.port, '/same', { headers: { Host: host, Origin: `http://${host}` } });
    assert.equal(good.status, 101);
  });

  test('answers 403 when an origin function says no or throws', T, async (t) => {
    const server = await startServer(t, app);
    assert.equal((await request(t, server.port, '/fn', { headers: { Origin: 'https://other.example' } })).status, 403);
    assert.equal((await request(t, server.port, '/fn')).status, 403);
    assert.equal((await request(t, server.port, '/fn', { headers: { Origin: 'https://fn.example' } })).status, 101);
    const thrown = await request(t, server.port, '/throws', { headers: { Origin: 'https://fn.example' } });
    assert.equal(thrown.status, 403);
  });

  test('checks the origin before beforeUpgrade runs', T, async (t) => {
    let called = false;
    const strict = new App().ws('/x', {
      allowedOrigins: ['https://good.example'],
      beforeUpgrade() {
        called = true;
      },
    });
    const server = await startServer(t, strict);
    assert.equal((await request(t, server.port, '/x', { headers: { Origin: 'https://evil.example' } })).status, 403);
    assert.equal(called, false);
  });
});

describe('beforeUpgrade', () => {
  test('rejects with the status, headers and body of a returned Response', T, async (t) => {
    const app = new App().ws('/api', {
      beforeUpgrade(req, ctx) {
        if (ctx.headers.authorization === 'Bearer ok') return undefined;
        const headers = new Headers({ 'www-authenticate': 'Bearer', 'x-reason': 'no token' });
        headers.append('set-cookie', 'a=1');
        headers.append('set-cookie', 'b=2');
        return new Response('unauthorized', { status: 401, headers });
      },
    });
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/api');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    assert.equal(res.headers['x-reason'], 'no token');
    assert.equal(res.headers['set-cookie'], 'a=1, b=2');
    assert.equal(res.body, 'unauthorized');
    assert.equal((await request(t, server.port, '/api', { headers: { Authorization: 'Bearer ok' } })).status, 101);
  });

  test('awaits an async decision, a Response included', T, async (t) => {
    const app = new App().ws('/api', {
      async beforeUpgrade(req, ctx) {
        await new Promise((resolve) => setImmediate(resolve));
        return ctx.query.ok === '1' ? undefined : new Response(null, { status: 429, headers: { 'retry-after': '1' } });
      },
    });
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/api');
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.body, '');
    assert.equal((await request(t, server.port, '/api?ok=1')).status, 101);
  });

  test('selects a returned subprotocol the client offered', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/api', {
      beforeUpgrade(req, ctx) {
        return ctx.protocols.includes('daloy.v1') ? 'daloy.v1' : undefined;
      },
      open(conn) {
        log.push('open', conn.protocol);
      },
    });
    const server = await startServer(t, app);
    const res = await request(t, server.port, '/api', { headers: { 'Sec-WebSocket-Protocol': 'other, daloy.v1' } });
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-protocol'], 'daloy.v1');
    assert.deepEqual(await log.wait('open'), ['daloy.v1']);
  });

  test('answers 400 to a returned subprotocol that was not offered or is not a token', T, async (t) => {
    const app = new App()
      .ws('/unoffered', { beforeUpgrade: () => 'daloy.v2' })
      .ws('/injection', { beforeUpgrade: () => 'a\r\nSet-Cookie: x=1' });
    const server = await startServer(t, app);
    const offered = { headers: { 'Sec-WebSocket-Protocol': 'daloy.v1' } };
    const unoffered = await request(t, server.port, '/unoffered', offered);
    assert.equal(unoffered.status, 400);
    assert.equal(unoffered.body, 'Selected WebSocket subprotocol was not offered by the client');
    const injection = await request(t, server.port, '/injection', offered);
    assert.equal(injection.status, 400);
    assert.equal(injection.headers['set-cookie'], undefined);
  });

  test('answers 500 to a throw or a rejection and logs it, 400 to a WebSocketProtocolError', T, async (t) => {
    const { logger, entries } = captureLogger();
    const app = new App({ logger })
      .ws('/sync', {
        beforeUpgrade() {
          throw new Error('sync boom');
        },
      })
      .ws('/async', {
        async beforeUpgrade() {
          throw new Error('async boom');
        },
      })
      .ws('/protocol', {
        beforeUpgrade() {
          throw new WebSocketProtocolError('Token expired');
        },
      });
    const server = await startServer(t, app);
    const sync = await request(t, server.port, '/sync');
    assert.equal(sync.status, 500);
    assert.equal(sync.body, 'Internal Server Error');
    assert.equal((await request(t, server.port, '/async')).status, 500);
    const protocol = await request(t, server.port, '/protocol');
    assert.equal(protocol.status, 400);
    assert.equal(protocol.body, 'Token expired');
    assert.deepEqual(
      entries.map((e) => [e.level, e.fields.err.message, e.fields.path]),
      [
        ['error', 'sync boom', '/sync'],
        ['error', 'async boom', '/async'],
      ],
    );
  });

  test('drops a client that hung up during an async decision, without calling open', T, async (t) => {
    const log = eventLog();
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const app = new App().ws('/slow', {
      async beforeUpgrade() {
        log.push('before');
        await gate;
      },
      open() {
        log.push('open');
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.open(t, server.port);
    client.send(upgradeRequest('/slow'));
    await log.wait('before');
    client.socket.end();
    await client.ended;
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(server.connections.size, 0);
    // The next client is served as usual, and only it is opened.
    const res = await request(t, server.port, '/slow');
    assert.equal(res.status, 101);
    await log.wait('open');
    assert.deepEqual(log.kinds(), ['before', 'before', 'open']);
  });

  test('survives a connection reset during an async decision', T, async (t) => {
    const log = eventLog();
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const app = new App().ws('/slow', {
      async beforeUpgrade(req, ctx) {
        log.push('before');
        if (ctx.query.wait) await gate;
      },
      open() {
        log.push('open');
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.open(t, server.port);
    client.send(upgradeRequest('/slow?wait=1'));
    await log.wait('before');
    client.socket.resetAndDestroy();
    await client.ended;
    while ((await openSockets(server.server)) !== 0) await new Promise((resolve) => setImmediate(resolve));
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log.kinds(), ['before']);
    assert.equal((await request(t, server.port, '/slow')).status, 101);
    await log.wait('open');
    assert.equal(server.connections.size, 1);
  });
});

describe('the listener', () => {
  test('is installed only when the app has a WebSocket route, and once one is added later', T, async (t) => {
    const app = new App();
    const server = await startServer(t, app);
    assert.equal(server.server.listenerCount('upgrade'), 0);
    app.ws('/late', {});
    assert.equal(server.server.listenerCount('upgrade'), 1);
    app.ws('/later', {});
    assert.equal(server.server.listenerCount('upgrade'), 1);
    assert.equal((await request(t, server.port, '/late')).status, 101);
  });

  test('answers plain HTTP requests with 404, or hands them to the given request handler', T, async (t) => {
    const app = new App().ws('/echo', {});
    const bare = await startServer(t, app);
    const res = await fetch(`http://127.0.0.1:${bare.port}/echo`);
    assert.equal(res.status, 404);
    const withHandler = await startServer(t, app, {
      handler(req, res) {
        res.end(`handled ${req.url}`);
      },
    });
    const handled = await fetch(`http://127.0.0.1:${withHandler.port}/page`);
    assert.equal(await handled.text(), 'handled /page');
  });
});
