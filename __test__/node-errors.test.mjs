// Handler errors of every kind (a throw or a rejected promise in open, message, close, drain and
// error) are caught, logged through the replaceable logger, reported to error() where the
// connection is still open, and never take the process down.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { App } from '../index.js';
import { startServer, connect, nextMessage, closed, eventLog, captureLogger, until } from './fixtures/node-helpers.mjs';

const T = { timeout: 10_000 };

// An unhandled rejection would already fail the run; this makes the suite say which one.
const unhandled = [];
const onUnhandled = (reason) => unhandled.push(reason);
before(() => process.on('unhandledRejection', onUnhandled));
after(() => {
  process.removeListener('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, []);
});

const fail = (kind, where) => (kind === 'throw' ? () => {
  throw new Error(`${where} failed`);
} : async () => {
  await null;
  throw new Error(`${where} failed`);
});

for (const kind of ['throw', 'reject']) {
  describe(`a handler that ${kind}s`, () => {
    test('in open: logged, reported to error(), and the connection closed with 1011', T, async (t) => {
      const log = eventLog();
      const { logger, entries } = captureLogger();
      const app = new App({ logger }).ws('/x', {
        open: fail(kind, 'open'),
        error(conn, err) {
          log.push('error', err.message);
        },
        close(conn, code) {
          log.push('close', code);
        },
      });
      const server = await startServer(t, app);
      const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
      assert.deepEqual(await closed(ws), { code: 1011, reason: 'Internal Server Error' });
      assert.deepEqual(log.events, [
        ['error', 'open failed'],
        ['close', 1011],
      ]);
      assert.equal(entries.length, 1);
      assert.equal(entries[0].level, 'error');
      assert.equal(entries[0].message, 'WebSocket open() handler failed');
      assert.equal(entries[0].fields.err.message, 'open failed');
      assert.equal(entries[0].fields.path, '/x');
    });

    test('in message: logged and reported to error(); the connection keeps working', T, async (t) => {
      const log = eventLog();
      const { logger, entries } = captureLogger();
      const boom = fail(kind, 'message');
      const app = new App({ logger }).ws('/x', {
        message(conn, data) {
          if (data === 'boom') return boom();
          conn.send(`echo ${data}`);
        },
        error(conn, err) {
          log.push('error', err.message);
        },
      });
      const server = await startServer(t, app);
      const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
      ws.send('boom');
      ws.send('after');
      assert.equal((await nextMessage(ws)).data.toString(), 'echo after');
      assert.deepEqual(await log.wait('error'), ['message failed']);
      assert.deepEqual(
        entries.map((e) => e.message),
        ['WebSocket message() handler failed'],
      );
    });

    test('in close: logged, not reported to error() (no event after close)', T, async (t) => {
      const log = eventLog();
      const { logger, entries } = captureLogger();
      const app = new App({ logger }).ws('/x', {
        close: fail(kind, 'close'),
        error(conn, err) {
          log.push('error', err.message);
        },
      });
      const server = await startServer(t, app);
      const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
      ws.close(1000);
      await closed(ws);
      await until(() => entries.length > 0);
      assert.equal(entries[0].message, 'WebSocket close() handler failed');
      assert.deepEqual(log.events, []);
      // The server still serves.
      const next = await connect(t, `ws://127.0.0.1:${server.port}/x`);
      next.close();
      await closed(next);
    });

    test('in drain: logged and reported to error()', T, async (t) => {
      const log = eventLog();
      const { logger, entries } = captureLogger();
      const app = new App({ logger }).ws('/x', {
        open(conn) {
          // More than the socket's high-water mark: drain follows once it is written.
          conn.send(Buffer.alloc(256 * 1024));
        },
        drain: fail(kind, 'drain'),
        error(conn, err) {
          log.push('error', err.message);
        },
      });
      const server = await startServer(t, app);
      await connect(t, `ws://127.0.0.1:${server.port}/x`);
      assert.deepEqual(await log.wait('error'), ['drain failed']);
      assert.equal(entries[0].message, 'WebSocket drain() handler failed');
    });

    test('in error itself: logged, and nothing else breaks', T, async (t) => {
      const { logger, entries } = captureLogger();
      const app = new App({ logger }).ws('/x', {
        message() {
          throw new Error('message failed');
        },
        error: fail(kind, 'error'),
      });
      const server = await startServer(t, app);
      const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
      ws.send('go');
      await until(() => entries.length === 2);
      assert.deepEqual(
        entries.map((e) => [e.message, e.fields.err.message]),
        [
          ['WebSocket message() handler failed', 'message failed'],
          ['WebSocket error() handler failed', 'error failed'],
        ],
      );
      ws.send('again');
      await until(() => entries.length === 4);
    });
  });
}

describe('the logger', () => {
  test('is the App option, replaceable later through app.log, and overridden by the serve option', T, async (t) => {
    const first = captureLogger();
    const second = captureLogger();
    const third = captureLogger();
    const handler = {
      message() {
        throw new Error('logged');
      },
    };
    const app = new App({ logger: first.logger }).ws('/x', handler);
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    ws.send('1');
    await until(() => first.entries.length === 1);
    app.log = second.logger;
    ws.send('2');
    await until(() => second.entries.length === 1);
    const overridden = await startServer(t, app, { logger: third.logger });
    const other = await connect(t, `ws://127.0.0.1:${overridden.port}/x`);
    other.send('3');
    await until(() => third.entries.length === 1);
    assert.equal(first.entries.length, 1);
    assert.equal(second.entries.length, 1);
  });

  test('writes to stderr by default', T, async (t) => {
    const written = [];
    const write = process.stderr.write;
    process.stderr.write = (chunk, ...rest) => {
      if (String(chunk).includes('[daloy-ws-native]')) {
        written.push(String(chunk));
        return true;
      }
      return write.call(process.stderr, chunk, ...rest);
    };
    t.after(() => {
      process.stderr.write = write;
    });
    const app = new App().ws('/x', {
      message() {
        throw new Error('to stderr');
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    ws.send('go');
    await until(() => written.length === 1);
    assert.match(written[0], /error: WebSocket message\(\) handler failed \(\/x\)\nError: to stderr/);
  });

  test('logs nothing with logger: false, as DaloyJS apps configure it', T, async (t) => {
    const written = [];
    const write = process.stderr.write;
    process.stderr.write = (chunk, ...rest) => {
      if (String(chunk).includes('[daloy-ws-native]')) written.push(String(chunk));
      return write.call(process.stderr, chunk, ...rest);
    };
    t.after(() => {
      process.stderr.write = write;
    });
    const log = eventLog();
    const app = new App({ logger: false }).ws('/x', {
      message(conn, data) {
        if (data === 'boom') throw new Error('quiet');
        conn.send(data);
      },
      error(conn, err) {
        log.push('error', err.message);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    ws.send('boom');
    ws.send('after');
    assert.equal((await nextMessage(ws)).data.toString(), 'after');
    assert.deepEqual(await log.wait('error'), ['quiet']);
    assert.deepEqual(written, []);
  });

  test('that throws itself does not take the server down', T, async (t) => {
    const app = new App({
      logger: {
        error() {
          throw new Error('logger broke');
        },
      },
    }).ws('/x', {
      message(conn, data) {
        if (data === 'boom') throw new Error('handler broke');
        conn.send(data);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/x`);
    ws.send('boom');
    ws.send('still here');
    assert.equal((await nextMessage(ws)).data.toString(), 'still here');
  });
});
