// Bun's and Deno's own WebSocket clients against the Node server with permessage-deflate on:
// each exchanges messages that compress well. Whether the client negotiated the extension is
// checked from the bytes the client sent, counted by a relay in front of the server (whatever
// transport the server's connection runs on): compressed, the messages take a fraction of their
// size on the wire. Run by scripts/runtimes.sh, which sets BUN and DENO; without them
// the tests are skipped and say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { App } from '../../index.js';
import { startServer } from '../fixtures/node-helpers.mjs';

const client = fileURLToPath(new URL('../fixtures/deflate-client.mjs', import.meta.url));
const T = { timeout: 60_000 };
// What the client sends (deflate-client.mjs): about 84 KB uncompressed.
const PLAIN_BYTES = 80_000;

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function exchange(t, command, args) {
  const app = new App().ws('/echo', {
    perMessageDeflate: { threshold: 0 },
    message(conn, data, isBinary) {
      conn.send(data, { binary: isBinary });
    },
  });
  const server = await startServer(t, app);
  let bytesRead = 0;
  // A relay that counts what the client sends.
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(server.port, '127.0.0.1');
    inbound.on('data', (chunk) => {
      bytesRead += chunk.length;
    });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => relay.close(() => resolve())));
  const port = /** @type {import('node:net').AddressInfo} */ (relay.address()).port;
  const { code, out } = await run(command, [...args, client, `ws://127.0.0.1:${port}/echo`]);
  assert.equal(code, 0, out);
  const result = JSON.parse(out.trim().split('\n').pop());
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { ...result, bytesRead };
}

test("Bun's client negotiates permessage-deflate and exchanges compressed messages", { ...T, skip: process.env.BUN ? false : 'BUN not set (scripts/runtimes.sh sets it)' }, async (t) => {
  const result = await exchange(t, process.env.BUN, []);
  assert.equal(result.echoed, 3);
  assert.equal(result.closeCode, 1000);
  assert.match(result.extensions, /^permessage-deflate/);
  assert.ok(result.bytesRead < PLAIN_BYTES / 4, `the server read ${result.bytesRead} bytes`);
  t.diagnostic(`Bun: ${result.extensions}; the server read ${result.bytesRead} bytes for ${PLAIN_BYTES}+ of messages`);
});

test("Deno's client (which offers no extension) still exchanges messages with a deflate route", { ...T, skip: process.env.DENO ? false : 'DENO not set (scripts/runtimes.sh sets it)' }, async (t) => {
  const result = await exchange(t, process.env.DENO, ['run', '-A']);
  assert.equal(result.echoed, 3);
  assert.equal(result.closeCode, 1000);
  assert.equal(result.extensions, '');
  assert.ok(result.bytesRead > PLAIN_BYTES, `the server read ${result.bytesRead} bytes`);
  t.diagnostic(`Deno: no extension offered; the server read ${result.bytesRead} bytes`);
});
