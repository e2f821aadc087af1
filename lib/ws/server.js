'use strict';

// `ws`'s WebSocketServer (ws 8.x): its options and defaults, its handshake checks in its order with
// its status codes and bodies, its events. The accepted sockets become WebSockets (websocket.js)
// read by the native FrameSink and written through the batched FrameWriter.

const { EventEmitter } = require('node:events');
const http = require('node:http');
const { Buffer } = require('node:buffer');
const binding = require('../primitives/addon.js');
const { computeAcceptKeySync } = require('../primitives/handshake.js');
const { WebSocket, kWebSocket } = require('./websocket.js');
const { DEFAULT_MAX_PAYLOAD, CLOSE_TIMEOUT, kResponse } = require('./constants.js');
const { EXTENSION_NAME, PerMessageDeflate, deflateConfig } = require('./permessage-deflate.js');
const { NativeSocket, transportFor } = require('../node/native-socket.js');

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

// RFC 6455 §4.1: the key is 16 random bytes, base64-encoded.
const KEY = /^[+/0-9A-Za-z]{22}==$/;
// Marks this module's `upgrade` listeners, so that servers sharing an http server can tell which
// of them will take a path.
const kServer = Symbol('daloy-ws-native.ws.server');

class WebSocketServer extends EventEmitter {
  /**
   * @param {object} options `ws`'s options; one of `port`, `server`, `noServer`
   * @param {() => void} [callback] a `listening` listener (with `port`)
   */
  constructor(options, callback) {
    super();
    options = {
      allowSynchronousEvents: true,
      autoPong: true,
      // Accepted for compatibility: memory is bounded by maxPayload whatever the chunking.
      maxBufferedChunks: 256 * 1024,
      maxFragments: 16 * 1024,
      maxPayload: DEFAULT_MAX_PAYLOAD,
      maxPendingAutoPongs: 60,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      handleProtocols: null,
      clientTracking: true,
      closeTimeout: CLOSE_TIMEOUT,
      verifyClient: null,
      noServer: false,
      backlog: null,
      server: null,
      host: null,
      path: null,
      port: null,
      WebSocket,
      ...options,
    };
    if (
      (options.port == null && !options.server && !options.noServer) ||
      (options.port != null && (options.server || options.noServer)) ||
      (options.server && options.noServer)
    ) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    // Checked before a server is created: a bad option throws and leaves nothing listening.
    const deflate = deflateConfig(options.perMessageDeflate, 'perMessageDeflate');
    if (options.port != null) {
      this._server = http.createServer(upgradeRequired);
      this._server.listen(options.port, options.host, options.backlog, callback);
    } else if (options.server) {
      this._server = options.server;
    }
    if (this._server) {
      const server = this._server;
      const emitConnection = this.emit.bind(this, 'connection');
      const onUpgrade = (req, socket, head) => {
        if (this.options.path && !this.shouldHandle(req) && leftToOthers(server, onUpgrade, req)) return;
        this.handleUpgrade(req, socket, head, emitConnection);
      };
      onUpgrade[kServer] = this;
      this._removeListeners = addListeners(server, {
        listening: this.emit.bind(this, 'listening'),
        error: this.emit.bind(this, 'error'),
        upgrade: onUpgrade,
      });
    }
    if (options.perMessageDeflate === true) options.perMessageDeflate = {};
    /** permessage-deflate's configuration (false: off, as `ws`'s default). */
    this._deflate = deflate;
    if (options.clientTracking) {
      this.clients = new Set();
      this._shouldEmitClose = false;
    }
    this.options = options;
    this._state = RUNNING;
  }

  /** The bound address of the server (`server.address()`), null without one; throws in noServer mode. */
  address() {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (!this._server) return null;
    return this._server.address();
  }

  /**
   * Stops accepting connections and emits `close` once every tracked client has closed (open
   * connections are not closed: close or terminate them yourself, as with `ws`). A server created
   * by `port` is closed too.
   */
  close(cb) {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    if (this.options.noServer || this.options.server) {
      if (this._server) {
        this._removeListeners();
        this._removeListeners = this._server = null;
      }
      if (this.clients && this.clients.size > 0) this._shouldEmitClose = true;
      else process.nextTick(emitClose, this);
    } else {
      const server = this._server;
      this._removeListeners();
      this._removeListeners = this._server = null;
      server.close(() => emitClose(this));
    }
  }

  /** Whether this server takes the request: its path (query aside) is `options.path`, if set. */
  shouldHandle(req) {
    if (this.options.path) {
      const index = req.url.indexOf('?');
      const pathname = index !== -1 ? req.url.slice(0, index) : req.url;
      if (pathname !== this.options.path) return false;
    }
    return true;
  }

  /**
   * Completes or rejects the handshake of an `upgrade` request; `cb(ws, req)` on success.
   * Checks in order: method (405), Upgrade (400), Sec-WebSocket-Key (400), Sec-WebSocket-Version
   * (400), path (400), Sec-WebSocket-Protocol (400), verifyClient (401 or its code).
   */
  handleUpgrade(req, socket, head, cb) {
    socket.on('error', socketOnError);
    const key = req.headers['sec-websocket-key'];
    const upgrade = req.headers.upgrade;
    const version = +req.headers['sec-websocket-version'];
    if (req.method !== 'GET') {
      abortHandshakeOrEmitClientError(this, req, socket, 405, 'Invalid HTTP method');
      return;
    }
    if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
      abortHandshakeOrEmitClientError(this, req, socket, 400, 'Invalid Upgrade header');
      return;
    }
    if (key === undefined || !KEY.test(key)) {
      abortHandshakeOrEmitClientError(this, req, socket, 400, 'Missing or invalid Sec-WebSocket-Key header');
      return;
    }
    if (version !== 13 && version !== 8) {
      abortHandshakeOrEmitClientError(this, req, socket, 400, 'Missing or invalid Sec-WebSocket-Version header', {
        'Sec-WebSocket-Version': '13, 8',
      });
      return;
    }
    if (!this.shouldHandle(req)) {
      abortHandshake(socket, 400);
      return;
    }
    const offered = req.headers['sec-websocket-protocol'];
    let protocols = new Set();
    if (offered !== undefined) {
      protocols = parseProtocols(offered);
      if (protocols === null) {
        abortHandshakeOrEmitClientError(this, req, socket, 400, 'Invalid Sec-WebSocket-Protocol header');
        return;
      }
    }
    // permessage-deflate: the first offer the configuration can honour; offers it cannot honour
    // (or that break RFC 7692) are declined, and the handshake goes on without the extension.
    let extensions = {};
    const offers = req.headers['sec-websocket-extensions'];
    if (this._deflate && offers !== undefined) {
      const deflate = PerMessageDeflate.accept(this._deflate, offers);
      if (deflate !== null) extensions = { [EXTENSION_NAME]: deflate };
    }
    const verifyClient = this.options.verifyClient;
    if (verifyClient) {
      const info = {
        origin: req.headers[version === 8 ? 'sec-websocket-origin' : 'origin'],
        secure: !!(req.socket.authorized || req.socket.encrypted),
        req,
      };
      if (verifyClient.length === 2) {
        verifyClient(info, (verified, code, message, headers) => {
          if (!verified) return abortHandshake(socket, code || 401, message, headers);
          this.completeUpgrade(extensions, key, protocols, req, socket, head, cb);
        });
        return;
      }
      if (!verifyClient(info)) return abortHandshake(socket, 401);
    }
    this.completeUpgrade(extensions, key, protocols, req, socket, head, cb);
  }

  /** Writes the 101 (after the `headers` event) and creates the WebSocket. */
  completeUpgrade(extensions, key, protocols, req, socket, head, cb) {
    // A socket the native transport took over is destroyed, yet in use: the misuse `ws` reports.
    const inUse = Boolean(socket[kWebSocket]);
    if (!inUse && (!socket.readable || !socket.writable)) return socket.destroy();
    if (inUse) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    }
    if (this._state > RUNNING) return abortHandshake(socket, 503);
    const headers = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${computeAcceptKeySync(key)}`,
    ];
    const ws = new this.options.WebSocket(null, undefined, this.options);
    if (protocols.size) {
      const protocol = this.options.handleProtocols ? this.options.handleProtocols(protocols, req) : protocols.values().next().value;
      if (protocol) {
        headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
        ws._protocol = protocol;
      }
    }
    const deflate = extensions[EXTENSION_NAME];
    if (deflate !== undefined) {
      headers.push(`Sec-WebSocket-Extensions: ${deflate.response}`);
      ws._extensions = extensions;
    }
    this.emit('headers', headers, req);
    const response = headers.concat('\r\n').join('\r\n');
    socket.removeListener('error', socketOnError);
    const transport = takeOver(socket, head);
    // Headers a `headers` listener added may not be Latin-1: those go out as UTF-8, as `ws` writes them.
    const latin1 = Buffer.byteLength(response) === response.length;
    if (!latin1) transport.write(response);
    ws.setSocket(transport, EMPTY_HEAD, {
      allowSynchronousEvents: this.options.allowSynchronousEvents,
      maxFragments: this.options.maxFragments,
      maxPayload: this.options.maxPayload,
      skipUTF8Validation: this.options.skipUTF8Validation,
      [kResponse]: latin1 ? response : undefined,
    });
    if (this.clients) {
      this.clients.add(ws);
      ws[kTrackedBy] = this;
      ws.on('close', untrack);
    }
    cb(ws, req);
  }
}

const EMPTY_HEAD = Buffer.alloc(0);

// The socket the WebSocket runs on: a plain TCP socket is taken over by the native transport
// (lib/node/native-socket.js; `ws._socket` is then its stand-in, with the addresses captured),
// any other stays on Node's stream. Bytes that arrived with the upgrade (and, on the native
// transport, what Node had read besides) are given back to be read after `connection` listeners
// are attached, as `ws` does.
function takeOver(socket, head) {
  if (transportFor(socket) !== 'native') {
    if (head.length > 0) socket.unshift(head);
    return socket;
  }
  const native = new NativeSocket(socket);
  // A second handleUpgrade() with this socket is refused as `ws` refuses it (not silently).
  socket[kWebSocket] = native;
  const held = native.takeHeld();
  if (head.length > 0) held.unshift(head);
  if (held.length > 0) native.unshift(held.length === 1 ? held[0] : Buffer.concat(held));
  return /** @type {any} */ (native);
}

function upgradeRequired(req, res) {
  const body = http.STATUS_CODES[426];
  res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
  res.end(body);
}

function addListeners(server, map) {
  for (const event of Object.keys(map)) server.on(event, map[event]);
  return function removeListeners() {
    for (const event of Object.keys(map)) server.removeListener(event, map[event]);
  };
}

// A request for a path this server does not take is another listener's when the http server has
// one that is not a WebSocketServer of this module, or one of them takes the path; otherwise the
// last of them answers it (400, as `ws`), so that it does not hang.
function leftToOthers(server, own, req) {
  const listeners = server.listeners('upgrade');
  let lastOurs = null;
  for (const listener of listeners) {
    const wss = listener[kServer];
    if (wss === undefined) return true;
    if (listener !== own && wss.shouldHandle(req)) return true;
    lastOurs = listener;
  }
  return lastOurs !== own;
}

// Which server tracks a WebSocket in its `clients`: one shared `close` listener instead of a
// closure per connection.
const kTrackedBy = Symbol('daloy-ws-native.ws.tracked-by');

/** @this {any} the WebSocket that closed */
function untrack() {
  const server = this[kTrackedBy];
  server.clients.delete(this);
  if (server._shouldEmitClose && !server.clients.size) process.nextTick(emitClose, server);
}

function emitClose(server) {
  server._state = CLOSED;
  server.emit('close');
}

function socketOnError() {
  this.destroy();
}

// Subprotocols offered by a client: comma-separated tokens, optionally surrounded by spaces or
// tabs, no empty element, no duplicate. null when the header breaks those rules.
function parseProtocols(header) {
  const protocols = new Set();
  for (const part of header.split(',')) {
    const token = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (token === '' || !binding.isHttpToken(token) || protocols.has(token)) return null;
    protocols.add(token);
  }
  return protocols;
}

/** Answers the handshake with an HTTP error and closes the socket once it is written. */
function abortHandshake(socket, code, message, headers) {
  message = message || http.STATUS_CODES[code];
  headers = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(message),
    ...headers,
  };
  socket.once('finish', socket.destroy);
  let head = `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\n`;
  for (const name of Object.keys(headers)) head += `${name}: ${headers[name]}\r\n`;
  socket.end(`${head}\r\n${message}`);
}

// A malformed handshake goes to `wsClientError` listeners when there are any (they answer it),
// else is answered here.
function abortHandshakeOrEmitClientError(server, req, socket, code, message, headers) {
  if (server.listenerCount('wsClientError')) {
    const err = new Error(message);
    Error.captureStackTrace(err, abortHandshakeOrEmitClientError);
    server.emit('wsClientError', err, socket, req);
  } else {
    abortHandshake(socket, code, message, headers);
  }
}

module.exports = { WebSocketServer };
