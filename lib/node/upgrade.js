'use strict';

// The opening handshake (RFC 6455 §4.2) on a Node `upgrade` event: the decision
// (lib/app/upgrade-decision.js) written to the socket, as an HTTP rejection or as the 101 and a
// connection. Also the live connections of one server, and their graceful shutdown.

const { Buffer } = require('node:buffer');
const { STATUS_CODES } = require('node:http');
const { WS_CLOSE_CODE } = require('../primitives/constants.js');
const { WebSocketConnection, nodeFanOut } = require('./connection.js');
const { NativeSocket, transportFor } = require('./native-socket.js');
const { log, isLogger, silentLogger } = require('../app/logger.js');
const { App, kTopicRegistries } = require('../app/app.js');
const { TopicRegistry } = require('../app/topics.js');
const { decideUpgrade } = require('../app/upgrade-decision.js');
const { ConnectionSet } = require('../app/connection-set.js');
const { DEFAULT_CLOSE_TIMEOUT_MS, timeoutOption, shutdownTimeouts } = require('../app/timeouts.js');

// Bytes a client may send before its 101 while an async beforeUpgrade runs (RFC 6455 §4.1 says
// it must wait): beyond this the socket is paused, so a hostile client cannot grow memory.
const HANDSHAKE_HOLD_MAX = 64 * 1024;
// Response headers the rejection writer sets itself.
const OWN_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'upgrade', 'keep-alive']);

function swallow() {
  // A socket error during the handshake: Node destroys the socket; there is nobody to tell.
}

function destroySocket() {
  this.destroy();
}

/**
 * Answers an upgrade request with a plain HTTP response and closes the socket once it is out.
 * @param {import('node:stream').Duplex} socket
 * @param {number} status
 * @param {string[]} headerLines extra `Name: value` lines
 * @param {string | Uint8Array} body
 */
function writeResponse(socket, status, headerLines, body, statusText) {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `HTTP/1.1 ${status} ${statusText || STATUS_CODES[status] || 'Unknown'}\r\nConnection: close\r\n`;
  for (const line of headerLines) head += line + '\r\n';
  head += `Content-Length: ${bytes.length}\r\n\r\n`;
  socket.once('finish', destroySocket);
  socket.write(head, 'latin1');
  socket.end(bytes);
}

/** The most header fields an upgrade request may have (DaloyJS's default); 0 turns the check off. */
const DEFAULT_MAX_HEADER_COUNT = 100;

function maxHeaderCountOption(value) {
  if (value === undefined) return DEFAULT_MAX_HEADER_COUNT;
  if (!Number.isInteger(value) || value < 0) throw new RangeError('maxHeaderCount must be a non-negative integer (0: no limit)');
  return value;
}

function refuseHeaders(socket) {
  socket.on('error', swallow);
  reject(socket, 431, 'Request Header Fields Too Large');
  return true;
}

function reject(socket, status, reason, extraLines) {
  const lines = extraLines === undefined ? [] : extraLines;
  if (reason !== '') lines.push('Content-Type: text/plain; charset=utf-8');
  writeResponse(socket, status, lines, reason);
}

/** A `Response` returned by beforeUpgrade: its status, headers and body reach the client. */
function writeRejection(socket, response) {
  const lines = [];
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie' || OWN_HEADERS.has(name)) return;
    lines.push(`${name}: ${value}`);
  });
  const cookies = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
  for (const cookie of cookies) lines.push(`set-cookie: ${cookie}`);
  const status = response.status;
  const finish = (body) => writeResponse(socket, status, lines, body, response.statusText);
  if (response.body === null || response.body === undefined) {
    finish(Buffer.alloc(0));
    return;
  }
  response.arrayBuffer().then(
    (body) => finish(Buffer.from(body)),
    () => finish(Buffer.alloc(0)),
  );
}

// The request URL as the client sees it. Node gives the request target: usually origin-form
// ("/path?query"), possibly absolute-form ("http://host/path?query").
function splitTarget(target) {
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (!URL.canParse(target)) return null;
    const url = new URL(target);
    return { pathname: url.pathname, search: url.search };
  }
  const q = target.indexOf('?');
  if (q === -1) return { pathname: target, search: '' };
  return { pathname: target.slice(0, q), search: target.slice(q) };
}

function headerObject(headers) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function webHeaders(rawHeaders) {
  const headers = new Headers();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    // HTTP/2 pseudo-headers have no place in a Request.
    if (rawHeaders[i].charCodeAt(0) !== 58) headers.append(rawHeaders[i], rawHeaders[i + 1]);
  }
  return headers;
}

// The WHATWG Request of an upgrade, built when a handler first touches it. Building one costs more
// than the rest of the handshake (about 15 µs in a loop, 50-100 µs of server CPU per handshake with
// the garbage it leaves), and most handlers, beforeUpgrade included, never read it. The stand-in is
// a Proxy whose prototype is Request.prototype: `instanceof Request` holds, and every property and
// method is the real Request's (methods bound to it). What it cannot pass is an engine's brand check
// on private state: on Node 24, `new Request(request)` or `fetch(request)` refuses it, so hand such
// APIs `request.clone()`, which is a real Request.
function lazyRequest(build) {
  let real;
  let bound;
  const materialize = () => (real === undefined ? (real = build()) : real);
  return new Proxy(Object.create(Request.prototype), {
    get(_target, key) {
      const request = materialize();
      const value = Reflect.get(request, key, request);
      if (typeof value !== 'function' || key === 'constructor') return value;
      // The same bound function each time, as the real object gives the same method each time.
      bound ??= new Map();
      let entry = bound.get(key);
      if (entry === undefined || entry.fn !== value) {
        entry = { fn: value, bound: value.bind(request) };
        bound.set(key, entry);
      }
      return entry.bound;
    },
    has(_target, key) {
      return Reflect.has(materialize(), key);
    },
    set(_target, key, value) {
      return Reflect.set(materialize(), key, value);
    },
  });
}

// What the upgrade decision (lib/app/upgrade-decision.js) reads of a Node upgrade request.
function upgradeRequest(req, socket, target) {
  const host = req.headers.host || 'localhost';
  const href = `${socket.encrypted === true ? 'https' : 'http'}://${host}${target.pathname}${target.search}`;
  return {
    method: req.method,
    pathname: target.pathname,
    search: target.search,
    href,
    headers: req.headers,
    headerFields: headerObject(req.headers),
    request: lazyRequest(() => new Request(href, { method: 'GET', headers: webHeaders(req.rawHeaders) })),
  };
}

/**
 * Accepts WebSocket upgrades for one App and tracks the resulting connections.
 * Created by serve(), attach() and createUpgradeHandler().
 */
class UpgradeHandler {
  #app;
  #logger;
  #rejectUnmatched;
  #maxHeaderCount;
  #live = new ConnectionSet();
  // Sockets whose async beforeUpgrade is running; close() drops them.
  #handshakes = new Set();
  // What the upgrade decision reads of this handler: the app, the logger, whether it is closing.
  #decisionHost;

  /** Milliseconds a started closing handshake may take before the socket is destroyed. */
  closeTimeout;
  /** Bound of a server's whole shutdown, in milliseconds. */
  shutdownTimeout;
  /** Milliseconds each connection has to answer the 1001 of a shutdown (default grace of close()). */
  shutdownCloseTimeout;
  /** The topics of this handler's connections (lib/app/topics.js). */
  topics;

  /**
   * @param {App} app
   * @param {{ logger?: object, closeTimeout?: number, shutdownTimeout?: number, shutdownTimeoutMs?: number,
   *   shutdownCloseTimeout?: number, rejectUnmatched?: boolean, maxHeaderCount?: number, pubsub?: object }} [options]
   */
  constructor(app, options = {}) {
    if (!(app instanceof App)) throw new TypeError('expected an App from daloy-ws-native');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    if (options.logger !== undefined && options.logger !== false && !isLogger(options.logger)) {
      throw new TypeError('logger must be false or an object with an error(fields, message) method');
    }
    this.#app = app;
    this.#logger = options.logger === false ? silentLogger : options.logger;
    this.#rejectUnmatched = options.rejectUnmatched === true;
    this.#maxHeaderCount = maxHeaderCountOption(options.maxHeaderCount);
    this.closeTimeout = timeoutOption('closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT_MS);
    ({ shutdownTimeout: this.shutdownTimeout, shutdownCloseTimeout: this.shutdownCloseTimeout } = shutdownTimeouts(options));
    this.topics = new TopicRegistry(nodeFanOut, this);
    if (options.pubsub !== undefined) this.topics.useBroker(options.pubsub);
    app[kTopicRegistries].add(this.topics);
    const handler = this;
    const live = this.#live;
    this.#decisionHost = {
      get logger() {
        return handler.logger;
      },
      get shuttingDown() {
        return live.shuttingDown;
      },
      // This wiring frames connections itself: permessage-deflate is negotiated in the decision.
      deflate: true,
    };
  }

  /** The logger in force: the option, else the App's (read each time, so `app.log = x` applies). */
  get logger() {
    return this.#logger !== undefined ? this.#logger : this.#app.log;
  }

  /** The open connections (live view). */
  get connections() {
    return this.#live.connections;
  }

  /** Publishes to every subscriber of `topic` here and, with a broker, elsewhere; see lib/app/topics.js. */
  publish(topic, data, options) {
    return this.topics.publish(topic, data, options, null, 'publish()');
  }

  /** How many of this handler's connections are subscribed to `topic`. */
  subscriberCount(topic) {
    return this.topics.subscriberCount(topic);
  }

  /** @internal called by a connection when its socket has closed */
  untrack(conn) {
    this.#live.delete(conn);
  }

  /**
   * Handles one `upgrade` event. Returns `true` when it took the socket (a route matched, whether
   * the upgrade was then accepted or rejected, or `rejectUnmatched` answered 404), `false` when the
   * path belongs to no route, leaving the socket untouched for another listener.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:stream').Duplex} socket
   * @param {Buffer} head
   */
  handleUpgrade(req, socket, head) {
    // Node's parser stops counting at the server's maxHeadersCount and drops the rest instead of
    // refusing the request: a request at the cap may have been cut, so it is refused (431) before
    // any WebSocket work. When every upgrade is ours (serve), even before the route match.
    const tooManyHeaders = this.#maxHeaderCount > 0 && req.rawHeaders.length >= 2 * this.#maxHeaderCount;
    if (tooManyHeaders && this.#rejectUnmatched) return refuseHeaders(socket);
    const target = splitTarget(typeof req.url === 'string' && req.url !== '' ? req.url : '/');
    const match = target === null ? undefined : this.#app.webSocketRoutes.find(target.pathname);
    if (match === undefined) {
      if (!this.#rejectUnmatched) return false;
      socket.on('error', swallow);
      reject(socket, 404, 'Not Found');
      return true;
    }
    if (tooManyHeaders) return refuseHeaders(socket);
    // From here the socket is ours: an 'error' without a listener would crash the process.
    socket.on('error', swallow);
    const path = match.handler.path;
    let decision;
    try {
      decision = decideUpgrade(this.#decisionHost, match, upgradeRequest(req, socket, target));
    } catch (err) {
      this.#upgradeFailed(socket, path, err);
      return true;
    }
    if (decision instanceof Promise) this.#awaitDecision(socket, path, head, decision);
    else this.#apply(socket, [head], decision);
    return true;
  }

  #upgradeFailed(socket, path, err) {
    log(this.logger, 'error', { err, path }, 'WebSocket upgrade failed');
    reject(socket, 500, 'Internal Server Error');
  }

  // An async beforeUpgrade: meanwhile the socket is read (bounded), so that a client hanging up
  // is noticed and dropped instead of being greeted with a 101 it will never read.
  #awaitDecision(socket, path, head, promise) {
    const held = [head];
    let heldBytes = head.length;
    let gone = false;
    const onData = (chunk) => {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes > HANDSHAKE_HOLD_MAX) socket.pause();
    };
    const onGone = () => {
      gone = true;
      socket.destroy();
    };
    const cleanup = () => {
      this.#handshakes.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('end', onGone);
      socket.removeListener('close', onGone);
    };
    this.#handshakes.add(socket);
    socket.on('data', onData);
    socket.on('end', onGone);
    socket.on('close', onGone);
    promise.then(
      (decision) => {
        cleanup();
        if (gone || socket.destroyed) return;
        try {
          this.#apply(socket, held, decision);
        } catch (err) {
          this.#upgradeFailed(socket, path, err);
        }
      },
      (err) => {
        cleanup();
        if (gone || socket.destroyed) return;
        this.#upgradeFailed(socket, path, err);
      },
    );
  }

  // The decision, written to the socket: a rejection as an HTTP response, an acceptance as the
  // 101 and a connection.
  #apply(socket, held, decision) {
    if (!decision.accept) {
      if (decision.response !== undefined) return writeRejection(socket, decision.response);
      const lines = [];
      for (const name in decision.headers) lines.push(`${name}: ${decision.headers[name]}`);
      return reject(socket, decision.status, decision.reason, lines);
    }
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.removeListener('error', swallow);
    // The http server may have armed an inactivity timer on the socket; idleTimeout replaces it.
    if (typeof socket.setTimeout === 'function') socket.setTimeout(0);
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    const { route, protocol, acceptKey, ctx, deflate } = decision;
    let transport = socket;
    if (transportFor(socket) === 'native') {
      // The addon takes the descriptor before the 101 is written: the 101 goes out natively, and
      // bytes Node had read already are parsed first (native-socket.js).
      const native = new NativeSocket(/** @type {import('node:net').Socket} */ (socket));
      for (const chunk of native.takeHeld()) held.push(chunk);
      transport = /** @type {any} */ (native);
    }
    const conn = WebSocketConnection.accept(this, transport, route, protocol, acceptKey, ctx, held, deflate);
    if (!transport.destroyed) this.#live.add(conn);
  }

  /**
   * Graceful shutdown: refuses new upgrades, sends CLOSE (1001 by default) to every open
   * connection, waits up to `timeout` ms (default: shutdownCloseTimeout) for their closing
   * handshakes, then destroys what is left.
   * Resolves when every socket is closed. Idempotent.
   * @param {{ code?: number, reason?: string, timeout?: number }} [options]
   */
  close(options = {}) {
    if (this.#live.closing !== null) return this.#live.closing;
    const code = options.code ?? WS_CLOSE_CODE.GOING_AWAY;
    const reason = options.reason ?? 'Server shutting down';
    const timeout = timeoutOption('timeout', options.timeout, this.shutdownCloseTimeout);
    this.#live.shuttingDown = true;
    for (const socket of this.#handshakes) socket.destroy();
    this.#handshakes.clear();
    return this.#live.closeAll(code, reason, timeout, this.logger).then(() => {
      this.#app[kTopicRegistries].delete(this.topics);
      return this.topics.closeBroker();
    });
  }
}

module.exports = { UpgradeHandler, reject, DEFAULT_MAX_HEADER_COUNT, maxHeaderCountOption };
