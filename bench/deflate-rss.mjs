// RSS per idle permessage-deflate connection: a server in a child process accepts N connections
// from `ws` clients that offer the extension, each connection exchanges one compressible message
// (so that every compressor and decompressor a mode keeps is made), then all sit idle and the
// server reports its RSS after a full GC. Per server configuration, the figure is
// (RSS with N more idle connections - RSS before them) / N, "before" being taken after a warm-up
// of WARMUP connections that stay open and have idled as long as the measured ones will (so
// one-time costs, code and shared buffers, are not counted); the same without the extension is the baseline, and the difference is what
// compression costs an idle connection. Measured twice: right after the last echo, and once the
// connections have been idle for IDLE_WAIT_MS.
//
//   taskset -c 1 node bench/deflate-rss.mjs [--connections=1000] [--repeats=3]
//
// Configurations: this package off / shared / dedicated (window 15; its default shared decompressor,
// and with `decompressor: 'dedicated'`), `ws` 8 off / with perMessageDeflate at its defaults (context
// takeover both ways, window 15) / with server_ and client_no_context_takeover (what `shared`
// agrees), and uWebSockets.js (npm uwebsockets@3.0.6 under bench/.tools, when installed) off /
// SHARED_COMPRESSOR|SHARED_DECOMPRESSOR / DEDICATED_COMPRESSOR_256KB|DEDICATED_DECOMPRESSOR.

import { fork } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { loadWs, machine, printMachine, parseArgs, require, root } from './lib/env.mjs';
import { median, table, today } from './lib/stats.mjs';

const opts = parseArgs({ connections: 1000, repeats: 3, child: '', out: path.join(root, 'bench', 'results') });
const WARMUP = 100;
const IDLE_WAIT_MS = 11_000;
const MESSAGE = JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `item ${i}`, ok: i % 2 === 0 })) });

const CONFIGS = {
  'this-off': { impl: 'this', deflate: false },
  'this-shared': { impl: 'this', deflate: { mode: 'shared', threshold: 0 } },
  'this-dedicated': { impl: 'this', deflate: { mode: 'dedicated', threshold: 0 } },
  'this-dedicated-own': { impl: 'this', deflate: { mode: 'dedicated', decompressor: 'dedicated', threshold: 0 } },
  'ws-off': { impl: 'ws', deflate: false },
  'ws-deflate': { impl: 'ws', deflate: { threshold: 0 } },
  'ws-no-context': { impl: 'ws', deflate: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } },
  'uws-off': { impl: 'uws', deflate: false },
  'uws-shared': { impl: 'uws', deflate: 'shared' },
  'uws-dedicated': { impl: 'uws', deflate: 'dedicated' },
};
const UWS = path.join(root, 'bench', '.tools', 'node_modules', 'uwebsockets');
if (!existsSync(UWS)) for (const name of Object.keys(CONFIGS)) if (CONFIGS[name].impl === 'uws') delete CONFIGS[name];

async function server(name) {
  const config = CONFIGS[name];
  let port;
  if (config.impl === 'this') {
    const { App } = require(path.join(root, 'index.js'));
    const { serve } = require(path.join(root, 'node.js'));
    const app = new App().ws('/echo', {
      perMessageDeflate: config.deflate,
      idleTimeout: 3600,
      message(conn, data, isBinary) {
        conn.send(data, { binary: isBinary });
      },
    });
    const handle = serve(app, { port: 0, hostname: '127.0.0.1', handleSignals: false });
    await handle.ready;
    port = handle.port;
  } else if (config.impl === 'uws') {
    const uWS = require(UWS);
    const compression = { false: uWS.DISABLED, shared: uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR, dedicated: uWS.DEDICATED_COMPRESSOR_256KB | uWS.DEDICATED_DECOMPRESSOR }[config.deflate];
    const app = uWS.App().ws('/echo', {
      compression,
      idleTimeout: 0,
      message(socket, message, isBinary) {
        socket.send(message, isBinary, config.deflate !== false);
      },
    });
    port = await new Promise((resolve, reject) =>
      app.listen('127.0.0.1', 0, (token) => (token ? resolve(uWS.us_socket_local_port(token)) : reject(new Error('uWS: listen failed')))),
    );
  } else {
    const { WebSocketServer } = require('ws');
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: config.deflate });
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    port = wss.address().port;
  }
  const rss = () => {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage.rss();
  };
  process.on('message', (m) => {
    if (m === 'rss') process.send({ rss: rss() });
  });
  process.send({ port, rss: rss() });
}

async function measure(name) {
  const WebSocket = require('ws');
  const child = fork(fileURLToPath(import.meta.url), [`--child=${name}`], { execArgv: ['--expose-gc'] });
  const [ready] = await once(child, 'message');
  const clients = [];
  const rss = async () => {
    // Let the server finish what the last echoes left (sockets drained, timers settled).
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.send('rss');
    const [{ rss: value }] = await once(child, 'message');
    return value;
  };
  await open(WebSocket, ready.port, clients, WARMUP);
  // The warm-up connections idle too, so that "before" is a settled state.
  await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS));
  const before = await rss();
  await open(WebSocket, ready.port, clients, opts.connections);
  const after = await rss();
  await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS));
  const idle = await rss();
  const extensions = clients[0].extensions;
  for (const ws of clients) ws.terminate();
  child.kill();
  await once(child, 'exit');
  const n = opts.connections;
  return { before, after, idle, afterEcho: (after - before) / n, perConnection: (idle - before) / n, extensions };
}

/** Opens `count` more connections, 50 at a time, each exchanging one message. */
async function open(WebSocket, port, clients, count) {
  for (let i = 0; i < count; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 50); j++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: true });
      clients.push(ws);
      batch.push(
        once(ws, 'open').then(() => {
          ws.send(MESSAGE);
          return once(ws, 'message');
        }),
      );
    }
    await Promise.all(batch);
  }
}

if (opts.child) {
  await server(opts.child);
} else {
  const { helpers } = loadWs();
  const env = machine(helpers);
  printMachine(env);
  const results = {};
  for (let r = 0; r < opts.repeats; r++) {
    for (const name of Object.keys(CONFIGS)) {
      const res = await measure(name);
      (results[name] ??= []).push(res);
      console.log(
        `${name.padEnd(15)} run ${r + 1}: ${(res.afterEcho / 1024).toFixed(1)} KiB per connection after its echo, ` +
          `${(res.perConnection / 1024).toFixed(1)} KiB idle (${res.extensions || 'no extension'})`,
      );
    }
  }
  const per = (name, key = 'perConnection') => median(results[name].map((x) => x[key]));
  const kib = (bytes) => (bytes / 1024).toFixed(1);
  const rows = Object.keys(CONFIGS).map((name) => {
    const base = per(`${CONFIGS[name].impl}-off`);
    const baseEcho = per(`${CONFIGS[name].impl}-off`, 'afterEcho');
    const deflate = (value, b) => (CONFIGS[name].deflate ? kib(value - b) : '—');
    return [name, kib(per(name, 'afterEcho')), deflate(per(name, 'afterEcho'), baseEcho), kib(per(name)), deflate(per(name), base)];
  });
  const md = table(
    ['server', 'KiB per connection after its echo', 'of which deflate', `KiB per connection idle ${IDLE_WAIT_MS / 1000} s`, 'of which deflate'],
    rows,
  );
  console.log(`\n${opts.connections} idle connections, median of ${opts.repeats} runs\n\n${md}`);
  mkdirSync(opts.out, { recursive: true });
  const base = path.join(opts.out, `deflate-rss-${today()}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ machine: env, settings: opts, results }, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${md}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), base)}.json and .md`);
}
