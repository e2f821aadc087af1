// The examples, run as a user runs them: each in its own process on an ephemeral port.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, nextMessage, closed } from './fixtures/node-helpers.mjs';
import { startExample } from './fixtures/example-process.mjs';

const T = { timeout: 20_000 };

/** Starts an example with `--port 0`; resolves once its stdout matched `pattern`'s port group. */
function start(t, name, pattern, args = []) {
  return startExample(t, name, ['--port', '0', ...args], pattern);
}

/**
 * The echo examples' contract: prints its address, echoes text as text and binary as binary,
 * selects echo.v1, and stops on SIGTERM (1001 to its clients, exit code 0).
 */
async function checkEchoExample(t, name, more = async () => {}) {
  const server = await start(t, name, /^listening on ws:\/\/127\.0\.0\.1:(\d+)\/echo$/m);
  const plain = await connect(t, `ws://127.0.0.1:${server.port}/echo`);
  assert.equal(plain.protocol, '');
  const ws = await connect(t, `ws://127.0.0.1:${server.port}/echo`, ['other', 'echo.v1']);
  assert.equal(ws.protocol, 'echo.v1');
  ws.send('text');
  ws.send(Buffer.from([1, 2]));
  ws.send(Buffer.alloc(3 * 1024 * 1024, 5));
  assert.deepEqual(await nextMessage(ws), { data: Buffer.from('text'), isBinary: false });
  assert.deepEqual(await nextMessage(ws), { data: Buffer.from([1, 2]), isBinary: true });
  const large = await nextMessage(ws);
  assert.equal(large.data.length, 3 * 1024 * 1024);
  await more(server.port);
  server.proc.kill('SIGTERM');
  assert.equal((await closed(ws)).code, 1001);
  assert.deepEqual(await server.exited, { code: 0, signal: null });
}

describe('examples/echo-server.mjs', () => {
  test('prints its address, echoes text as text and binary as binary, selects echo.v1, stops on SIGTERM', T, (t) =>
    checkEchoExample(t, 'echo-server.mjs'));
});

describe('examples/chat-server.mjs', () => {
  test('welcomes each user and broadcasts to the room only', T, async (t) => {
    const server = await start(t, 'chat-server.mjs', /chat on ws:\/\/[^:]+:(\d+)\//);
    const url = (room, user) => `ws://127.0.0.1:${server.port}/chat/${room}?user=${user}`;
    const ana = await connect(t, url('lobby', 'ana'));
    assert.equal((await nextMessage(ana)).data.toString(), 'welcome ana');
    assert.equal((await nextMessage(ana)).data.toString(), 'ana joined lobby');
    const ben = await connect(t, url('lobby', 'ben'));
    const cy = await connect(t, url('kitchen', 'cy'));
    assert.equal((await nextMessage(ben)).data.toString(), 'welcome ben');
    assert.equal((await nextMessage(ana)).data.toString(), 'ben joined lobby');
    assert.equal((await nextMessage(ben)).data.toString(), 'ben joined lobby');
    ana.send('hi all');
    assert.equal((await nextMessage(ana)).data.toString(), 'ana: hi all');
    assert.equal((await nextMessage(ben)).data.toString(), 'ana: hi all');
    ben.close();
    assert.equal((await nextMessage(ana)).data.toString(), 'ben left');
    // cy, in another room, heard only its own arrival.
    assert.equal((await nextMessage(cy)).data.toString(), 'welcome cy');
    assert.equal((await nextMessage(cy)).data.toString(), 'cy joined kitchen');
    cy.send('anyone?');
    assert.equal((await nextMessage(cy)).data.toString(), 'cy: anyone?');
  });
});

describe('examples/express-app.mjs', () => {
  test('serves its HTTP route and its WebSocket route on one port, and stops on SIGTERM', T, async (t) => {
    const server = await start(t, 'express-app.mjs', /http:\/\/[^:]+:(\d+)\/health/);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/ws/time`);
    const first = (await nextMessage(ws)).data.toString();
    assert.ok(!Number.isNaN(Date.parse(first)), first);
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    assert.deepEqual(await health.json(), { ok: true, connections: 1 });
    server.proc.kill('SIGTERM');
    assert.equal((await closed(ws)).code, 1001);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
});

describe('examples/ws-echo-server.mjs (the `ws` way, on daloy-ws-native/ws)', () => {
  test('the same contract, and plain HTTP gets 426 as from ws', T, (t) =>
    checkEchoExample(t, 'ws-echo-server.mjs', async (port) => {
      const other = await fetch(`http://127.0.0.1:${port}/echo`);
      assert.equal(other.status, 426);
    }));
});

describe('examples/ws-balda-node.mjs (the Balda page\'s Node.js sample on daloy-ws-native/ws)', () => {
  test('greets, echoes with its prefix on /ws, leaves HTTP to the server, stops on SIGTERM', T, async (t) => {
    const server = await start(t, 'ws-balda-node.mjs', /Server listening on http:\/\/127\.0\.0\.1:(\d+)/, ['--host', '127.0.0.1']);
    const ws = await connect(t, `ws://127.0.0.1:${server.port}/ws`);
    assert.equal((await nextMessage(ws)).data.toString(), 'Hello from server');
    ws.send('hi');
    assert.equal((await nextMessage(ws)).data.toString(), 'Echo: hi');
    const http = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(await http.text(), 'Hello from HTTP\n');
    assert.match(server.out(), /New WebSocket connection/);
    assert.match(server.out(), /Received: hi/);
    server.proc.kill('SIGTERM');
    assert.equal((await closed(ws)).code, 1001);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
});
