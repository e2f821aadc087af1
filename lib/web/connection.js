'use strict';

// The connection object handlers receive on Bun and Deno, with the semantics of the Node wiring's
// (lib/node/connection.js): the same readyState transitions, `close` fired once and nothing after it,
// handler errors caught and logged, and the route limits the runtime cannot apply per route
// (maxPayloadLength, idleTimeout, backpressureLimit) enforced here. The framing is the runtime's:
// a transport object (bun-transport.js, deno-transport.js) sends and closes.

const { Buffer } = require('node:buffer');
const { WS_READY_STATE, WS_CLOSE_CODE } = require('../primitives/constants.js');
const { WebSocketPayloadTooLargeError } = require('../primitives/errors.js');
const { encodeClosePayload } = require('../primitives/close.js');
const { bytesOf, controlPayload, toArrayBuffer } = require('../app/payload.js');
const { callHandler, logHandlerFailure, reportError } = require('../app/handler-calls.js');
const { idleRemaining, IDLE_CLOSE_REASON } = require('../app/idle-timeout.js');
const { routeDeflate } = require('../app/deflate-option.js');
const { TopicMember, kLeaveTopics, deliverEach } = require('../app/topics.js');

const { OPEN, CLOSING, CLOSED } = WS_READY_STATE;

// UTF-8 length of a string, computed only when the UTF-16 length leaves the answer open: a string
// of n code units takes n to 3n bytes.
function exceedsBytes(text, limit) {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return Buffer.byteLength(text, 'utf8') > limit;
}

function byteLength(data) {
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
}

/** The server side of one WebSocket connection on Bun or Deno; handlers receive it as `conn`. */
class WebConnection extends TopicMember {
  /** Free slot for the application's per-connection state. */
  data = undefined;

  /** @type {number} */
  #state = OPEN;
  #binaryType = 'nodebuffer';
  #transport;
  #route;
  #handler;
  #host;
  #protocol;
  #extensions;
  #idleMs;
  #lastInbound = 0;
  #idleTimer = null;
  #closeTimer = null;
  #closeFired = false;
  #needDrain = false;

  /**
   * Created by the runtime adapters once the runtime has upgraded the request.
   * @param {{ send(data: string | Uint8Array, isText: boolean, compress?: boolean): boolean,
   *   ping(p: Uint8Array): void, pong(p: Uint8Array): void, close(code: number, reason: string): void,
   *   terminate(): void, bufferedAmount(): number }} transport `send` returns false when the runtime
   *   reports backpressure; `compress` asks for permessage-deflate where the runtime negotiated it
   * @param {{ path: string, handler: object, options: any }} route
   * @param {string} protocol
   * @param {string} extensions
   * @param {{ logger: object, closeTimeout: number, topics: import('../app/topics.js').TopicRegistry,
   *   untrack(conn: WebConnection): void }} host
   */
  constructor(transport, route, protocol, extensions, host) {
    super(host.topics, route.options.maxTopicsPerConnection);
    this.#transport = transport;
    this.#route = route;
    this.#handler = route.handler;
    this.#protocol = protocol;
    this.#extensions = extensions;
    this.#host = host;
    this.#idleMs = route.options.idleTimeout * 1000;
  }

  /** WHATWG ready state: OPEN (1), CLOSING (2) once a CLOSE was sent, CLOSED (3). */
  get readyState() {
    return this.#state;
  }

  /** The negotiated subprotocol, or "". */
  get protocol() {
    return this.#protocol;
  }

  /** The negotiated extensions, or "". */
  get extensions() {
    return this.#extensions;
  }

  /** Bytes the runtime has queued and not yet written to the socket. */
  get bufferedAmount() {
    return this.#transport.bufferedAmount();
  }

  /** How binary messages reach `message()`: a Buffer ("nodebuffer", default) or an ArrayBuffer. */
  get binaryType() {
    return this.#binaryType;
  }

  set binaryType(type) {
    if (type === 'nodebuffer' || type === 'arraybuffer') this.#binaryType = type;
  }

  /**
   * TEXT for a string, BINARY for bytes; `{ binary: true }` sends a string as BINARY. With
   * permessage-deflate negotiated by the runtime, `{ compress }` or the route's threshold decides.
   */
  send(data, options) {
    const isString = typeof data === 'string';
    let payload = isString ? data : bytesOf(data, 'send()');
    if (this.#state !== OPEN) return;
    const options_ = this.#route.options;
    if (options_.closeOnBackpressureLimit && this.#transport.bufferedAmount() > options_.backpressureLimit) {
      this.#closeWith(WS_CLOSE_CODE.MESSAGE_TOO_BIG, 'Backpressure limit exceeded');
      return;
    }
    let isText = isString;
    if (isString && options != null && options.binary === true) {
      payload = Buffer.from(data, 'utf8');
      isText = false;
    }
    // permessage-deflate where the runtime negotiated it (Bun): the route's threshold, or `compress`.
    let compress = false;
    const deflate = routeDeflate(options_);
    if (this.#extensions !== '' && deflate) {
      const wanted = options == null ? undefined : options.compress;
      compress = wanted === true || (wanted !== false && (typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length) >= deflate.threshold);
    }
    if (!this.#transport.send(payload, isText, compress)) this.#needDrain = true;
  }

  /** Sends a PING (payload of at most 125 bytes). */
  ping(data) {
    const payload = controlPayload(data);
    if (this.#state === OPEN) this.#transport.ping(payload);
  }

  /** Sends an unsolicited PONG (payload of at most 125 bytes). */
  pong(data) {
    const payload = controlPayload(data);
    if (this.#state === OPEN) this.#transport.pong(payload);
  }

  /** Starts the closing handshake: sends CLOSE, calls the `close` handler; the runtime ends the socket. */
  close(code = WS_CLOSE_CODE.NORMAL_CLOSURE, reason = '') {
    encodeClosePayload(code, reason); // validates: an invalid code or a long reason throws
    if (this.#state !== OPEN) return;
    this.#closeWith(code, String(reason));
  }

  /** Ends the connection without a closing handshake; `close` reports 1006. */
  terminate() {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#transport.terminate();
    this.#fireClose(WS_CLOSE_CODE.ABNORMAL_CLOSURE, '');
  }

  // ------------------------------------------------------------- topics (lib/app/topics.js)

  /**
   * The fan-out of a publish in JavaScript (Deno): one send of the same data per subscriber. A
   * subscriber over its backpressureLimit is closed (1009) when its route says
   * closeOnBackpressureLimit, else skipped (deliverEach closes after the walk, as on Node).
   * @param {Set<WebConnection>} subscribers
   * @param {WebConnection | null} except
   * @param {string | Uint8Array} data a string goes as TEXT, bytes as BINARY
   */
  static deliverMessage(subscribers, except, data) {
    return deliverEach(subscribers, except, data, WebConnection.#queueMessage, WebConnection.#closeOverLimit);
  }

  // 1: queued; 0: not open, or skipped over the backpressure limit; -1: over the limit, to be closed.
  static #queueMessage(conn, data) {
    if (conn.#state !== OPEN) return 0;
    const options = conn.#route.options;
    if (conn.#transport.bufferedAmount() > options.backpressureLimit) return options.closeOnBackpressureLimit ? -1 : 0;
    if (!conn.#transport.send(data, typeof data === 'string')) conn.#needDrain = true;
    return 1;
  }

  static #closeOverLimit(conn) {
    if (conn.#state === OPEN) conn.#closeWith(WS_CLOSE_CODE.MESSAGE_TOO_BIG, 'Backpressure limit exceeded');
  }

  // ------------------------------------------------------------- called by the adapters

  /** The runtime finished the upgrade. */
  opened(ctx) {
    this.#lastInbound = Date.now();
    this.#armIdle(this.#idleMs);
    const open = this.#handler.open;
    if (open !== undefined) callHandler(open, this.#handler, this, 'open', this.#handlerFailed, ctx);
  }

  /** A complete message: a string, or bytes (Uint8Array / ArrayBuffer) for BINARY. */
  received(data, isBinary) {
    this.#lastInbound = Date.now();
    if (this.#state !== OPEN) return;
    const limit = this.#route.options.maxPayloadLength;
    if (isBinary ? data.byteLength > limit : exceedsBytes(data, limit)) {
      this.#fail(new WebSocketPayloadTooLargeError(limit, byteLength(data)));
      return;
    }
    const message = this.#handler.message;
    if (message === undefined) return;
    if (isBinary) {
      if (this.#binaryType === 'arraybuffer') {
        if (!(data instanceof ArrayBuffer)) data = toArrayBuffer(data);
      } else if (!Buffer.isBuffer(data)) {
        data = data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      }
    }
    callHandler(message, this.#handler, this, 'message', this.#handlerFailed, data, isBinary);
  }

  /** Inbound traffic that is not a message (a PING or PONG) still counts against idleTimeout. */
  touched() {
    this.#lastInbound = Date.now();
  }

  /** The runtime reports that its send buffer drained. */
  drained() {
    if (!this.#needDrain) return;
    this.#needDrain = false;
    const drain = this.#handler.drain;
    if (this.#state !== OPEN || drain === undefined) return;
    callHandler(drain, this.#handler, this, 'drain', this.#handlerFailed);
  }

  /** Whether a send found the runtime's buffer full, and drained() has not yet reported it empty. */
  get waitingForDrain() {
    return this.#needDrain;
  }

  /** A runtime error on the socket (reported to `error()` while open). */
  failed(err) {
    if (this.#state === OPEN) this.#reportError(err);
  }

  /** The socket is closed: `code`/`reason` as the runtime reports them (1006 without a handshake). */
  closed(code, reason) {
    this.#state = CLOSED;
    this.#clearTimers();
    this.#fireClose(code, reason);
    this.#host.untrack(this);
  }

  // ------------------------------------------------------------- internals

  // A limit this adapter enforces was broken: report it as the Node wiring does, then close.
  #fail(err) {
    this.#reportError(err);
    if (this.#state !== OPEN) return; // the error handler closed the connection itself
    this.#closeWith(err.closeCode, err.message);
  }

  #closeWith(code, reason) {
    this.#state = CLOSING;
    if (this.#idleTimer !== null) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
    // The handler first: Bun may report the socket closed from inside ws.close().
    this.#fireClose(code, reason);
    this.#transport.close(code, reason);
    if (this.#state !== CLOSING) return;
    // The runtime waits for the peer's CLOSE; a peer that never answers is cut off.
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = null;
      this.terminate();
    }, this.#host.closeTimeout);
  }

  #armIdle(ms) {
    this.#idleTimer = setTimeout(() => this.#idleCheck(), ms);
  }

  #idleCheck() {
    this.#idleTimer = null;
    if (this.#state !== OPEN) return;
    const remaining = idleRemaining(this.#lastInbound, this.#idleMs);
    if (remaining === 0) this.#closeWith(WS_CLOSE_CODE.GOING_AWAY, IDLE_CLOSE_REASON);
    else this.#armIdle(remaining);
  }

  #clearTimers() {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#idleTimer = null;
    this.#closeTimer = null;
  }

  #fireClose(code, reason) {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.#needDrain = false;
    const close = this.#handler.close;
    if (close !== undefined) callHandler(close, this.#handler, this, 'close', this.#handlerFailed, code, reason);
    // After the handler, which may still publish to the topics it is leaving.
    this[kLeaveTopics]();
  }

  /** A handler threw or rejected: log it, report it to `error()` unless closed; after `open`, close with 1011. */
  #handlerFailed(name, err) {
    logHandlerFailure(this.#host, this.#route.path, name, err);
    if (name === 'close') return;
    this.#reportError(err);
    if (name === 'open' && this.#state === OPEN) this.#closeWith(WS_CLOSE_CODE.INTERNAL_ERROR, 'Internal Server Error');
  }

  #reportError(err) {
    if (!this.#closeFired) reportError(this.#handler, this, err, this.#host, this.#route.path);
  }
}

module.exports = { WebConnection };
