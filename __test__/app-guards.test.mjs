// DaloyJS 1.2.1's app-level guards: the environment (env, production, NODE_ENV, secureDefaults),
// the production refusals of app.ws(), the option validation with DaloyJS's messages and error
// class, the route registry's shape, ctx.state from app.decorate(), and the choices this package
// makes where DaloyJS leaves a gap (idleTimeout: 0, "*" in a path, maxPayloadLength: Infinity).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  App,
  FrameSink,
  WebSocketRegistry,
  normalizeWebSocketOptions,
  encodeFrame,
  WebSocketPayloadTooLargeError,
} from '../index.js';
import { startServer, connect, nextMessage } from './fixtures/node-helpers.mjs';

const prod = (extra) => new App({ logger: false, env: 'production', ...extra });
const guarded = { beforeUpgrade() {}, allowedOrigins: 'same-origin' };

/** Asserts that `fn` throws a plain Error (not a subclass) whose message is `message` or matches it. */
function throwsPlain(fn, message) {
  assert.throws(fn, (err) => {
    assert.equal(Object.getPrototypeOf(err), Error.prototype, `a plain Error, got ${err && err.name}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

function withNodeEnv(value, fn) {
  const saved = process.env.NODE_ENV;
  if (value === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

describe('the environment', () => {
  test('production is env when given, else the production option, else NODE_ENV', () => {
    withNodeEnv('production', () => {
      assert.equal(new App().production, true);
      assert.equal(new App({ production: false }).production, false);
      assert.equal(new App({ env: 'development', production: true }).production, false);
    });
    withNodeEnv(undefined, () => {
      assert.equal(new App().production, false);
      assert.equal(new App({ production: true }).production, true);
      assert.equal(new App({ env: 'production', production: false }).production, true);
      assert.equal(new App({ env: 'test' }).production, false);
    });
  });

  test('secureDefaults is on unless false', () => {
    assert.equal(new App().secureDefaults, true);
    assert.equal(new App({ secureDefaults: true }).secureDefaults, true);
    assert.equal(new App({ env: 'development', secureDefaults: false }).secureDefaults, false);
  });

  test('secureDefaults: false is refused in production without acknowledgeInsecureDefaults', () => {
    throwsPlain(() => prod({ secureDefaults: false }), /^app\(\{ secureDefaults: false \}\) is refused in production\./);
    assert.equal(prod({ secureDefaults: false, acknowledgeInsecureDefaults: true }).secureDefaults, false);
    assert.doesNotThrow(() => new App({ env: 'development', secureDefaults: false }));
  });

  test('refuses an unknown env and option values of the wrong type', () => {
    assert.throws(() => new App({ env: 'prod' }), TypeError);
    assert.throws(() => new App({ production: 'yes' }), TypeError);
    assert.throws(() => new App({ secureDefaults: 0 }), TypeError);
  });
});

describe('app.ws() in production under secureDefaults', () => {
  test('refuses a route without beforeUpgrade unless acknowledgeUnauthenticated', () => {
    throwsPlain(
      () => prod().ws('/chat', { allowedOrigins: 'same-origin' }),
      'app.ws("/chat"): production WebSocket routes must authenticate or reject clients before the RFC 6455 upgrade. ' +
        'Add a beforeUpgrade hook for authenticated routes, or pass { acknowledgeUnauthenticated: true } for an intentionally public route.',
    );
    assert.doesNotThrow(() => prod().ws('/chat', { allowedOrigins: 'same-origin', acknowledgeUnauthenticated: true }));
    // Only `true` acknowledges.
    assert.throws(() => prod().ws('/chat', { allowedOrigins: 'same-origin', acknowledgeUnauthenticated: 'yes' }), /authenticate or reject/);
  });

  test('refuses a route without allowedOrigins unless acknowledgeCrossOriginUpgrade', () => {
    throwsPlain(
      () => prod().ws('/feed/:id', { beforeUpgrade() {} }),
      /^app\.ws\("\/feed\/:id"\): production WebSocket routes must guard against Cross-Site WebSocket Hijacking \(CSWSH\)\. Set \{ allowedOrigins: "same-origin" \}/,
    );
    assert.doesNotThrow(() => prod().ws('/feed/:id', { beforeUpgrade() {}, acknowledgeCrossOriginUpgrade: true }));
    for (const allowedOrigins of ['same-origin', ['https://app.example'], () => true]) {
      assert.doesNotThrow(() => prod().ws('/feed', { beforeUpgrade() {}, allowedOrigins }));
    }
  });

  test('refuses perMessageDeflate: true', () => {
    throwsPlain(
      () => prod().ws('/z', { ...guarded, perMessageDeflate: true }),
      'app.ws(): perMessageDeflate: true is refused in production under secureDefaults. ' +
        'Leave it false or pass app({ secureDefaults: false }) only for a reviewed deployment.',
    );
    assert.doesNotThrow(() => prod().ws('/z', { ...guarded, perMessageDeflate: false }));
  });

  test('refuses maxPayloadLength: Infinity', () => {
    throwsPlain(() => prod().ws('/z', { ...guarded, maxPayloadLength: Infinity }), /maxPayloadLength: Infinity is refused in production under secureDefaults/);
  });

  test('none of these apply in development, or in production with secureDefaults: false acknowledged', () => {
    const apps = [new App({ env: 'development' }), prod({ secureDefaults: false, acknowledgeInsecureDefaults: true })];
    for (const app of apps) {
      assert.doesNotThrow(() => app.ws('/open', {}));
      assert.doesNotThrow(() => app.ws('/deflate', { perMessageDeflate: true }));
      assert.doesNotThrow(() => app.ws('/unbounded', { maxPayloadLength: Infinity }));
    }
  });

  test('NODE_ENV=production alone arms the guards', () => {
    withNodeEnv('production', () => {
      assert.throws(() => new App({ logger: false }).ws('/chat', {}), /production WebSocket routes must/);
    });
  });
});

describe('option validation (DaloyJS messages, plain Error)', () => {
  for (const name of ['backpressureLimit', 'idleTimeout', 'maxPayloadLength']) {
    test(`${name} must be a positive integer`, () => {
      // null, like undefined, takes the default (DaloyJS reads options with ??).
      for (const value of [-1, 1.5, Number.NaN, '10', true]) {
        throwsPlain(() => new App().ws('/a', { [name]: value }), `app.ws(): ${name} must be a positive integer.`);
      }
    });
  }

  for (const name of ['closeOnBackpressureLimit', 'perMessageDeflate']) {
    test(`${name} must be a boolean`, () => {
      for (const value of ['yes', 1]) throwsPlain(() => new App().ws('/a', { [name]: value }), `app.ws(): ${name} must be a boolean.`);
    });
  }

  test('allowedOrigins must be one of its three shapes, with non-empty entries', () => {
    for (const value of ['any', 42, {}, null]) {
      throwsPlain(
        () => new App().ws('/a', { allowedOrigins: value }),
        'app.ws(): allowedOrigins must be "same-origin", an array of origin strings, or a predicate function.',
      );
    }
    for (const value of [[''], [42], ['https://a.example', null]]) {
      throwsPlain(() => new App().ws('/a', { allowedOrigins: value }), 'app.ws(): allowedOrigins entries must be non-empty origin strings.');
    }
  });

  test('idleTimeout: 0 is refused with a message that says it does not disable the timer', () => {
    throwsPlain(() => new App().ws('/a', { idleTimeout: 0 }), /^app\.ws\(\): idleTimeout must be a positive integer\. 0 does not disable the idle timer; the longest is 2147483 seconds\.$/);
    assert.doesNotThrow(() => new App().ws('/a', { idleTimeout: 2147483 }));
    throwsPlain(() => new App().ws('/a', { idleTimeout: 2147484 }), /idleTimeout must be at most 2147483 seconds/);
  });

  test('normalizeWebSocketOptions is exported with DaloyJS signature and defaults', () => {
    const dev = { production: false, secureDefaults: true };
    assert.deepEqual(normalizeWebSocketOptions({}, dev), {
      closeOnBackpressureLimit: true,
      backpressureLimit: 1048576,
      perMessageDeflate: false,
      idleTimeout: 120,
      maxPayloadLength: 1048576,
      maxFragments: 131072,
      maxTopicsPerConnection: 1024,
    });
    assert.equal(normalizeWebSocketOptions({ perMessageDeflate: true }, dev).perMessageDeflate, true);
    throwsPlain(() => normalizeWebSocketOptions({ perMessageDeflate: true }, { production: true, secureDefaults: true }), /refused in production/);
    assert.equal(normalizeWebSocketOptions({ perMessageDeflate: true }, { production: true, secureDefaults: false }).perMessageDeflate, true);
    // Without a context: development, as DaloyJS's registry assumes.
    assert.equal(normalizeWebSocketOptions({ idleTimeout: 5 }).idleTimeout, 5);
  });
});

describe('the registry (app.webSocketRoutes)', () => {
  test("is a WebSocketRegistry whose find() gives DaloyJS's { handler: { path, handler, createState, options }, params }", () => {
    const app = new App();
    const handler = { message() {} };
    app.ws('/chat/:room', handler);
    assert.ok(app.webSocketRoutes instanceof WebSocketRegistry);
    const match = app.webSocketRoutes.find('/chat/lobby');
    assert.deepEqual(Object.keys(match).sort(), ['handler', 'params']);
    assert.deepEqual(Object.keys(match.handler).sort(), ['createState', 'handler', 'options', 'path']);
    assert.equal(match.handler.path, '/chat/:room');
    assert.equal(match.handler.handler, handler);
    assert.equal(typeof match.handler.createState, 'function');
    assert.equal(match.handler.options.idleTimeout, 120);
    assert.deepEqual(match.params, { room: 'lobby' });
    assert.equal(app.webSocketRoutes.find('/nope'), undefined);
  });

  test("add(path, handler, createState?, options?) defaults as DaloyJS's does", () => {
    const registry = new WebSocketRegistry();
    registry.add('/a', {});
    const entry = registry.find('/a').handler;
    assert.deepEqual(entry.createState(), {});
    assert.equal(entry.options.maxPayloadLength, 1048576);
    const options = normalizeWebSocketOptions({ idleTimeout: 9 });
    registry.add('/b', {}, () => ({ n: 1 }), options);
    assert.deepEqual(registry.find('/b').handler.createState(), { n: 1 });
    assert.equal(registry.find('/b').handler.options, options);
    assert.equal(registry.size, 2);
    assert.deepEqual(registry.list().map((e) => e.path), ['/a', '/b']);
    assert.throws(() => registry.add('/c', {}, 'state'), TypeError);
  });
});

describe('the registry, merged for a server-wide runtime', () => {
  test('runtimeOptions() merges the routes as DaloyJS does, and gives the defaults without routes', () => {
    const app = new App();
    assert.deepEqual(app.webSocketRoutes.runtimeOptions(), normalizeWebSocketOptions({}));
    app.ws('/a', { idleTimeout: 30, maxPayloadLength: 10, backpressureLimit: 5 });
    app.ws('/b', { idleTimeout: 60, maxPayloadLength: 2048, closeOnBackpressureLimit: false, perMessageDeflate: true, maxFragments: 7 });
    assert.deepEqual(app.webSocketRoutes.runtimeOptions(), {
      closeOnBackpressureLimit: false,
      backpressureLimit: 1048576,
      perMessageDeflate: true,
      idleTimeout: 30,
      maxPayloadLength: 2048,
      maxFragments: 131072,
      maxTopicsPerConnection: 1024,
    });
  });
});

describe('paths with "*"', () => {
  test('a final *name segment takes the rest of the path, decoded; "*" alone names it wildcard', () => {
    const app = new App();
    app.ws('/files/*path', {});
    app.ws('/any/*', {});
    app.ws('/files/readme', {});
    app.ws('/files/:id/meta', {});
    const find = (p) => {
      const m = app.webSocketRoutes.find(p);
      return m && { path: m.handler.path, params: m.params };
    };
    assert.deepEqual(find('/files/a/b%20c'), { path: '/files/*path', params: { path: 'a/b c' } });
    assert.deepEqual(find('/files/readme'), { path: '/files/readme', params: {} });
    assert.deepEqual(find('/files/7/meta'), { path: '/files/:id/meta', params: { id: '7' } });
    assert.deepEqual(find('/files/7/other'), { path: '/files/*path', params: { path: '7/other' } });
    assert.deepEqual(find('/any/x'), { path: '/any/*', params: { wildcard: 'x' } });
    // One segment at least, and no traversal.
    assert.equal(find('/files'), undefined);
    assert.equal(find('/files/a/../b'), undefined);
    assert.equal(find('/files/%E0%A4%A'), undefined);
  });

  test('any other "*" is refused, never matched literally', () => {
    for (const path of ['/a*', '/a/b*c', '/a/*/b', '/a/**', '/*x/y', '/a/:b*']) {
      assert.throws(() => new App().ws(path, {}), /"\*" is only allowed as the whole last segment/, path);
    }
    const app = new App();
    app.ws('/x/*rest', {});
    assert.throws(() => app.ws('/x/*other', {}), /another route has "\*rest"/);
  });

  test('a wildcard route is served', { timeout: 10_000 }, async (t) => {
    const app = new App();
    app.ws('/static/*file', {
      open(conn, ctx) {
        conn.send(ctx.params.file);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/static/css/site%20main.css`);
    assert.equal(String((await nextMessage(ws)).data), 'css/site main.css');
  });
});

describe('ctx.state from app.decorate()', () => {
  test('each upgrade gets a fresh shallow copy of the decorations, also for routes added before', { timeout: 10_000 }, async (t) => {
    const app = new App();
    const db = { name: 'db' };
    const states = [];
    app.ws('/s', {
      beforeUpgrade(request, ctx) {
        states.push(ctx.state);
        ctx.state.seen = true;
      },
      open(conn, ctx) {
        conn.send(JSON.stringify({ keys: Object.keys(ctx.state).sort(), same: ctx.state.db === db }));
      },
    });
    app.decorate('db', db).decorate('version', 2);
    const server = await startServer(t, app);
    for (let i = 0; i < 2; i++) {
      const ws = await connect(t, `ws://127.0.0.1:${server.port}/s`);
      assert.deepEqual(JSON.parse(String((await nextMessage(ws)).data)), { keys: ['db', 'seen', 'version'], same: true });
    }
    assert.notEqual(states[0], states[1]);
    assert.throws(() => app.decorate(42, 1), TypeError);
  });
});

describe('maxPayloadLength: Infinity means the same in app.ws and FrameSink', () => {
  test('FrameSink and a route both take Infinity as "no limit"', { timeout: 10_000 }, async (t) => {
    const big = new Uint8Array(2 * 1048576 + 3).fill(7);
    let got = null;
    const sink = new FrameSink({
      maxPayloadLength: Infinity,
      onMessage: (m) => (got = m),
      onPing() {},
      onPong() {},
      onClose() {},
      onProtocolError: (err) => assert.fail(err),
    });
    sink.push(encodeFrame({ opcode: 2, payload: big }));
    assert.equal(got.data.length, big.length);

    const app = new App();
    app.ws('/big', { maxPayloadLength: Infinity, message: (conn, data) => conn.send(String(data.length)) });
    assert.equal(app.webSocketRoutes.find('/big').handler.options.maxPayloadLength, Infinity);
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/big`);
    ws.send(big);
    assert.equal(String((await nextMessage(ws)).data), String(big.length));
  });

  test('a finite limit refuses the same message in both', () => {
    let err = null;
    const sink = new FrameSink({
      maxPayloadLength: 10,
      onMessage() {},
      onPing() {},
      onPong() {},
      onClose() {},
      onProtocolError: (e) => (err = e),
    });
    sink.push(encodeFrame({ opcode: 2, payload: new Uint8Array(11) }));
    assert.ok(err instanceof WebSocketPayloadTooLargeError);
  });
});
