'use strict';

// serve() on Bun: an App's WebSocket routes through Bun.serve and its native `websocket` config.
// The handshake checks run in `fetch` (upgrade.js), then `server.upgrade` carries the
// route and ctx in `data`; Bun frames, this adapter drives the handlers (connection.js).
//
// Bun takes one value per server for its limits, so Bun gets the loosest over the routes and each
// route's own limit is enforced here: maxPayloadLength on every message (close 1009),
// backpressureLimit before every send (close 1009), idleTimeout with a timer per connection
// (close 1001; Bun's own is off: it is server-wide, capped at 960 s, and closes without 1001).

const { kOnRouteAdded } = require('../app/app.js');
const { textResponse } = require('./upgrade.js');
const { WebConnection } = require('./connection.js');
const { serveOptions, ConnectionHost, requestHandler, webFanOut } = require('./server.js');
const { topicMethods } = require('../app/topics.js');
const { closeOnce } = require('../app/signals.js');
const { BunTransport } = require('./bun-transport.js');
const { routeDeflate } = require('../app/deflate-option.js');

// uWebSockets reports a message over the server-wide limit to `close` as 1006 with this reason,
// after sending 1009 to the peer; the handler is told 1009, as on Node.
const BUN_TOO_BIG_REASON = 'Received too big message';
// Sends are never dropped by Bun: a route with closeOnBackpressureLimit false keeps queueing, as
// on Node; the routes that close on the limit are closed by the adapter.
const BUN_BACKPRESSURE_LIMIT = 2 ** 31 - 1;

function offersDeflate(req) {
  const offered = req.headers.get('sec-websocket-extensions');
  return offered !== null && /(^|,)\s*permessage-deflate\s*(;|,|$)/i.test(offered);
}

// Bun's compression is one setting per server: on once any route enables it, with Bun's dedicated
// compressor when any route asks for the dedicated mode, its shared one otherwise (Bun then
// negotiates it on every route; `conn.extensions` and compressed sends follow each route's option,
// and sends its threshold).
function bunDeflate(app) {
  const modes = app.webSocketRoutes
    .list()
    .map((route) => routeDeflate(route.options))
    .filter((config) => config !== false)
    .map((config) => config.mode);
  if (modes.length === 0) return false;
  const mode = modes.includes('dedicated') ? 'dedicated' : 'shared';
  return { compress: mode, decompress: mode };
}

/**
 * The fan-out on Bun: Bun's own publish, which builds the frame once and writes it in C++. Each
 * subscription is mirrored on the ServerWebSocket; the registry (lib/app/topics.js) keeps the limits,
 * `subscriptions`, the counts and the broker. Bun queues a publish to a subscriber over its limit
 * (the server-wide limit is off, see BUN_BACKPRESSURE_LIMIT); the route's limit closes such a
 * subscriber at its next own send.
 * @param {() => { publish(topic: string, data: string | Uint8Array): number }} getServer Bun.serve's server
 */
function bunFanOut(getServer) {
  const sockets = new WeakMap();
  return {
    encode: webFanOut.encode,
    bytes: webFanOut.bytes,
    decode: webFanOut.decode,
    /** The connection `conn` runs on `ws`. */
    register(conn, ws) {
      sockets.set(conn, ws);
    },
    deliver(topic, subscribers, except, message) {
      if (except !== null && subscribers.has(except)) {
        const ws = sockets.get(except);
        // Bun's ServerWebSocket.publish reaches every subscriber but the sender; a sender whose socket
        // Bun has closed (a close handler publishing) is no longer among Bun's subscribers.
        if (ws.readyState === 1) ws.publish(topic, message);
        else getServer().publish(topic, message);
        return subscribers.size - 1;
      }
      getServer().publish(topic, message);
      return subscribers.size;
    },
    joined(conn, topic) {
      sockets.get(conn).subscribe(topic);
    },
    left(conn, topic) {
      const ws = sockets.get(conn);
      // Bun drops a closed socket's subscriptions itself.
      if (ws.readyState === 1) ws.unsubscribe(topic);
    },
  };
}

function websocketConfig(app, host, fanOut) {
  const merged = app.webSocketRoutes.runtimeOptions();
  const deflate = merged.perMessageDeflate ? bunDeflate(app) : false;
  return {
    // Bun takes a 32-bit limit: a route's Infinity becomes Bun's largest.
    maxPayloadLength: Math.min(merged.maxPayloadLength, 0xffffffff),
    backpressureLimit: BUN_BACKPRESSURE_LIMIT,
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
    sendPings: false,
    perMessageDeflate: deflate,
    open(ws) {
      const { route, ctx, protocol, extensions } = ws.data;
      const conn = new WebConnection(new BunTransport(ws), route, protocol, extensions, host);
      ws.data.conn = conn;
      fanOut.register(conn, ws);
      host.track(conn);
      conn.opened(ctx);
    },
    message(ws, message) {
      const conn = ws.data.conn;
      if (typeof message === 'string') conn.received(message, false);
      else conn.received(message, true);
    },
    ping(ws) {
      ws.data.conn.touched();
    },
    pong(ws) {
      ws.data.conn.touched();
    },
    drain(ws) {
      ws.data.conn.drained();
    },
    close(ws, code, reason) {
      const conn = ws.data.conn;
      if (conn === undefined) return;
      if (code === 1006 && reason === BUN_TOO_BIG_REASON) code = 1009;
      else if (code === 1006) reason = '';
      conn.closed(code, reason);
    },
  };
}

/**
 * Serves the app's WebSocket routes with Bun.serve. Plain HTTP requests go to `options.fetch`
 * (`(request, server) => Response`) or get 404.
 * @param {import('../app/app.js').App} app
 * @param {{ port?: number, hostname?: string, handleSignals?: boolean, fetch?: Function,
 *   logger?: object, closeTimeout?: number, shutdownTimeout?: number, shutdownTimeoutMs?: number,
 *   shutdownCloseTimeout?: number }} [options]
 */
function serve(app, options) {
  if (typeof Bun === 'undefined') throw new Error('daloy-ws-native/bun: serve() needs the Bun runtime');
  const opts = serveOptions(app, options);
  let server;
  const fanOut = bunFanOut(() => server);
  const host = new ConnectionHost(app, opts, fanOut);

  const upgrade = (req, server, decision) => {
    if (decision instanceof Response) return decision;
    const { route, ctx, protocol } = decision;
    const extensions = route.options.perMessageDeflate && offersDeflate(req) ? 'permessage-deflate' : '';
    const headers = protocol !== '' ? { 'Sec-WebSocket-Protocol': protocol } : undefined;
    if (server.upgrade(req, { data: { route, ctx, protocol, extensions, conn: undefined }, headers })) return undefined;
    // The client went away while beforeUpgrade ran, or Bun refused the request.
    return textResponse(400, 'WebSocket upgrade failed');
  };

  const fetch = requestHandler(host, opts, upgrade);

  server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname,
    fetch,
    websocket: websocketConfig(app, host, fanOut),
  });
  // Bun's limits are server-wide: a route added later may need a larger maxPayloadLength.
  const unsubscribe = app[kOnRouteAdded](() => server.reload({ fetch, websocket: websocketConfig(app, host, fanOut) }));

  const close = closeOnce(() => {
    unsubscribe();
    return host.closeAll().then(() => server.stop(true));
  }, opts.handleSignals);

  return {
    server,
    /** The port listened on (the one the system chose, for port 0). */
    get port() {
      return server.port;
    },
    hostname: opts.hostname,
    /** Bun.serve listens before it returns: already resolved. */
    ready: Promise.resolve(),
    /** Open WebSocket connections (live view). */
    get connections() {
      return host.connections;
    },
    ...topicMethods(host),
    close,
  };
}

module.exports = { serve };
