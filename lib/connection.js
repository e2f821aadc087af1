'use strict';

// One upgraded socket: the server side of a WebSocket connection (RFC 6455) over a Node
// `net.Socket` (or a TLS socket), driving the route's handler callbacks.
//
// Hot path, per socket read: one FrameSink.push (one native call) dispatches every message of the
// read; whatever the handlers send meanwhile is corked and leaves in one writev on the next tick
// (a frame of 64 KiB or more leaves at once, see #frame). Sending builds the 2-10 byte header in
// JavaScript; a larger payload is handed to the socket as is (a string with 'utf8', encoded once
// by the stream), a small frame is built whole in one pooled buffer so that the stream carries one
// chunk instead of two.

const { Buffer } = require('node:buffer');
const { WS_READY_STATE, WS_OPCODE, WS_CLOSE_CODE } = require('./constants.js');
const { FrameSink, encodeClosePayload } = require('../index.js');
const { log } = require('./logger.js');
const { bytesOf, controlPayload, toArrayBuffer, closeReason } = require('./payload.js');
const { isThenable, logHandlerFailure, callErrorHandler } = require('./handler-calls.js');

const { OPEN, CLOSING, CLOSED } = WS_READY_STATE;
const { TEXT, BINARY, CLOSE, PING, PONG } = WS_OPCODE;

// Frames up to this payload size are written as one buffer (header and payload together): one
// stream write instead of two, and Buffer.allocUnsafe serves them from Node's 8 KiB pool. Measured
// on a 16-byte echo (64 connections, 16 in flight): about 12% less server CPU per message than
// writing the header and the payload separately.
const SMALL_FRAME = 1024;
// Frames from this payload size on are flushed at once instead of at the end of the tick.
const FLUSH_FRAME = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** Writes a FIN frame header for `length` payload bytes at `buf[0..]`; returns its size. */
function writeHeader(buf, opcode, length) {
  buf[0] = 0x80 | opcode;
  if (length < 126) {
    buf[1] = length;
    return 2;
  }
  if (length < 65536) {
    buf[1] = 126;
    buf[2] = length >>> 8;
    buf[3] = length & 0xff;
    return 4;
  }
  buf[1] = 127;
  buf.writeUInt32BE(Math.floor(length / 0x100000000), 2);
  buf.writeUInt32BE(length >>> 0, 6);
  return 10;
}

function headerLength(length) {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

function noop() {}

/** The server side of one WebSocket connection; handlers receive it as `conn`. */
class WebSocketConnection {
  /** Free slot for the application's per-connection state. */
  data = undefined;

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
  #corked = false;
  // Bytes corked since the last flush; they are not backpressure yet.
  #tickBytes = 0;
  #corkGeneration = 0;
  #needDrain = false;
  #ended = false;
  #closeFired = false;
  #backpressureLimit;
  #closeOnBackpressure;
  #onMessageRejected;

  /**
   * Not constructed by applications: the Node wiring creates one per accepted upgrade.
   * @param {import('node:net').Socket} socket
   * @param {{ path: string, handler: object, options: object }} route
   * @param {string} protocol the selected subprotocol or ""
   * @param {{ logger: object, closeTimeout: number, untrack(conn: WebSocketConnection): void }} host
   */
  constructor(socket, route, protocol, host) {
    this.#socket = socket;
    this.#route = route;
    this.#handler = route.handler;
    this.#host = host;
    this.#protocol = protocol;
    const options = route.options;
    this.#idleMs = options.idleTimeout * 1000;
    this.#backpressureLimit = options.backpressureLimit;
    this.#closeOnBackpressure = options.closeOnBackpressureLimit;
    this.#onMessageRejected = (err) => this.#handlerFailed('message', err);
    this.#sink = new FrameSink({
      requireMask: true,
      maxPayloadLength: options.maxPayloadLength,
      maxFragments: options.maxFragments,
      onMessage: (event) => this.#onMessage(event),
      onPing: (payload) => this.#onPing(payload),
      onPong: noop,
      onClose: (code, reason) => this.#onPeerClose(code, reason),
      onProtocolError: (err) => this.#onProtocolError(err),
    });
  }

  /** WHATWG ready state: OPEN (1), CLOSING (2) once a CLOSE was sent, CLOSED (3). */
  get readyState() {
    return this.#state;
  }

  /** The negotiated subprotocol, or "". */
  get protocol() {
    return this.#protocol;
  }

  /** The negotiated extensions: none, so always "". */
  get extensions() {
    return '';
  }

  /** Bytes queued on the socket and not yet handed to the kernel. */
  get bufferedAmount() {
    return this.#socket.writableLength;
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
   * as BINARY. Ignored once the connection is closing.
   */
  send(data, options) {
    const isString = typeof data === 'string';
    const payload = isString ? data : bytesOf(data, 'send()');
    if (this.#state !== OPEN) return;
    let opcode = BINARY;
    let length;
    if (isString) {
      if (options === undefined || options === null || options.binary !== true) opcode = TEXT;
      length = Buffer.byteLength(data, 'utf8');
    } else {
      length = payload.length;
    }
    // Backpressure is what the kernel has refused: bytes still corked for this tick and the
    // message at hand do not count, so one large message still goes out; a peer that keeps not
    // reading is what the limit cuts off.
    if (this.#socket.writableLength - this.#tickBytes > this.#backpressureLimit && this.#closeOnBackpressure) {
      this.#closeWith(WS_CLOSE_CODE.MESSAGE_TOO_BIG, 'Backpressure limit exceeded');
      return;
    }
    this.#frame(opcode, payload, length, isString);
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

  // ------------------------------------------------------------- wiring

  /**
   * Accepts an upgrade whose checks all passed: writes the 101 response, runs `open`, parses the
   * bytes that came with the upgrade, then reads the socket. Everything `open` sends leaves with
   * the 101 in one write.
   */
  static accept(host, socket, route, protocol, acceptKey, ctx, buffered) {
    const conn = new WebSocketConnection(socket, route, protocol, host);
    conn.#cork();
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey}\r\n` +
        (protocol !== '' ? `Sec-WebSocket-Protocol: ${protocol}\r\n\r\n` : '\r\n'),
      'latin1',
    );
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
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('close', () => this.#onSocketClose());
    socket.on('error', (err) => this.#onSocketError(err));
    socket.on('drain', () => this.#onDrain());
    // A socket paused while an async beforeUpgrade held its bytes would otherwise stay paused.
    socket.resume();
  }

  #onData(chunk) {
    this.#lastInbound = Date.now();
    try {
      this.#sink.push(chunk);
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
    try {
      const result = handler.message(this, data, isBinary);
      if (result !== undefined && isThenable(result)) result.then(undefined, this.#onMessageRejected);
    } catch (err) {
      this.#handlerFailed('message', err);
    }
  }

  #onPing(payload) {
    // RFC 6455 §5.5.2: answered with a PONG carrying the same payload, unless closing.
    if (this.#state === OPEN) this.#frame(PONG, payload, payload.length, false);
  }

  #onPeerClose(code, reason) {
    if (this.#state === OPEN) {
      // RFC 6455 §5.5.1: echo the status; a CLOSE without one (1005) is answered with an empty CLOSE.
      this.#frame(CLOSE, code === WS_CLOSE_CODE.NO_STATUS_RECEIVED ? EMPTY : encodeClosePayload(code, reason), -1, false);
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
    this.#frame(CLOSE, encodeClosePayload(code, reason), -1, false);
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
    if (!this.#needDrain) return;
    this.#needDrain = false;
    if (this.#state !== OPEN || this.#handler.drain === undefined) return;
    this.#invoke('drain', this.#handler.drain, undefined, undefined);
  }

  // ------------------------------------------------------------- closing

  #closeWith(code, reason) {
    this.#sendClose(encodeClosePayload(code, reason), code, reason);
  }

  #sendClose(payload, code, reason) {
    this.#state = CLOSING;
    this.#frame(CLOSE, payload, -1, false);
    // Waits for the peer's CLOSE, but not forever.
    this.#armCloseWait();
    this.#fireClose(code, reason);
  }

  /** Ends our side of the socket; a peer that never closes its side is cut off after the close timeout. */
  #end() {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.end();
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

  // The idle timer is not reset on every read (that would cost a timer update per read): when it
  // fires, it compares the time of the last read and re-arms for the remainder.
  static #onIdleCheck(conn) {
    conn.#timer = null;
    if (conn.#state !== OPEN) return;
    const idle = Date.now() - conn.#lastInbound;
    if (idle >= conn.#idleMs) conn.#closeWith(WS_CLOSE_CODE.GOING_AWAY, 'Idle timeout');
    else conn.#armIdle(conn.#idleMs - idle);
  }

  #fireClose(code, reason) {
    if (this.#closeFired) return;
    this.#closeFired = true;
    this.#needDrain = false;
    if (this.#handler.close !== undefined) this.#invoke('close', this.#handler.close, code, reason);
  }

  // ------------------------------------------------------------- sending

  #cork() {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(WebSocketConnection.#uncork, this, this.#corkGeneration);
  }

  static #uncork(conn, generation) {
    // A cork already released by a large frame (#release) leaves nothing for this tick to do.
    if (generation !== conn.#corkGeneration) return;
    conn.#release();
  }

  #release() {
    this.#corked = false;
    this.#corkGeneration++;
    this.#tickBytes = 0;
    this.#socket.uncork();
  }

  /**
   * Queues one FIN frame. `length` is the payload's byte length (-1: compute it from the bytes).
   */
  #frame(opcode, payload, length, isString) {
    if (this.#ended) return;
    if (length < 0) length = payload.length;
    if (!this.#corked) this.#cork();
    const socket = this.#socket;
    const at = headerLength(length);
    let flushed;
    if (length <= SMALL_FRAME) {
      const frame = Buffer.allocUnsafe(at + length);
      writeHeader(frame, opcode, length);
      if (isString) frame.write(payload, at, 'utf8');
      else frame.set(payload, at);
      flushed = socket.write(frame);
    } else {
      const header = Buffer.allocUnsafe(at);
      writeHeader(header, opcode, length);
      socket.write(header);
      flushed = isString ? socket.write(payload, 'utf8') : socket.write(payload);
    }
    // A large frame goes to the kernel now, with whatever was corked before it: holding it to
    // the end of the tick saves no system call, and what the kernel refuses is then visible as
    // backpressure to the next send.
    if (length >= FLUSH_FRAME) this.#release();
    else this.#tickBytes += at + length;
    if (!flushed) this.#needDrain = true;
  }

  #control(opcode, data) {
    const payload = controlPayload(data);
    if (this.#state !== OPEN) return;
    this.#frame(opcode, payload, payload.length, false);
  }

  // ------------------------------------------------------------- handler calls

  #callOpen(ctx) {
    const open = this.#handler.open;
    if (open === undefined) return;
    try {
      const result = open.call(this.#handler, this, ctx);
      if (result !== undefined && isThenable(result)) {
        result.then(undefined, (err) => this.#handlerFailed('open', err));
      }
    } catch (err) {
      this.#handlerFailed('open', err);
    }
  }

  // close, drain: called with (conn, a, b); their failures are logged (and, for drain, reported).
  #invoke(name, fn, a, b) {
    try {
      const result = name === 'close' ? fn.call(this.#handler, this, a, b) : fn.call(this.#handler, this);
      if (result !== undefined && isThenable(result)) result.then(undefined, (err) => this.#handlerFailed(name, err));
    } catch (err) {
      this.#handlerFailed(name, err);
    }
  }

  /** A handler threw or rejected: log it, report it to `error()` unless closed, and for `open`, close with 1011. */
  #handlerFailed(name, err) {
    logHandlerFailure(this.#host, this.#route.path, name, err);
    if (name === 'close') return;
    this.#reportError(err);
    if (name === 'open' && this.#state === OPEN) this.#closeWith(WS_CLOSE_CODE.INTERNAL_ERROR, 'Internal Server Error');
  }

  #reportError(err) {
    const onError = this.#handler.error;
    if (onError === undefined || this.#closeFired) return;
    callErrorHandler(this.#handler, onError, this, err, this.#host, this.#route.path);
  }
}

module.exports = { WebSocketConnection };
