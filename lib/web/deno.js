'use strict';

// serve() on Deno: an App's WebSocket routes through Deno.serve and Deno.upgradeWebSocket. The
// handshake checks run in the request handler (upgrade.js); Deno answers 101 and frames;
// this adapter drives the handlers (connection.js). Deno has no option for
// maxPayloadLength, idleTimeout (its own sends PINGs and closes without 1001) or a backpressure
// limit: all three are enforced per route in connection.js, and Deno's idle timeout is off.

const { textResponse } = require('./upgrade.js');
const { WebConnection } = require('./connection.js');
const { serveOptions, ConnectionHost, requestHandler, webFanOut } = require('./server.js');
const { topicMethods } = require('../app/topics.js');
const { closeOnce } = require('../app/signals.js');
const { DenoTransport } = require('./deno-transport.js');
const { log } = require('../app/logger.js');

function accept(host, req, decision) {
  if (decision instanceof Response) return decision;
  const { route, ctx, protocol } = decision;
  let upgraded;
  try {
    upgraded = Deno.upgradeWebSocket(req, protocol !== '' ? { protocol, idleTimeout: 0 } : { idleTimeout: 0 });
  } catch (err) {
    // Deno refuses what it cannot upgrade (e.g. a request whose connection is gone).
    log(host.logger, 'error', { err, path: route.path }, 'WebSocket upgrade failed');
    return textResponse(400, 'WebSocket upgrade failed');
  }
  const { socket, response } = upgraded;
  socket.binaryType = 'arraybuffer';
  let conn;
  const transport = new DenoTransport(socket, () => conn.drained(), host.logger);
  // Deno negotiates no extension.
  conn = new WebConnection(transport, route, protocol, '', host);
  socket.onopen = () => {
    host.track(conn);
    conn.opened(ctx);
  };
  socket.onmessage = (event) => {
    const data = event.data;
    if (typeof data === 'string') conn.received(data, false);
    else conn.received(data, true);
  };
  socket.onerror = (event) => {
    conn.failed(event && event.error instanceof Error ? event.error : new Error((event && event.message) || 'WebSocket error'));
  };
  socket.onclose = (event) => {
    transport.stop();
    // Without a closing handshake the peer gave no status: 1006 and no reason, as on Node.
    if (event.wasClean) conn.closed(event.code, event.reason);
    else conn.closed(1006, '');
  };
  return response;
}

/**
 * Serves the app's WebSocket routes with Deno.serve. Plain HTTP requests go to `options.fetch`
 * (`(request, info) => Response`) or get 404.
 * @param {import('../app/app.js').App} app
 * @param {{ port?: number, hostname?: string, handleSignals?: boolean, fetch?: Function,
 *   logger?: object, closeTimeout?: number, shutdownTimeout?: number, shutdownTimeoutMs?: number,
 *   shutdownCloseTimeout?: number }} [options]
 */
function serve(app, options) {
  if (typeof Deno === 'undefined') throw new Error('daloy-ws-native/deno: serve() needs the Deno runtime');
  const opts = serveOptions(app, options);
  const host = new ConnectionHost(app, opts, webFanOut);

  const handler = requestHandler(host, opts, (req, info, decision) => accept(host, req, decision));

  let port = opts.port;
  let resolveReady;
  const ready = new Promise((resolve) => {
    resolveReady = resolve;
  });
  const server = Deno.serve(
    {
      port: opts.port,
      hostname: opts.hostname,
      onListen(addr) {
        port = addr.port;
        resolveReady();
      },
    },
    handler,
  );

  const close = closeOnce(() => host.closeAll().then(() => server.shutdown()), opts.handleSignals);

  return {
    server,
    /** The port listened on (the one the system chose, for port 0, once ready). */
    get port() {
      return port;
    },
    hostname: opts.hostname,
    /** Resolves once the server listens. */
    ready,
    /** Open WebSocket connections (live view). */
    get connections() {
      return host.connections;
    },
    ...topicMethods(host),
    close,
  };
}

module.exports = { serve };
