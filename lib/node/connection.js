'use strict';

// One upgraded socket: the server side of a WebSocket connection (RFC 6455) over a Node
// `net.Socket` (or a TLS socket), driving the route's handler callbacks.
//
// Hot path, per socket read: one FrameSink.push (one native call) dispatches every message of the
// read; on the native transport the addon has pushed the read already, and its events are delivered
// (deliverRead) from the read's one call into JavaScript. What handlers send goes through the connection's FrameWriter (frame-writer.js): everything
// sent in one tick leaves in one socket write.

const { Buffer } = require('node:buffer');
const { WS_READY_STATE, WS_OPCODE, WS_CLOSE_CODE } = require('../primitives/constants.js');
const { FrameSink } = require('../primitives/frame-sink.js');
// Not enumerable (outside the package's surface): the delivery of a read the native transport
// pushed through the sink itself (native-socket.js readWith()).
const { deliverRead } = /** @type {any} */ (require('../primitives/frame-sink.js'));
const { encodeClosePayload } = require('../primitives/close.js');
const { FrameWriter, buildFrame } = require('./frame-writer.js');
const { log } = require('../app/logger.js');
const { bytesOf, controlPayload, toArrayBuffer, closeReason } = require('../app/payload.js');
const { callHandler, logHandlerFailure, reportError } = require('../app/handler-calls.js');
const { idleRemaining, IDLE_CLOSE_REASON } = require('../app/idle-timeout.js');
const { readTime } = require('./read-clock.js');
const { MessageDeflater, inflateOptions } = require('../primitives/deflate.js');
const { routeDeflate } = require('../app/deflate-option.js');
const { TopicMember, kLeaveTopics, deliverEach, Publication } = require('../app/topics.js');

const { OPEN, CLOSING, CLOSED } = WS_READY_STATE;
const { TEXT, BINARY, CLOSE, PING, PONG } = WS_OPCODE;
// RSV1 on the first frame of a message: "Per-Message Compressed" (RFC 7692 §6), written with the opcode.
const RSV1 = 0x40;

const EMPTY = Buffer.alloc(0);

function noop() {}

// The connection of a socket, for the socket listeners, which are shared by all connections (an
// idle connection holds no closure of its own).
const kConnection = Symbol('daloy-ws-native.connection');

// The options of one connection's FrameSink and the receiver of its events: one small object per
// connection instead of a closure per callback. Its only field is the connection: the methods, and
// the options (read once, by the FrameSink constructor) as getters of the connection's route and
// agreement, are installed by WebSocketConnection's static block, where its private state is in reach.
class SinkEvents {
  constructor(conn) {
    this.conn = conn;
  }
}

/** The server side of one WebSocket connection; handlers receive it as `conn`. */
class WebSocketConnection extends TopicMember {
  /** Free slot for the application's per-connection state. */
  data = undefined;

  /** @type {number} */
  #state = OPEN;
  #binaryType = 'nodebuffer';
  #socket;
  #handler;
  #route;
  #host;
  #protocol;
  #sink;
  #idleMs;
  #lastInbound = 0;
  #timer = null;
  #writer;
  #closeFired = false;
  #backpressureLimit;
  #closeOnBackpressure;
  // permessage-deflate: the agreement (null: not negotiated), this connection's compressor, and
  // the size below which messages go uncompressed.
  #deflate = null;
  #deflater = null;
  #threshold = 0;

  /**
   * Not constructed by applications: the Node wiring creates one per accepted upgrade.
   * @param {import('node:net').Socket} socket
   * @param {{ path: string, handler: object, options: object }} route
   * @param {string} protocol the selected subprotocol or ""
   * @param {{ logger: object, closeTimeout: number, topics: import('../app/topics.js').TopicRegistry,
   *   untrack(conn: WebSocketConnection): void }} host
   * @param {import('../primitives/deflate.js').DeflateAgreement | null} [deflate]
   */
  constructor(socket, route, protocol, host, deflate = null) {
    super(host.topics, route.options.maxTopicsPerConnection);
    this.#socket = socket;
    this.#writer = new FrameWriter(socket);
    this.#route = route;
    this.#handler = route.handler;
    this.#host = host;
    this.#protocol = protocol;
    const options = route.options;
    this.#idleMs = options.idleTimeout * 1000;
    this.#backpressureLimit = options.backpressureLimit;
    this.#closeOnBackpressure = options.closeOnBackpressureLimit;
    if (deflate !== null) {
      this.#deflate = deflate;
      const config = /** @type {import('../primitives/deflate.js').DeflateConfig} */ (routeDeflate(options));
      this.#deflater = new MessageDeflater(config, deflate);
      this.#threshold = config.threshold;
    }
    this.#sink = new FrameSink(new SinkEvents(this));
  }

  static {
    // The methods are added to the prototype here, where the connection's private methods are in reach.
    const events = /** @type {any} */ (SinkEvents.prototype);
    events.onMessage = function onMessage(event) {
      this.conn.#onMessage(event);
    };
    events.onPing = function onPing(payload) {
      this.conn.#onPing(payload);
    };
    events.onPong = noop;
    events.requireMask = true;
    Object.defineProperties(events, {
      maxPayloadLength: {
        get() {
          return this.conn.#route.options.maxPayloadLength;
        },
      },
      maxFragments: {
        get() {
          return this.conn.#route.options.maxFragments;
        },
      },
      inflate: {
        get() {
          const deflate = this.conn.#deflate;
          return deflate === null ? undefined : inflateOptions(deflate);
        },
      },
    });
    events.onClose = function onClose(code, reason) {
      this.conn.#onPeerClose(code, reason);
    };
    events.onProtocolError = function onProtocolError(err) {
      this.conn.#onProtocolError(err);
    };
  }

  /** WHATWG ready state: OPEN (1), CLOSING (2) once a CLOSE was sent, CLOSED (3). */
  get readyState() {
    return this.#state;
  }

  /** The negotiated subprotocol, or "". */
  get protocol() {
    return this.#protocol;
  }

  /** The negotiated extensions (the 101's `Sec-WebSocket-Extensions`), or "". */
  get extensions() {
    return this.#deflate === null ? '' : this.#deflate.response;
  }

  /** Bytes queued (on the socket, or staged for this tick) and not yet handed to the kernel. */
  get bufferedAmount() {
    return this.#writer.bufferedAmount;
  }

  /** How binary messages reach `message()`: a Buffer ("nodebuffer", default) or an ArrayBuffer. */
  get binaryType() {
    return this.#binaryType;
  }

  set binaryType(type) {
    // As WHATWG WebSocket does, an unknown value is ignored.
    if (type === 'nodebuffer' || type === 'arraybuffer') this.#binaryType = type;
  }

  /**
   * Sends a TEXT frame for a string, a BINARY frame for bytes; `{ binary: true }` sends a string
   * as BINARY. With permessage-deflate agreed, a message of at least the route's `threshold` bytes
   * is compressed; `{ compress: false }` or `{ compress: true }` decides for this message.
   * Ignored once the connection is closing.
   */
  send(data, options) {
    const isString = typeof data === 'string';
    const payload = isString ? data : bytesOf(data, 'send()');
    if (this.#state !== OPEN) return;
    /** @type {number} */
    let opcode = BINARY;
    let length;
    if (isString) {
      if (options === undefined || options === null || options.binary !== true) opcode = TEXT;
      length = Buffer.byteLength(data, 'utf8');
    } else {
      length = payload.length;
    }
    // Backpressure is what the kernel has refused: bytes still staged or corked for this tick and
    // the message at hand do not count, so one large message still goes out; a peer that keeps not
    // reading is what the limit cuts off.
    if (this.#writer.backpressure > this.#backpressureLimit && this.#closeOnBackpressure) {
      this.#closeWith(WS_CLOSE_CODE.MESSAGE_TOO_BIG, 'Backpressure limit exceeded');
      return;
    }
    if (this.#deflater !== null) {
      const compress = options === undefined || options === null ? undefined : options.compress;
      if (compress === true || (compress !== false && length >= this.#threshold)) {
        let compressed;
        try {
          compressed = this.#deflater.deflate(payload);
        } catch (err) {
          // Only a fault of the compression library: the peer's window is out of step now.
          this.#reportError(err);
          this.#closeWith(WS_CLOSE_CODE.INTERNAL_ERROR, 'Internal Server Error');
          return;
        }
        this.#writer.frame(opcode | RSV1, compressed, compressed.length, false);
        return;
      }
    }
    this.#writer.frame(opcode, payload, length, isString);
  }

  /** Sends a PING (payload of at most 125 bytes). */
  ping(data) {
    this.#control(PING, data);
  }

  /** Sends an unsolicited PONG (payload of at most 125 bytes). */
  pong(data) {
    this.#control(PONG, data);
  }

  /**
   * Starts the closing handshake: sends a CLOSE frame, calls the `close` handler, and ends the
   * socket when the peer answers (or after the wiring's close timeout).
   */
  close(code = WS_CLOSE_CODE.NORMAL_CLOSURE, reason = '') {
    // Validates first: an invalid code or a reason over 123 bytes throws and changes nothing.
    const payload = encodeClosePayload(code, reason);
    if (this.#state !== OPEN) return;
    this.#sendClose(payload, code, String(reason));
  }

  /** Destroys the socket at once, without a closing handshake; `close` reports 1006. */
  terminate() {
    this.#state = CLOSED;
    this.#socket.destroy();
  }

  // ------------------------------------------------------------- topics (lib/app/topics.js)

  /**
   * The Node fan-out of a publish: the frame is built once (encodeTopicFrame) and the same bytes are
   * written to each subscriber's socket (with permessage-deflate: one compressed frame per distinct
   * agreement without server context takeover, compressed once; a subscriber whose compressor keeps
   * its window compresses for itself; below the route's threshold, the plain frame), corked to the end of the tick behind what the connection
   * staged before, so `send` and `publish` leave in the order they were called. A subscriber whose
   * kernel refuses more than its backpressureLimit is closed (1009) when its route says
   * closeOnBackpressureLimit, else skipped (deliverEach closes after the walk).
   */
  static deliverFrame(subscribers, except, message) {
    return deliverEach(subscribers, except, message, WebSocketConnection.#queueFrame, WebSocketConnection.#closeOverLimit);
  }

  static #queueFrame(conn, message) {
    return conn.#queueShared(message);
  }

  static #closeOverLimit(conn) {
    if (conn.#state === OPEN) conn.#closeWith(WS_CLOSE_CODE.MESSAGE_TOO_BIG, 'Backpressure limit exceeded');
  }

  // 1: queued; 0: not open, or skipped over the backpressure limit; -1: over the limit, to be closed.
  #queueShared(message) {
    if (this.#state !== OPEN || this.#writer.ended) return 0;
    if (this.#writer.backpressure > this.#backpressureLimit) return this.#closeOnBackpressure ? -1 : 0;
    const deflater = this.#deflater;
    if (deflater !== null && message.length >= this.#threshold) {
      const key = deflater.sharedKey;
      // Without context takeover the compressed frame is the same for every subscriber with this key.
      if (key !== null) {
        this.#writer.shared(message.variant(key, compressTopicFrame, deflater));
        return 1;
      }
      let compressed;
      try {
        compressed = deflater.deflate(message.payload);
      } catch (err) {
        // Only a fault of the compression library: the peer's window is out of step now. Closed
        // after the walk, like a subscriber over its limit.
        queueMicrotask(() => {
          this.#reportError(err);
          if (this.#state === OPEN) this.#closeWith(WS_CLOSE_CODE.INTERNAL_ERROR, 'Internal Server Error');
        });
        return 0;
      }
      this.#writer.frame(message.opcode | RSV1, compressed, compressed.length, false);
      return 1;
    }
    this.#writer.shared(message.frame);
    return 1;
  }

  // ------------------------------------------------------------- wiring

  /**
   * Accepts an upgrade whose checks all passed: writes the 101 response, runs `open`, parses the
   * bytes that came with the upgrade, then reads the socket. Everything `open` sends leaves with
   * the 101 in one write.
   */
  static accept(host, socket, route, protocol, acceptKey, ctx, buffered, deflate = null) {
    const conn = new WebSocketConnection(socket, route, protocol, host, deflate);
    // Staged like a frame (the accept key and a validated subprotocol are ASCII): the 101 and what
    // `open` sends leave in one write.
    const response =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptKey}\r\n` +
      (protocol !== '' ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
      (deflate !== null ? `Sec-WebSocket-Extensions: ${deflate.response}\r\n\r\n` : '\r\n');
    conn.#writer.writeLatin1(response);
    conn.#listen();
    conn.#lastInbound = Date.now();
    conn.#armIdle(conn.#idleMs);
    conn.#callOpen(ctx);
    for (const chunk of buffered) {
      if (chunk.length > 0) conn.#onData(chunk);
    }
    return conn;
  }

  #listen() {
    const socket = this.#socket;
    socket[kConnection] = this;
    socket.on('data', WebSocketConnection.#socketData);
    socket.on('end', WebSocketConnection.#socketEnd);
    socket.on('close', WebSocketConnection.#socketClose);
    socket.on('error', WebSocketConnection.#socketError);
    socket.on('drain', WebSocketConnection.#socketDrain);
    // The native transport pushes each read through the sink itself and calls #parsedRead ('data'
    // then only carries bytes given back with unshift()).
    const native = /** @type {any} */ (socket);
    if (typeof native.readWith === 'function') native.readWith(this.#sink, WebSocketConnection.#parsedRead, this);
    // A socket paused while an async beforeUpgrade held its bytes would otherwise stay paused.
    socket.resume();
  }

  // Socket listeners: `this` is the socket.
  static #socketData(chunk) {
    this[kConnection].#onData(chunk);
  }

  static #socketEnd() {
    this[kConnection].#onEnd();
  }

  static #socketClose() {
    this[kConnection].#onSocketClose();
  }

  static #socketError(err) {
    this[kConnection].#onSocketError(err);
  }

  static #socketDrain() {
    this[kConnection].#onDrain();
  }

  static #parsedRead(conn, owned) {
    conn.#receive(owned, true);
  }

  #onData(chunk) {
    this.#receive(chunk, false);
  }

  // Socket bytes, or (parsed) the owned values of a read the transport pushed through the sink.
  #receive(input, parsed) {
    this.#lastInbound = readTime();
    try {
      if (parsed) deliverRead(this.#sink, input);
      else this.#sink.push(input);
    } catch (err) {
      // Handlers are guarded where they are called; reaching here is a fault of this wiring.
      log(this.#host.logger, 'error', { err, path: this.#route.path }, 'WebSocket frame dispatch failed');
      this.terminate();
    }
  }

  #onMessage(event) {
    if (this.#state !== OPEN) return; // no event after `close`
    const handler = this.#handler;
    if (handler.message === undefined) return;
    const isBinary = event.isBinary;
    let data = event.data;
    if (isBinary && this.#binaryType === 'arraybuffer') data = toArrayBuffer(data);
    callHandler(handler.message, handler, this, 'message', this.#handlerFailed, data, isBinary);
  }

  #onPing(payload) {
    // RFC 6455 §5.5.2: answered with a PONG carrying the same payload, unless closing.
    if (this.#state === OPEN) this.#writer.frame(PONG, payload, payload.length, false);
  }

  #onPeerClose(code, reason) {
    if (this.#state === OPEN) {
      // RFC 6455 §5.5.1: echo the status; a CLOSE without one (1005) is answered with an empty CLOSE.
      this.#writer.frame(CLOSE, code === WS_CLOSE_CODE.NO_STATUS_RECEIVED ? EMPTY : encodeClosePayload(code, reason), -1, false);
      this.#state = CLOSED;
      this.#end();
      this.#fireClose(code, reason);
    } else if (this.#state === CLOSING) {
      // The answer to our CLOSE: the handshake is complete and the server closes TCP first (§7.1.1).
      this.#state = CLOSED;
      this.#end();
    }
  }

  #onProtocolError(err) {
    if (this.#state !== OPEN) {
      this.#end();
      return;
    }
    this.#reportError(err);
    const code = typeof err.closeCode === 'number' ? err.closeCode : WS_CLOSE_CODE.PROTOCOL_ERROR;
    const reason = closeReason(err.message);
    // RFC 6455 §7.1.7: fail the connection. The sink reads nothing more, so the peer's answering
    // CLOSE cannot be seen: our side ends now (also when the error handler closed it already).
    if (this.#state !== OPEN) {
      this.#end();
      return;
    }
    this.#state = CLOSING;
    this.#writer.frame(CLOSE, encodeClosePayload(code, reason), -1, false);
    this.#end();
    this.#fireClose(code, reason);
  }

  #onEnd() {
    // The peer closed its side (allowHalfOpen): finish ours once our queued bytes are out.
    this.#end();
  }

  #onSocketError(err) {
    if (this.#state === OPEN) this.#reportError(err);
    // Node destroys the socket after an error; `close` follows with 1006 if no handshake completed.
  }

  #onSocketClose() {
    this.#state = CLOSED;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#fireClose(WS_CLOSE_CODE.ABNORMAL_CLOSURE, '');
    this.#host.untrack(this);
  }

  #onDrain() {
    if (!this.#writer.takeNeedDrain()) return;
    if (this.#state !== OPEN || this.#handler.drain === undefined) return;
    callHandler(this.#handler.drain, this.#handler, this, 'drain', this.#handlerFailed);
  }

  // ------------------------------------------------------------- closing

  #closeWith(code, reason) {
    this.#sendClose(encodeClosePayload(code, reason), code, reason);
  }

  #sendClose(payload, code, reason) {
    this.#state = CLOSING;
    this.#writer.frame(CLOSE, payload, -1, false);
    // Waits for the peer's CLOSE, but not forever.
    this.#armCloseWait();
    this.#fireClose(code, reason);
  }

  /** Ends our side of the socket; a peer that never closes its side is cut off after the close timeout. */
  #end() {
    if (this.#writer.ended) return;
    this.#writer.end();
    this.#armCloseWait();
  }

  #armCloseWait() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(WebSocketConnection.#onCloseWaitExpired, this.#host.closeTimeout, this);
    this.#timer.unref();
  }

  static #onCloseWaitExpired(conn) {
    conn.#timer = null;
    conn.#socket.destroy();
  }

  #armIdle(ms) {
    this.#timer = setTimeout(WebSocketConnection.#onIdleCheck, ms, this);
    this.#timer.unref();
  }

  static #onIdleCheck(conn) {
    conn.#timer = null;
    if (conn.#state !== OPEN) return;
    const remaining = idleRemaining(conn.#lastInbound, conn.#idleMs);
    if (remaining === 0) conn.#closeWith(WS_CLOSE_CODE.GOING_AWAY, IDLE_CLOSE_REASON);
    else conn.#armIdle(remaining);
  }

  #fireClose(code, reason) {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.#writer.clearNeedDrain();
    if (this.#handler.close !== undefined) callHandler(this.#handler.close, this.#handler, this, 'close', this.#handlerFailed, code, reason);
    // After the handler, which may still publish to the topics it is leaving.
    this[kLeaveTopics]();
  }

  // ------------------------------------------------------------- sending

  #control(opcode, data) {
    const payload = controlPayload(data);
    if (this.#state !== OPEN) return;
    this.#writer.frame(opcode, payload, payload.length, false);
  }

  // ------------------------------------------------------------- handler calls

  #callOpen(ctx) {
    const open = this.#handler.open;
    if (open !== undefined) callHandler(open, this.#handler, this, 'open', this.#handlerFailed, ctx);
  }

  /** A handler threw or rejected: log it, report it to `error()` unless closed, and for `open`, close with 1011. */
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

/** A publish's message on Node: header and payload in one buffer, built once for every subscriber. */
function encodeTopicFrame(payload, isBinary) {
  const opcode = isBinary ? BINARY : TEXT;
  const frame = buildFrame(opcode, payload, typeof payload === 'string');
  // The payload follows a header of 2, 4 or 10 bytes (RFC 6455 §5.2: 7-bit length, 126, 127).
  const at = (frame[1] & 0x7f) < 126 ? 2 : (frame[1] & 0x7f) === 126 ? 4 : 10;
  return new Publication(frame, at, opcode);
}

/**
 * A publish's compressed frame for the subscribers whose compressor has no context takeover and
 * `deflater`'s key. A failure of the compression library (never the data's) leaves no window out of
 * step there: those subscribers get the uncompressed frame.
 */
function compressTopicFrame(message, deflater) {
  try {
    return buildFrame(message.opcode | RSV1, deflater.deflate(message.payload), false);
  } catch {
    return message.frame;
  }
}

/** The fan-out of lib/app/topics.js's registry on Node. */
const nodeFanOut = {
  encode: encodeTopicFrame,
  bytes: (message) => message.payload,
  decode: encodeTopicFrame,
  deliver: (topic, subscribers, except, message) => WebSocketConnection.deliverFrame(subscribers, except, message),
};

module.exports = { WebSocketConnection, nodeFanOut };
