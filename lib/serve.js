'use strict';

// serve() of `daloy-ws-native/node`: an App's WebSocket routes on Node's http server
// (lib/node/), or, run under Bun or Deno, on the runtime's own server (lib/web/), so that the
// same program runs unchanged on all three.

const nodeServer = require('./node/server.js');

/** The runtime running this process; DALOY_WS_RUNTIME (node | bun | deno) overrides. */
function detectRuntime() {
  const forced = process.env.DALOY_WS_RUNTIME;
  if (forced === 'node' || forced === 'bun' || forced === 'deno') return forced;
  if (typeof globalThis.Bun !== 'undefined') return 'bun';
  if (typeof globalThis.Deno !== 'undefined') return 'deno';
  return 'node';
}

/**
 * Serves `app`: on Node's http server, or on Bun.serve / Deno.serve when run there. `runtime`
 * forces one; a Node request `handler` (an Express app) keeps node:http.
 */
function serve(app, options) {
  const { runtime: chosen, ...rest } = options ?? {};
  const runtime = chosen ?? (rest.handler !== undefined ? 'node' : detectRuntime());
  if (runtime === 'bun') return require('./web/bun.js').serve(app, rest);
  if (runtime === 'deno') return require('./web/deno.js').serve(app, rest);
  if (runtime !== 'node') throw new RangeError('serve(): runtime must be "node", "bun" or "deno"');
  return nodeServer.serve(app, rest);
}

module.exports = { serve };
