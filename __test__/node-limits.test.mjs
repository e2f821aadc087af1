// Per-route limits: backpressureLimit with closeOnBackpressureLimit, drain(), idleTimeout.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { App } from '../index.js';
import { startServer, connect, closed, eventLog, until, RawClient, clientFrame } from './fixtures/node-helpers.mjs';

const MiB = 1024 * 1024;
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('backpressure', () => {
  test('closes with 1009 when a peer that does not read lets queued bytes pass backpressureLimit', { timeout: 20_000 }, async (t) => {
    const log = eventLog();
    const app = new App().ws('/firehose', {
      backpressureLimit: 64 * 1024,
      message(conn) {
        conn.send(Buffer.alloc(MiB));
        log.push('queued', conn.bufferedAmount);
      },
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app, { closeTimeout: 200 });
    const client = await RawClient.upgrade(t, server.port, '/firehose');
    client.socket.pause();
    // Each request queues 1 MiB more; the kernel's buffers fill, then the queue grows.
    for (let i = 0; i < 256 && !log.kinds().includes('close'); i++) {
      client.send(clientFrame(1, 'more'));
      await turn();
    }
    assert.deepEqual(await log.wait('close'), [1009, 'Backpressure limit exceeded']);
    // The peer never reads the CLOSE either: the socket is cut after the close timeout.
    await until(() => server.connections.size === 0);
  });

  test('lets one message larger than backpressureLimit go out whole', { timeout: 10_000 }, async (t) => {
    const app = new App().ws('/big', {
      backpressureLimit: 1024,
      open(conn) {
        conn.send(Buffer.alloc(256 * 1024, 7));
        conn.send('after');
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/big');
    const big = await client.frame();
    assert.equal(big.payload.length, 256 * 1024);
    assert.equal((await client.frame()).payload.toString(), 'after');
  });

  test('keeps queueing with closeOnBackpressureLimit false, and calls drain once the peer reads again', { timeout: 20_000 }, async (t) => {
    const log = eventLog();
    let full = false;
    const app = new App().ws('/slow', {
      backpressureLimit: 64 * 1024,
      closeOnBackpressureLimit: false,
      message(conn) {
        conn.send(Buffer.alloc(MiB));
        if (conn.bufferedAmount > 4 * MiB && !full) {
          full = true;
          log.push('full', conn.bufferedAmount);
        }
      },
      drain(conn) {
        if (!full) return;
        log.push('drain', conn.bufferedAmount);
        conn.send('drained');
      },
      close(conn, code) {
        log.push('close', code);
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.upgrade(t, server.port, '/slow');
    client.socket.pause();
    for (let i = 0; i < 256 && !log.kinds().includes('full'); i++) {
      client.send(clientFrame(1, 'more'));
      await turn();
    }
    await log.wait('full');
    assert.ok(!log.kinds().includes('drain'));
    client.socket.resume();
    for (;;) {
      const frame = await client.frame();
      if (frame.opcode === 1) {
        assert.equal(frame.payload.toString(), 'drained');
        break;
      }
      assert.equal(frame.payload.length, MiB);
    }
    assert.ok(!log.kinds().includes('close'));
    const [left] = await log.wait('drain');
    assert.equal(left, 0);
  });
});

describe('idleTimeout', () => {
  test('closes a connection that receives nothing for idleTimeout seconds with 1001', { timeout: 10_000 }, async (t) => {
    const log = eventLog();
    const app = new App().ws('/idle', {
      idleTimeout: 1,
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/idle`);
    assert.deepEqual(await closed(ws), { code: 1001, reason: 'Idle timeout' });
    assert.deepEqual(await log.wait('close'), [1001, 'Idle timeout']);
  });

  test('keeps a connection open while its peer keeps sending', { timeout: 10_000 }, async (t) => {
    const app = new App().ws('/idle', {
      idleTimeout: 1,
      message(conn, data) {
        conn.send(data);
      },
    });
    const server = await startServer(t, app);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/idle`);
    let closedEarly = false;
    ws.once('close', () => (closedEarly = true));
    for (let i = 0; i < 20 && !closedEarly; i++) {
      ws.send('tick');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(closedEarly, false);
    assert.equal((await closed(ws)).code, 1001);
  });
});
