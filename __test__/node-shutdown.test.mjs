// Graceful shutdown: close() sends 1001 to every connection, waits a bounded grace period for the
// closing handshakes, destroys the rest and closes the server; handleSignals does it on
// SIGTERM/SIGINT (in a child process) and then lets the process exit.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { App } from '../index.js';
import { serve, createUpgradeHandler } from '../node.js';
import { serveOptions } from '../lib/web/server.js';
import {
  startServer,
  cleanup,
  connect,
  closed,
  eventLog,
  RawClient,
  upgradeRequest,
  WebSocket,
} from './fixtures/node-helpers.mjs';

const T = { timeout: 15_000 };

function refused(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('close()', () => {
  test('sends 1001 to every connection, calls their close handlers, then closes the server', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/a', {
      close(conn, code, reason) {
        log.push('close', code, reason);
      },
    });
    const server = await startServer(t, app);
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await connect(t, `ws://127.0.0.1:${server.port}/a`));
    const done = server.close();
    assert.equal(server.close(), done);
    await done;
    for (const ws of clients) assert.deepEqual(await closed(ws), { code: 1001, reason: 'Server shutting down' });
    assert.deepEqual(log.events, [
      ['close', 1001, 'Server shutting down'],
      ['close', 1001, 'Server shutting down'],
      ['close', 1001, 'Server shutting down'],
    ]);
    assert.equal(server.connections.size, 0);
    assert.equal(server.server.listening, false);
    assert.equal(await refused(server.port), true);
  });

  test('destroys connections whose peer never answers once the grace period is over', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/a', {
      close(conn, code) {
        log.push('close', code);
      },
    });
    const server = await startServer(t, app, { shutdownTimeout: 200, closeTimeout: 60_000 });
    const silent = await RawClient.upgrade(t, server.port, '/a');
    const polite = await connect(t, `ws://127.0.0.1:${server.port}/a`);
    await server.close();
    assert.equal((await silent.closeFrame()).code, 1001);
    await silent.ended;
    assert.equal((await closed(polite)).code, 1001);
    assert.deepEqual(log.kinds(), ['close', 'close']);
  });

  test('with the default timings, a peer that never answers the 1001 is cut off after about a second, not 10 s', T, async (t) => {
    const app = new App().ws('/a', {});
    const server = await startServer(t, app);
    const silent = await RawClient.upgrade(t, server.port, '/a');
    const started = Date.now();
    await server.close();
    const elapsed = Date.now() - started;
    assert.equal((await silent.closeFrame()).code, 1001);
    await silent.ended;
    // The close wait is 1 s; the old behaviour waited for the whole 10 s shutdownTimeout.
    assert.ok(elapsed >= 900 && elapsed < 5000, `close() took ${elapsed} ms`);
  });

  test("takes DaloyJS's shutdownTimeoutMs as well as shutdownTimeout, and the close wait never exceeds it", T, async (t) => {
    const app = new App().ws('/a', {});
    assert.equal(createUpgradeHandler(app, { shutdownTimeoutMs: 300 }).shutdownTimeout, 300);
    assert.equal(createUpgradeHandler(app, { shutdownTimeoutMs: 300 }).shutdownCloseTimeout, 300);
    assert.equal(createUpgradeHandler(app, { shutdownTimeout: 300, shutdownTimeoutMs: 300 }).shutdownTimeout, 300);
    assert.equal(createUpgradeHandler(app, { shutdownCloseTimeout: 50 }).shutdownCloseTimeout, 50);
    assert.deepEqual(
      [createUpgradeHandler(app).shutdownTimeout, createUpgradeHandler(app).shutdownCloseTimeout],
      [10_000, 1000],
    );
    assert.throws(() => createUpgradeHandler(app, { shutdownTimeout: 300, shutdownTimeoutMs: 400 }), RangeError);
    assert.throws(() => createUpgradeHandler(app, { shutdownTimeoutMs: -1 }), /shutdownTimeoutMs/);
    const server = await startServer(t, app, { shutdownTimeoutMs: 100 });
    const silent = await RawClient.upgrade(t, server.port, '/a');
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 3000, `close() took ${Date.now() - started} ms`);
    await silent.ended;
  });

  test('the Bun and Deno wiring reads the same shutdown options', () => {
    const app = new App().ws('/a', {});
    const pick = (o) => [o.shutdownTimeout, o.shutdownCloseTimeout];
    assert.deepEqual(pick(serveOptions(app, {})), [10_000, 1000]);
    assert.deepEqual(pick(serveOptions(app, { shutdownTimeoutMs: 400 })), [400, 400]);
    assert.deepEqual(pick(serveOptions(app, { shutdownTimeout: 5000, shutdownCloseTimeout: 200 })), [5000, 200]);
    assert.throws(() => serveOptions(app, { shutdownTimeout: 1, shutdownTimeoutMs: 2 }), RangeError);
  });

  test('drops upgrades still waiting in an async beforeUpgrade', T, async (t) => {
    const log = eventLog();
    const app = new App().ws('/slow', {
      beforeUpgrade() {
        log.push('before');
        return new Promise(() => {});
      },
      open() {
        log.push('open');
      },
    });
    const server = await startServer(t, app);
    const client = await RawClient.open(t, server.port);
    client.send(upgradeRequest('/slow'));
    await log.wait('before');
    await server.close();
    await client.ended;
    assert.deepEqual(log.kinds(), ['before']);
  });

  test('does not wait for idle HTTP keep-alive connections', T, async (t) => {
    const app = new App().ws('/a', {});
    const server = await startServer(t, app, { handler: (req, res) => res.end('ok') });
    const agent = new http.Agent({ keepAlive: true });
    cleanup(t, () => agent.destroy());
    await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: server.port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    await server.close();
    assert.equal(server.server.listening, false);
  });

  test('answers 503 to an upgrade that arrives while shutting down', T, async (t) => {
    const upgrades = createUpgradeHandler(new App().ws('/a', {}));
    const server = http.createServer((req, res) => res.end());
    server.on('upgrade', (req, socket, head) => upgrades.handleUpgrade(req, socket, head));
    server.listen(0, '127.0.0.1');
    cleanup(t, () => new Promise((resolve) => server.close(resolve)));
    await once(server, 'listening');
    await upgrades.close();
    const client = await RawClient.open(t, server.address().port);
    client.send(upgradeRequest('/a'));
    assert.equal((await client.response()).status, 503);
  });
});

describe('handleSignals', () => {
  async function child(t, args = []) {
    const proc = spawn(process.execPath, [new URL('./fixtures/node-signal-server.mjs', import.meta.url).pathname, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanup(t, () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    let out = '';
    proc.stdout.setEncoding('utf8');
    const port = await new Promise((resolve, reject) => {
      proc.stdout.on('data', (chunk) => {
        out += chunk;
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', () => reject(new Error(`child exited early: ${out}`)));
    });
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal, out })));
    return { proc, port, exited };
  }

  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`on ${signal}: closes connections with 1001, then the process exits with 0`, T, async (t) => {
      const { proc, port, exited } = await child(t);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      cleanup(t, () => ws.terminate());
      await once(ws, 'message');
      const wsClosed = once(ws, 'close');
      proc.kill(signal);
      const [code] = await wsClosed;
      assert.equal(code, 1001);
      const { code: exitCode, signal: exitSignal, out } = await exited;
      assert.equal(exitSignal, null);
      assert.equal(exitCode, 0);
      assert.match(out, /close 1001/);
    });
  }

  test('on SIGTERM with the default timings, a peer that never answers does not hold the process for 10 s', T, async (t) => {
    const { proc, port, exited } = await child(t, ['defaults']);
    const silent = await RawClient.upgrade(t, port, '/ws');
    const started = Date.now();
    proc.kill('SIGTERM');
    assert.equal((await silent.closeFrame()).code, 1001);
    const { code } = await exited;
    const elapsed = Date.now() - started;
    assert.equal(code, 0);
    assert.ok(elapsed < 5000, `the process took ${elapsed} ms to exit`);
  });

  test('leaves signals alone with handleSignals: false', T, async (t) => {
    const { proc, exited } = await child(t, ['no-signals']);
    proc.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.equal(code, null);
    assert.equal(signal, 'SIGTERM');
  });

  test('removes its signal listeners when closed', T, async () => {
    const before = process.listenerCount('SIGTERM');
    const server = serve(new App().ws('/a', {}), { port: 0, hostname: '127.0.0.1', handleSignals: true });
    await server.ready;
    assert.equal(process.listenerCount('SIGTERM'), before + 1);
    assert.equal(process.listenerCount('SIGINT') >= 1, true);
    await server.close();
    assert.equal(process.listenerCount('SIGTERM'), before);
  });
});
