'use strict';

// `ws`'s WebSocket (ws 8.x, README and doc/ws.md): an EventEmitter with the WHATWG attributes on
// top, for both ends of a connection. Reads go through the native FrameSink, one crossing per
// socket read; frames go out through the connection's FrameWriter (lib/node/frame-writer.js) via
// `_sender`, batched per tick.

const { EventEmitter } = require('node:events');
const { Buffer } = require('node:buffer');
const { FrameSink } = require('../primitives/frame-sink.js');
// Not enumerable (outside the package's surface): the delivery of a read the native transport
// pushed through the sink itself (lib/node/native-socket.js readWith()).
const { deliverRead } = /** @type {any} */ (require('../primitives/frame-sink.js'));
const { FrameWriter } = require('../node/frame-writer.js');
const { Sender } = require('./sender.js');
const { toBuffer, binaryAs } = require('./buffers.js');
const { EventTarget, defineEventAttributes } = require('./event-target.js');
const { wsProtocolError } = require('./errors.js');
const { BINARY_TYPES, CLOSE_TIMEOUT, EMPTY_BUFFER, READY_STATES, kResponse } = require('./constants.js');
const { EXTENSION_NAME } = require('./permessage-deflate.js');

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// The second argument of an event that has only one (ping, pong).
const NO_ARG = Symbol('daloy-ws-native.ws.no-arg');

// The WebSocket of a socket, for the socket listeners shared by every connection.
const kWebSocket = Symbol('daloy-ws-native.ws.websocket');

function noop() {}

// The options of one connection's FrameSink and the receiver of its events: one small object per
// connection instead of a closure per callback (methods installed by WebSocket's static block).
class SinkEvents {
  constructor(ws, isServer, maxPayload, maxFragments, deflate) {
    this.ws = ws;
    this.requireMask = isServer;
    this.rejectMask = !isServer;
    this.textAsBytes = true;
    // `ws`: 0 means no limit.
    this.maxPayloadLength = maxPayload > 0 ? maxPayload : Infinity;
    this.maxFragments = maxFragments > 0 ? maxFragments : 0xffffffff;
    // permessage-deflate agreed: compressed messages are inflated while they are parsed, within maxPayload.
    this.inflate = deflate === undefined ? undefined : deflate.inflate;
  }
}

class WebSocket extends EventEmitter {
  #binaryType = BINARY_TYPES[0];
  #closeCode = 1006;
  #closeMessage = EMPTY_BUFFER;
  #closeTimer = null;
  #closeTimeout;
  #errorEmitted = false;
  #errored = false;
  #readyState = CONNECTING;
  #sink = null;
  #writer = null;
  #autoPong = false;
  #pendingAutoPongs = 0;
  #maxPendingAutoPongs = 0;
  #autoPongDone = null;
  // Events held while paused, or to be spread over ticks without allowSynchronousEvents:
  // [type, a, b] triples.
  #queue = null;
  #drainScheduled = false;
  #synchronousEvents = true;

  /**
   * A client connecting to `address`, or (address null) the server side of an accepted upgrade,
   * which WebSocketServer creates and completes with setSocket().
   * @param {string | URL | null} address
   * @param {string | string[] | object} [protocols]
   * @param {object} [options]
   */
  constructor(address, protocols, options) {
    super();
    this._closeFrameReceived = false;
    this._closeFrameSent = false;
    this._extensions = {};
    this._paused = false;
    this._protocol = '';
    this._sender = null;
    this._socket = null;
    this._req = null;
    this._url = undefined;
    if (address !== null) {
      this._bufferedAmount = 0;
      this._isServer = false;
      this._redirects = 0;
      if (protocols === undefined) {
        protocols = protocolList(options);
      } else if (!Array.isArray(protocols)) {
        if (typeof protocols === 'object' && protocols !== null) {
          options = protocols;
          protocols = protocolList(options);
        } else {
          protocols = [protocols];
        }
      }
      // Required here: the client pulls in node:http/https and the handshake it drives.
      options = require('./client.js').initAsClient(this, address, protocols, options);
    } else {
      this._isServer = true;
      if (options === undefined) options = {};
    }
    if (options.autoPong !== false) {
      this.#autoPong = true;
      this.#maxPendingAutoPongs = options.maxPendingAutoPongs === undefined ? 60 : options.maxPendingAutoPongs | 0;
    }
    this.#closeTimeout = options.closeTimeout === undefined ? CLOSE_TIMEOUT : options.closeTimeout;
  }

  static {
    const events = /** @type {any} */ (SinkEvents.prototype);
    events.onMessage = function onMessage(event) {
      this.ws.#onMessage(event.data, event.isBinary);
    };
    events.onPing = function onPing(payload) {
      this.ws.#onPing(payload);
    };
    events.onPong = function onPong(payload) {
      this.ws.#deliver('pong', Buffer.from(payload), NO_ARG);
    };
    events.onClose = function onClose(code, reason) {
      this.ws.#onPeerClose(code, reason);
    };
    events.onProtocolError = function onProtocolError(err) {
      this.ws.#onProtocolError(err);
    };
  }

  /** "nodebuffer" (default), "arraybuffer" or "fragments": what binary messages are. */
  get binaryType() {
    return this.#binaryType;
  }

  set binaryType(type) {
    if (!BINARY_TYPES.includes(type)) return;
    this.#binaryType = type;
  }

  /** Bytes sent but not yet handed to the kernel. */
  get bufferedAmount() {
    if (this._socket === null) return this._bufferedAmount;
    return this.#writer.bufferedAmount + this._sender._bufferedBytes;
  }

  /** The names of the negotiated extensions, as `ws` gives them: "permessage-deflate" or "". */
  get extensions() {
    return Object.keys(this._extensions).join();
  }

  get isPaused() {
    return this._paused;
  }

  get protocol() {
    return this._protocol;
  }

  get readyState() {
    return this.#readyState;
  }

  /** The URL connected to (clients only). */
  get url() {
    return this._url;
  }

  /**
   * Attaches the upgraded socket: the server calls it after its 101 is queued, the client when the
   * server's 101 is checked. `head` holds bytes that arrived with the upgrade.
   * @param {any} socket a net.Socket, a tls.TLSSocket or any Duplex
   * @param {Buffer} head
   * @param {{ allowSynchronousEvents?: boolean, maxPayload?: number, maxFragments?: number, skipUTF8Validation?: boolean }} options
   */
  setSocket(socket, head, options) {
    const writer = new FrameWriter(socket);
    this.#writer = writer;
    this._sender = new Sender(writer, this._extensions);
    this._socket = socket;
    const deflate = this._extensions[EXTENSION_NAME];
    if (deflate !== undefined) this._sender.onerror = (err) => this.#onDeflateError(err);
    this.#sink = new FrameSink(new SinkEvents(this, this._isServer, options.maxPayload | 0, options.maxFragments | 0, deflate));
    this.#synchronousEvents = options.allowSynchronousEvents !== false;
    socket[kWebSocket] = this;
    // The server's 101, staged so that it leaves with what `connection` listeners send.
    if (typeof options[kResponse] === 'string') writer.writeLatin1(options[kResponse]);
    if (typeof socket.setTimeout === 'function') socket.setTimeout(0);
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay();
    socket.on('close', WebSocket.#socketClose);
    socket.on('data', WebSocket.#socketData);
    socket.on('end', WebSocket.#socketEnd);
    socket.on('error', WebSocket.#socketError);
    // The native transport pushes each read through the sink itself and calls #parsedRead.
    if (typeof socket.readWith === 'function') socket.readWith(this.#sink, WebSocket.#parsedRead, this);
    this.#readyState = OPEN;
    this.#emit('open');
    if (head.length > 0) this.#push(head);
  }

  /**
   * Sends a message: a string as TEXT, bytes as BINARY (`options.binary` overrides), `fin: false`
   * for a fragment; `cb(err)` once it is written.
   */
  send(data, options, cb) {
    if (this.#readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    if (this.#readyState !== OPEN) {
      this.#sendAfterClose(data, cb);
      return;
    }
    // `ws`'s defaults (binary for non-strings, masked from clients, FIN set), read without building
    // an options object per message.
    let binary = typeof data !== 'string';
    let mask = !this._isServer;
    let fin = true;
    let compress = true;
    if (options !== undefined && options !== null) {
      if (options.binary !== undefined) binary = options.binary;
      if (options.mask !== undefined) mask = options.mask;
      if (options.fin !== undefined) fin = options.fin;
      if (options.compress !== undefined) compress = options.compress;
    }
    this._sender.sendMessage(data || EMPTY_BUFFER, Boolean(binary), Boolean(fin), Boolean(mask), cb, Boolean(compress));
  }

  /** Sends a PING (at most 125 bytes); `cb(err)` once it is written. */
  ping(data, mask, cb) {
    this.#control('ping', data, mask, cb);
  }

  /** Sends a PONG (at most 125 bytes); `cb(err)` once it is written. */
  pong(data, mask, cb) {
    this.#control('pong', data, mask, cb);
  }

  #control(kind, data, mask, cb) {
    if (this.#readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof data === 'function') {
      cb = data;
      data = mask = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
      mask = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    if (this.#readyState !== OPEN) {
      this.#sendAfterClose(data, cb);
      return;
    }
    if (mask === undefined) mask = !this._isServer;
    this._sender[kind](data || EMPTY_BUFFER, mask, cb);
  }

  /**
   * Starts the closing handshake (a CLOSE with `code` and `reason`); the socket ends once both
   * CLOSE frames have crossed, or is destroyed after `closeTimeout`.
   */
  close(code, data) {
    if (this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      require('./client.js').abortHandshake(this, 'WebSocket was closed before the connection was established');
      return;
    }
    if (this.#readyState === CLOSING) {
      if (this._closeFrameSent && (this._closeFrameReceived || this.#errored)) this.#writer.end();
      return;
    }
    this._sender.close(code, data, !this._isServer, (err) => {
      // A write error is the socket's to report; only a CLOSE that left counts.
      if (err) return;
      this._closeFrameSent = true;
      if (this._closeFrameReceived || this.#errored) this.#writer.end();
    });
    this.#readyState = CLOSING;
    this.#armCloseTimer();
  }

  /** Stops emitting `message`, `ping` and `pong` and stops reading the socket until resume(). */
  pause() {
    if (this.#readyState === CONNECTING || this.#readyState === CLOSED) return;
    this._paused = true;
    this._socket.pause();
  }

  resume() {
    if (this.#readyState === CONNECTING || this.#readyState === CLOSED) return;
    this._paused = false;
    if (this.#queue !== null) this.#scheduleDrain();
    this._socket.resume();
  }

  /** Destroys the socket at once; `close` follows with 1006. */
  terminate() {
    if (this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      require('./client.js').abortHandshake(this, 'WebSocket was closed before the connection was established');
      return;
    }
    if (this._socket !== null) {
      this.#readyState = CLOSING;
      // What is queued was "written" as far as the caller knows (the 101 included): it goes first.
      this.#writer.flush();
      this._socket.destroy();
    }
  }

  /** @internal the client's handshake failed: `error`, then `close` (1006). */
  _failHandshake(err) {
    this.#readyState = CLOSING;
    this._reportError(err);
    this.emitClose();
  }

  /** @internal emits `error` (once per connection). */
  _reportError(err) {
    this.#errorEmitted = true;
    this.#emit('error', err);
  }

  /** @internal the client handshake started closing (abort, redirect limits). */
  _setClosing() {
    this.#readyState = CLOSING;
  }

  /** @internal emits `close` with the received code and reason (1006 and empty without a CLOSE). */
  emitClose() {
    if (this.#queue !== null) this.#drain(true);
    const deflate = this._extensions[EXTENSION_NAME];
    if (deflate !== undefined) deflate.cleanup();
    this.#readyState = CLOSED;
    this.#emit('close', this.#closeCode, this.#closeMessage);
  }

  // ------------------------------------------------------------- reading

  /** @this {any} the socket */
  static #socketData(chunk) {
    this[kWebSocket].#push(chunk);
  }

  /** @this {any} the socket */
  static #socketEnd() {
    const ws = this[kWebSocket];
    ws.#readyState = CLOSING;
    ws.#writer.end();
  }

  /** @this {any} the socket */
  static #socketError() {
    // As `ws`: a socket error is not the WebSocket's `error`; the socket is destroyed and `close` follows.
    const ws = this[kWebSocket];
    this.removeListener('error', WebSocket.#socketError);
    this.on('error', noop);
    if (ws !== undefined) {
      ws.#readyState = CLOSING;
      this.destroy();
    }
  }

  /** @this {any} the socket */
  static #socketClose() {
    const ws = this[kWebSocket];
    this.removeListener('close', WebSocket.#socketClose);
    this.removeListener('data', WebSocket.#socketData);
    this.removeListener('end', WebSocket.#socketEnd);
    this[kWebSocket] = undefined;
    ws.#readyState = CLOSING;
    clearTimeout(ws.#closeTimer);
    ws.emitClose();
  }

  #push(chunk) {
    this.#sink.push(chunk);
  }

  static #parsedRead(ws, owned) {
    deliverRead(ws.#sink, owned);
  }

  #onMessage(data, isBinary) {
    // As `ws`: text is always a Buffer; binaryType applies to binary messages.
    const message = isBinary ? binaryAs(this.#binaryType, data) : data;
    this.#deliver('message', message, isBinary);
  }

  #onPing(payload) {
    const data = Buffer.from(payload);
    if (this.#autoPong && this.#readyState === OPEN) {
      if (this.#maxPendingAutoPongs > 0 && this.#pendingAutoPongs >= this.#maxPendingAutoPongs) {
        this.terminate();
      } else {
        this.#pendingAutoPongs++;
        // Made on the first PING, not per connection: most connections never see one.
        if (this.#autoPongDone === null) {
          this.#autoPongDone = () => {
            this.#pendingAutoPongs--;
          };
        }
        this._sender.pong(data, !this._isServer, this.#autoPongDone);
      }
    }
    this.#deliver('ping', data, NO_ARG);
  }

  #onPeerClose(code, reason) {
    this._closeFrameReceived = true;
    this.#closeCode = code;
    this.#closeMessage = reason === '' ? EMPTY_BUFFER : Buffer.from(reason);
    if (this._socket[kWebSocket] === undefined) return;
    if (code === 1005) this.close();
    else this.close(code, this.#closeMessage);
  }

  // Compression failed (a fault of the library, never the data's): as an internal error, 1011.
  #onDeflateError(err) {
    if (this.#readyState !== OPEN) return;
    this.#errored = true;
    this.close(1011);
    if (!this.#errorEmitted) this._reportError(err);
  }

  #onProtocolError(err) {
    this.#errored = true;
    if (this._socket[kWebSocket] !== undefined) {
      this.close(err.closeCode);
    }
    if (!this.#errorEmitted) {
      this.#errorEmitted = true;
      this.#emit('error', wsProtocolError(err));
    }
  }

  // `message`, `ping` and `pong` at once, unless paused (held until resume()) or events are to be
  // spread one per tick (allowSynchronousEvents: false).
  #deliver(type, a, b) {
    if (this.#queue === null && !this._paused && this.#synchronousEvents) {
      this.#emit(type, a, b);
      return;
    }
    if (this.#queue === null) this.#queue = [];
    this.#queue.push(type, a, b);
    if (!this._paused) this.#scheduleDrain();
  }

  #scheduleDrain() {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(WebSocket.#drainLater, this);
  }

  static #drainLater(ws) {
    ws.#drainScheduled = false;
    ws.#drain(false);
  }

  // Emits held events: all of them when the socket closed, else while not paused (one per
  // tick without allowSynchronousEvents).
  #drain(all) {
    const queue = this.#queue;
    if (queue === null) return;
    let i = 0;
    while (i < queue.length && (all || !this._paused)) {
      const type = queue[i];
      const a = queue[i + 1];
      const b = queue[i + 2];
      i += 3;
      this.#emit(type, a, b);
      if (!all && !this.#synchronousEvents) break;
    }
    queue.splice(0, i);
    if (queue.length === 0) {
      if (this.#queue === queue) this.#queue = null;
    } else if (!this._paused) {
      this.#scheduleDrain();
    }
  }

  // ------------------------------------------------------------- helpers

  // A listener that throws does not take the process down: the exception becomes the
  // WebSocket's `error` event, or, without an `error` listener, a line on stderr.
  /**
   * @param {string} type
   * @param {any} [a]
   * @param {any} [b]
   */
  #emit(type, a = NO_ARG, b = NO_ARG) {
    try {
      if (type === 'error' && this.listenerCount('error') === 0) return;
      if (a === NO_ARG) this.emit(type);
      else if (b === NO_ARG) this.emit(type, a);
      else this.emit(type, a, b);
    } catch (err) {
      let failure = err;
      if (type !== 'error' && this.listenerCount('error') > 0) {
        try {
          this.emit('error', err);
          return;
        } catch (again) {
          failure = again;
        }
      }
      console.error(`daloy-ws-native/ws: a '${type}' listener threw:`, failure);
    }
  }

  #armCloseTimer() {
    const socket = this._socket;
    this.#closeTimer = setTimeout(() => socket.destroy(), this.#closeTimeout);
  }

  #sendAfterClose(data, cb) {
    if (data) {
      const length = typeof data === 'string' ? Buffer.byteLength(data) : typeof Blob === 'function' && data instanceof Blob ? data.size : toBuffer(data).length;
      if (this._socket !== null) this._sender._bufferedBytes += length;
      else this._bufferedAmount += length;
    }
    if (cb) {
      const state = this.#readyState;
      process.nextTick(cb, new Error(`WebSocket is not open: readyState ${state} (${READY_STATES[state]})`));
    }
  }
}

function protocolList(options) {
  if (!options || options.protocols === undefined) return [];
  return Array.isArray(options.protocols) ? options.protocols : [options.protocols];
}

for (const [i, name] of READY_STATES.entries()) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value: i });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value: i });
}
for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
WebSocket.prototype.addEventListener = EventTarget.addEventListener;
WebSocket.prototype.removeEventListener = EventTarget.removeEventListener;
defineEventAttributes(WebSocket.prototype);

module.exports = { WebSocket, kWebSocket };
