'use strict';

// serve(), attach() and createUpgradeHandler(): an App's WebSocket routes on a Node http(s)
// server, either one created here or one the application already has (Express, Koa, Fastify's
// `server`, ...), beside whatever else listens for `upgrade` on it.

const http = require('node:http');
const { App, kOnRouteAdded } = require('../app/app.js');
const { UpgradeHandler, reject, maxHeaderCountOption } = require('./upgrade.js');
const { onSignals, closeOnce } = require('../app/signals.js');
const { topicMethods } = require('../app/topics.js');

function checkApp(app, fn) {
  if (!(app instanceof App)) throw new TypeError(`${fn}(): expected an App from daloy-ws-native`);
}

function checkOptions(options, fn) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}(): options must be an object`);
  return options;
}

function notFound(req, res) {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '9' });
  res.end('Not Found');
}

/**
 * Installs the `upgrade` listener on `server` once the app has a WebSocket route (now or later).
 * A path the app does not own is left to the server's other `upgrade` listeners; when there are
 * none (or `rejectUnmatched`), it is answered with 404 so the socket does not hang.
 * @returns {() => void} removes the listener
 */
function listen(server, app, upgrades) {
  let installed = false;
  const onUpgrade = (req, socket, head) => {
    if (upgrades.handleUpgrade(req, socket, head)) return;
    if (server.listenerCount('upgrade') <= 1) {
      socket.on('error', () => {});
      reject(socket, 404, 'Not Found');
    }
  };
  const install = () => {
    if (installed || app.webSocketRoutes.size === 0) return;
    installed = true;
    server.on('upgrade', onUpgrade);
  };
  install();
  const unsubscribe = app[kOnRouteAdded](install);
  return () => {
    unsubscribe();
    if (installed) server.removeListener('upgrade', onUpgrade);
    installed = false;
  };
}

// Stops accepting, closes the WebSocket connections (each has shutdownCloseTimeout to answer the
// 1001), then waits for the server to close; HTTP keep-alive connections go at once, requests
// still running get what is left of `timeout` (shutdownTimeout).
function shutdownServer(server, upgrades, timeout) {
  const closed = new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
  if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();
  const started = Date.now();
  return upgrades.close().then(() => {
    if (typeof server.closeAllConnections === 'function') {
      const left = Math.max(0, timeout - (Date.now() - started));
      const timer = setTimeout(() => server.closeAllConnections(), left);
      closed.then(() => clearTimeout(timer));
    }
    return closed;
  });
}

// DaloyJS's default for maxHeaderBytes, also Node's own default of --max-http-header-size. Node
// answers a request whose head is larger with 431 before any listener runs, upgrades included.
const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

function headerBytesOption(value) {
  if (value === undefined) return DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isInteger(value) || value <= 0) throw new RangeError('serve(): maxHeaderBytes must be a positive integer');
  return value;
}

function portOption(port) {
  if (port === undefined) return 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('serve(): port must be an integer from 0 to 65535');
  return port;
}

/**
 * Starts an HTTP server for the app's WebSocket routes. Plain HTTP requests go to
 * `options.handler` (an Express app, any `(req, res)` listener) or get 404.
 * @param {App} app
 * @param {object} [options]
 */
function serve(app, options) {
  checkApp(app, 'serve');
  options = checkOptions(options, 'serve');
  if (options.handler !== undefined && typeof options.handler !== 'function') {
    throw new TypeError('serve(): handler must be a request listener (req, res)');
  }
  const port = portOption(options.port);
  const hostname = options.hostname ?? '0.0.0.0';
  const upgrades = new UpgradeHandler(app, { ...options, rejectUnmatched: true });
  const serverOptions = options.serverOptions ?? {};
  const server = http.createServer(
    { ...serverOptions, maxHeaderSize: headerBytesOption(options.maxHeaderBytes ?? serverOptions.maxHeaderSize) },
    options.handler ?? notFound,
  );
  // Node's parser keeps at most maxHeadersCount fields (0: all); the upgrade handler refuses a
  // request at the cap with 431, since the parser truncates instead of refusing.
  server.maxHeadersCount = maxHeaderCountOption(options.maxHeaderCount);
  const unlisten = listen(server, app, upgrades);

  const ready = new Promise((resolve, reject) => {
    const onError = (err) => {
      server.removeListener('listening', onListening);
      reject(err);
      // Without another 'error' listener a failed listen stays as loud as Node makes it.
      if (server.listenerCount('error') === 0) throw err;
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
  });
  ready.catch(() => {});
  server.listen(port, hostname);

  const close = closeOnce(
    () => shutdownServer(server, upgrades, upgrades.shutdownTimeout).finally(unlisten),
    options.handleSignals !== false,
  );

  return {
    server,
    /** The port listened on (the one chosen by the system once listening, for port 0). */
    get port() {
      const address = server.address();
      return address !== null && typeof address === 'object' ? address.port : port;
    },
    hostname,
    /** Resolves once the server listens; rejects if listening failed. */
    ready,
    /** Open WebSocket connections (live view). */
    get connections() {
      return upgrades.connections;
    },
    handleUpgrade: (req, socket, head) => upgrades.handleUpgrade(req, socket, head),
    ...topicMethods(upgrades),
    close,
  };
}

/**
 * Serves the app's WebSocket routes on an existing http/https server, beside its request
 * handler and its other `upgrade` listeners.
 *
 * Header floods: the server is not this package's, so its parser limits stay as the application
 * set them (Node's defaults: 16 KiB of head, 2000 fields kept). An upgrade to one of the app's
 * routes with `maxHeaderCount` fields or more (default 100) still gets 431 before any WebSocket
 * work; what cannot be enforced here is the byte size of the head (pass `maxHeaderSize` to
 * `http.createServer`) and a count above the server's own `maxHeadersCount`, where Node's parser
 * has already dropped the excess fields.
 * @param {App} app
 * @param {import('node:http').Server} server
 * @param {object} [options]
 */
function attach(app, server, options) {
  checkApp(app, 'attach');
  if (server === null || typeof server !== 'object' || typeof server.on !== 'function' || typeof server.listenerCount !== 'function') {
    throw new TypeError('attach(): expected an http.Server or https.Server');
  }
  options = checkOptions(options, 'attach');
  const upgrades = new UpgradeHandler(app, { ...options, rejectUnmatched: options.rejectUnmatched === true });
  const unlisten = listen(server, app, upgrades);
  let closing = null;
  let removeSignals = () => {};
  const close = () => {
    if (closing === null) {
      removeSignals();
      closing = upgrades.close().finally(unlisten);
    }
    return closing;
  };
  if (options.handleSignals === true) {
    removeSignals = onSignals(() => {
      closing = shutdownServer(server, upgrades, upgrades.shutdownTimeout).finally(unlisten);
      return closing;
    });
  }
  return {
    server,
    get connections() {
      return upgrades.connections;
    },
    handleUpgrade: (req, socket, head) => upgrades.handleUpgrade(req, socket, head),
    ...topicMethods(upgrades),
    /** Closes the WebSocket connections gracefully and removes the listener; the server stays yours. */
    close,
  };
}

/**
 * The handshake and connection tracking without any listener: call `handleUpgrade(req, socket,
 * head)` from your own `upgrade` listener; it returns whether it took the request.
 * @param {App} app
 * @param {object} [options]
 */
function createUpgradeHandler(app, options) {
  checkApp(app, 'createUpgradeHandler');
  return new UpgradeHandler(app, checkOptions(options, 'createUpgradeHandler'));
}

module.exports = { serve, attach, createUpgradeHandler };
