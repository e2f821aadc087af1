// App: route registration (DaloyJS's limits and defaults), route matching, and the ctx a route's
// handlers receive.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { App, defineWebSocket } from '../index.js';
import * as esm from '../index.mjs';
import { startServer, connect, nextMessage, eventLog } from './fixtures/node-helpers.mjs';

describe('App.ws registration', () => {
  test('is exported by the package entry, CommonJS and ESM alike', () => {
    assert.equal(esm.App, App);
    assert.equal(typeof defineWebSocket, 'function');
  });

  test('returns the app, so registrations chain', () => {
    const app = new App();
    assert.equal(app.ws('/a', {}).ws('/b', {}), app);
    assert.equal(app.webSocketRoutes.size, 2);
  });

  test('applies DaloyJS defaults to the limits of a route', () => {
    const app = new App();
    app.ws('/a', {});
    const [route] = app.webSocketRoutes.list();
    assert.equal(route.path, '/a');
    assert.deepEqual(
      {
        maxPayloadLength: route.options.maxPayloadLength,
        idleTimeout: route.options.idleTimeout,
        backpressureLimit: route.options.backpressureLimit,
        closeOnBackpressureLimit: route.options.closeOnBackpressureLimit,
        perMessageDeflate: route.options.perMessageDeflate,
      },
      {
        maxPayloadLength: 1048576,
        idleTimeout: 120,
        backpressureLimit: 1048576,
        closeOnBackpressureLimit: true,
        perMessageDeflate: false,
      },
    );
  });

  for (const name of ['maxPayloadLength', 'idleTimeout', 'backpressureLimit', 'maxFragments']) {
    test(`refuses a ${name} that is not a positive integer`, () => {
      // maxPayloadLength: Infinity is FrameSink's "no limit" (app-guards.test.mjs).
      const values = [0, -1, 1.5, Number.NaN, '10', true, ...(name === 'maxPayloadLength' ? [] : [Infinity])];
      for (const value of values) {
        assert.throws(() => new App().ws('/a', { [name]: value }), new RegExp(`${name} must be a positive integer`));
      }
    });
  }

  test('refuses non-boolean closeOnBackpressureLimit and perMessageDeflate', () => {
    assert.throws(() => new App().ws('/a', { closeOnBackpressureLimit: 'yes' }), /closeOnBackpressureLimit must be a boolean/);
    assert.throws(() => new App().ws('/a', { perMessageDeflate: 1 }), /perMessageDeflate must be a boolean/);
  });

  test('accepts the three shapes of allowedOrigins and refuses others', () => {
    const app = new App();
    app.ws('/a', { allowedOrigins: 'same-origin' });
    app.ws('/b', { allowedOrigins: ['https://example.com'] });
    app.ws('/c', { allowedOrigins: () => true });
    assert.throws(() => app.ws('/d', { allowedOrigins: 'any' }), /allowedOrigins must be/);
    assert.throws(() => app.ws('/e', { allowedOrigins: [''] }), /non-empty origin strings/);
    assert.throws(() => app.ws('/f', { allowedOrigins: [42] }), /non-empty origin strings/);
  });

  test('refuses a handler that is not an object, or callbacks that are not functions', () => {
    assert.throws(() => new App().ws('/a', null), /handler must be an object/);
    assert.throws(() => new App().ws('/a', { message: 'echo' }), /message must be a function/);
  });

  test('refuses paths that could never match and duplicate routes', () => {
    const app = new App();
    assert.throws(() => app.ws('chat', {}), /must be a string starting with "\/"/);
    assert.throws(() => app.ws('/a//b', {}), /empty segment/);
    assert.throws(() => app.ws('/a?x=1', {}), /query/);
    assert.throws(() => app.ws('/a/:', {}), /invalid parameter name/);
    assert.throws(() => app.ws('/a/:__proto__', {}), /invalid parameter name/);
    assert.throws(() => app.ws('/a/:x/:x', {}), /appears twice/);
    app.ws('/chat/:room', {});
    assert.throws(() => app.ws('/chat/:room', {}), /duplicate WebSocket route/);
    assert.throws(() => app.ws('/chat/:name', {}), /where another route has ":room"/);
    app.ws('/static', {});
    assert.throws(() => app.ws('/static/', {}), /duplicate WebSocket route/);
  });

  test('takes a replaceable logger and refuses something that cannot log', () => {
    const logger = { error() {} };
    const app = new App({ logger });
    assert.equal(app.log, logger);
    app.log = console;
    assert.equal(app.log, console);
    assert.throws(() => new App({ logger: {} }), /logger must be false or an object/);
    // DaloyJS's `new App({ logger: false })`: nothing is logged.
    const quiet = new App({ logger: false });
    assert.notEqual(quiet.log, undefined);
    assert.doesNotThrow(() => quiet.log.error({ err: new Error('x') }, 'not shown'));
  });
});

describe('route matching', () => {
  const app = new App();
  const routes = {};
  for (const path of ['/', '/chat', '/chat/:room', '/chat/:room/users', '/chat/lobby/info', '/a/:x/c', '/a/b']) {
    routes[path] = {};
    app.ws(path, routes[path]);
  }
  const find = (p) => {
    const match = app.webSocketRoutes.find(p);
    return match && { path: match.handler.path, params: match.params };
  };

  test('matches static paths, with or without a trailing slash', () => {
    assert.deepEqual(find('/'), { path: '/', params: {} });
    assert.deepEqual(find('/chat'), { path: '/chat', params: {} });
    assert.deepEqual(find('/chat/'), { path: '/chat', params: {} });
  });

  test('extracts :param segments, decoded', () => {
    assert.deepEqual(find('/chat/general'), { path: '/chat/:room', params: { room: 'general' } });
    assert.deepEqual(find('/chat/caf%C3%A9%20noir'), { path: '/chat/:room', params: { room: 'café noir' } });
    assert.deepEqual(find('/chat/a%2Fb/users'), { path: '/chat/:room/users', params: { room: 'a/b' } });
  });

  test('prefers a static segment and backtracks to a parameter', () => {
    assert.deepEqual(find('/chat/lobby/info'), { path: '/chat/lobby/info', params: {} });
    assert.deepEqual(find('/chat/lobby/users'), { path: '/chat/:room/users', params: { room: 'lobby' } });
    assert.deepEqual(find('/a/b/c'), { path: '/a/:x/c', params: { x: 'b' } });
  });

  test('does not match other paths, empty segments, dot segments or malformed escapes', () => {
    for (const p of ['/nope', '/chat/a/b/c', '/chat//users', '/chat/../chat', '/chat/%E0%A4%A', 'chat', '']) {
      assert.equal(find(p), undefined, p);
    }
  });
});

describe('ctx', () => {
  test('carries request, params, query, lower-case headers, state and offered protocols', { timeout: 10_000 }, async (t) => {
    const log = eventLog();
    const app = new App();
    app.ws('/rooms/:room', {
      beforeUpgrade(request, ctx) {
        log.push('before', request, ctx);
        return 'chat.v1';
      },
      open(conn, ctx) {
        log.push('open', ctx, conn.protocol);
        conn.send(JSON.stringify({ params: ctx.params, query: ctx.query }));
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/rooms/caf%C3%A9?user=ana&x=1`, ['chat.v2', 'chat.v1'], {
      headers: { 'X-Custom-Header': 'Value' },
    });
    const [request, beforeCtx] = await log.wait('before');
    const [ctx, protocol] = await log.wait('open');
    assert.equal(beforeCtx, ctx);
    assert.equal(protocol, 'chat.v1');
    assert.equal(ws.protocol, 'chat.v1');
    assert.ok(request instanceof Request);
    assert.equal(ctx.request, request);
    assert.equal(request.method, 'GET');
    assert.equal(request.url, `http://127.0.0.1:${server.port}/rooms/caf%C3%A9?user=ana&x=1`);
    assert.equal(request.headers.get('x-custom-header'), 'Value');
    assert.deepEqual(ctx.params, { room: 'café' });
    assert.deepEqual(ctx.query, { user: 'ana', x: '1' });
    assert.equal(ctx.headers['x-custom-header'], 'Value');
    assert.equal(ctx.headers.upgrade, 'websocket');
    assert.ok(Object.keys(ctx.headers).every((k) => k === k.toLowerCase()));
    assert.deepEqual(ctx.state, {});
    assert.deepEqual(ctx.protocols, ['chat.v2', 'chat.v1']);
    const { data } = await nextMessage(ws);
    assert.deepEqual(JSON.parse(data), { params: { room: 'café' }, query: { user: 'ana', x: '1' } });
  });

  test('builds the Request only when a handler reads it, and the same one each time', { timeout: 10_000 }, async (t) => {
    // Count constructions of the real Request: the wiring builds it with the global constructor.
    const RealRequest = globalThis.Request;
    let built = 0;
    globalThis.Request = class CountingRequest extends RealRequest {
      constructor(...args) {
        super(...args);
        built++;
      }
    };
    t.after(() => {
      globalThis.Request = RealRequest;
    });
    const log = eventLog();
    const app = new App();
    app.ws('/unread', {
      beforeUpgrade(request, ctx) {
        log.push('before', request instanceof RealRequest, ctx.request === request, built);
      },
      open() {
        log.push('open', built);
      },
    });
    app.ws('/read', {
      beforeUpgrade(request) {
        log.push('read', request.headers.get('x-token'), request.method, built);
      },
      open(conn, ctx) {
        log.push('again', ctx.request === ctx.request, ctx.request.url, ctx.request.headers.get('x-token'), built);
      },
    });
    const server = await startServer(t, app);
    await connect(t, `ws://127.0.0.1:${server.port}/unread`);
    assert.deepEqual(await log.wait('before'), [true, true, 0]);
    assert.deepEqual(await log.wait('open'), [0]);
    await connect(t, `ws://127.0.0.1:${server.port}/read?x=1`, [], { headers: { 'X-Token': 'abc' } });
    assert.deepEqual(await log.wait('read'), ['abc', 'GET', 1]);
    assert.deepEqual(await log.wait('again'), [true, `http://127.0.0.1:${server.port}/read?x=1`, 'abc', 1]);
  });

  test('the request behaves as the real one: methods, clone(), and a new Request from its clone', { timeout: 10_000 }, async (t) => {
    const log = eventLog();
    const app = new App();
    app.ws('/a', {
      async beforeUpgrade(request) {
        const copy = request.clone();
        const rebuilt = new Request(copy, { headers: { 'x-extra': '1' } });
        log.push(
          'before',
          request.constructor === Request,
          copy instanceof Request,
          rebuilt.url,
          rebuilt.headers.get('x-extra'),
          request.signal instanceof AbortSignal,
          request.clone === request.clone,
          await request.text(),
          'headers' in request,
        );
      },
    });
    const server = await startServer(t, app);
    await connect(t, `ws://127.0.0.1:${server.port}/a`);
    assert.deepEqual(await log.wait('before'), [
      true,
      true,
      `http://127.0.0.1:${server.port}/a`,
      '1',
      true,
      true,
      '',
      true,
    ]);
  });
});
