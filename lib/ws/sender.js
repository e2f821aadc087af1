'use strict';

// `ws`'s Sender: the frames one WebSocket sends, here a thin front over the connection's
// FrameWriter (lib/node/frame-writer.js), which batches them per tick. Server frames are written
// unmasked straight into the writer; client frames are masked by encodeFrame (the addon's
// word-wide XOR) and handed to the writer whole. `Sender.frame()` builds a frame ahead of time
// (socket.io's adapter does, for broadcasts) and `sendFrame()` writes one. A Blob is read before it
// is sent; what is sent after it waits in order behind it, as in `ws`. With permessage-deflate
// agreed, a message is compressed as a whole (or fragment by fragment) by the connection's
// PerMessageDeflate (permessage-deflate.js) and goes out with RSV1 on its first frame.

const { Buffer } = require('node:buffer');
const { WS_OPCODE, WS_MAX_CONTROL_PAYLOAD } = require('../primitives/constants.js');
const { encodeFrame } = require('../primitives/frames.js');
const { isValidWireCloseCode } = require('../primitives/close.js');
const { frameHeaderLength, writeFrameHeader } = require('../primitives/frame-header.js');
const { FrameWriter } = require('../node/frame-writer.js');
const { toBuffer } = require('./buffers.js');
const { EXTENSION_NAME } = require('./permessage-deflate.js');

const { CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG } = WS_OPCODE;
const EMPTY = Buffer.alloc(0);
// RFC 6455 §5.5: a CLOSE payload is the 2-byte code plus at most 123 bytes of reason.
const MAX_CLOSE_REASON = WS_MAX_CONTROL_PAYLOAD - 2;
// RSV1 on the first frame of a message: "Per-Message Compressed" (RFC 7692 §6).
const RSV1 = 0x40;

const isBlob = (value) => typeof Blob === 'function' && value instanceof Blob;

class Sender {
  // Operations waiting behind a Blob being read, in order (null: none): { ready, data, size, run, cb }.
  #queue = null;

  /**
   * @param {import('node:stream').Duplex | FrameWriter} socket the socket, or the writer of its connection
   * @param {{ [EXTENSION_NAME]?: import('./permessage-deflate.js').PerMessageDeflate }} [extensions]
   *   the connection's agreed extensions, as `ws` passes them
   */
  constructor(socket, extensions) {
    this._writer = socket instanceof FrameWriter ? socket : new FrameWriter(socket);
    /** Bytes counted by sends made after the connection stopped being open (`ws`'s bufferedAmount). */
    this._bufferedBytes = 0;
    this._firstFragment = true;
    /** The connection's permessage-deflate (null: not agreed). */
    this._deflate = (extensions !== undefined && extensions[EXTENSION_NAME]) || null;
    /** Whether the message being sent in fragments is compressed. */
    this._compress = false;
    /**
     * Called with the error when compression fails (a fault of the library): the connection must close.
     * @type {(err: Error) => void}
     */
    this.onerror = noop;
  }

  /**
   * A frame ready for sendFrame(): `[header, payload]` (unmasked) or `[frame]` (masked).
   * @param {string | Uint8Array} data
   * @param {{ fin?: boolean, opcode: number, mask?: boolean, rsv1?: boolean, readOnly?: boolean }} options
   * @returns {Buffer[]}
   */
  static frame(data, options) {
    const payload = typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
    if (options.mask) {
      const frame = encodeFrame({ opcode: options.opcode, payload, fin: Boolean(options.fin), mask: true });
      if (options.rsv1) frame[0] |= 0x40;
      return [Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)];
    }
    const header = Buffer.allocUnsafe(frameHeaderLength(payload.length));
    writeFrameHeader(header, 0, Boolean(options.fin), options.opcode, false, payload.length);
    if (options.rsv1) header[0] |= 0x40;
    return [header, payload];
  }

  /** Writes frames built by Sender.frame(); `cb` once they are written. */
  sendFrame(list, cb) {
    if (this.#queue !== null) {
      this.#later(true, list, 0, (frames) => this.sendFrame(frames, cb), cb);
      return;
    }
    const last = list.length - 1;
    for (let i = 0; i <= last; i++) this._writer.raw(list[i], i === last ? cb : undefined);
  }

  /**
   * One data frame: TEXT or BINARY (`options.binary`), or a continuation of a message sent with
   * `fin: false`.
   */
  send(data, options, cb) {
    this.sendMessage(data, Boolean(options.binary), options.fin !== false, options.mask === true, cb, options.compress === true);
  }

  /**
   * send() with its options as arguments (WebSocket#send calls this, without an options object).
   * `compress`: compress the message if permessage-deflate was agreed (and the threshold allows).
   */
  sendMessage(data, binary, fin, mask, cb, compress = false) {
    if (this.#queue !== null || isBlob(data)) {
      const size = isBlob(data) ? data.size : typeof data === 'string' ? Buffer.byteLength(data) : toBuffer(data).length;
      this.#later(!isBlob(data), data, size, (bytes) => this.sendMessage(bytes, binary, fin, mask, cb, compress), cb);
      return;
    }
    const isString = typeof data === 'string';
    const payload = isString ? data : toBuffer(data);
    const first = this._firstFragment;
    const opcode = !first ? CONTINUATION : binary ? BINARY : TEXT;
    this._firstFragment = fin;
    const length = isString ? Buffer.byteLength(payload) : payload.length;
    if (this._deflate !== null) {
      // The first fragment decides for the whole message, as in `ws`.
      if (first) this._compress = this._deflate.compresses(compress, length);
      if (this._compress) {
        this.#compressed(first ? opcode | RSV1 : opcode, payload, fin, mask, cb);
        return;
      }
    }
    this.#frame(opcode, payload, length, isString, fin, mask, cb);
  }

  #compressed(opcode, payload, fin, mask, cb) {
    let bytes;
    try {
      bytes = this._deflate.compress(payload, fin);
    } catch (err) {
      // The peer's window is out of step from here on: nothing more is sent.
      if (cb) process.nextTick(cb, err);
      this.onerror(err);
      return;
    }
    this.#frame(opcode, bytes, bytes.length, false, fin, mask, cb);
  }

  ping(data, mask, cb) {
    this.#control(PING, data, mask, cb);
  }

  pong(data, mask, cb) {
    this.#control(PONG, data, mask, cb);
  }

  #control(opcode, data, mask, cb) {
    if (isBlob(data)) {
      if (data.size > WS_MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
      this.#later(false, data, data.size, (bytes) => this.#control(opcode, bytes, mask, cb), cb);
      return;
    }
    const payload = controlBytes(data);
    if (this.#queue !== null) {
      this.#later(true, payload, payload.length, (bytes) => this.#control(opcode, bytes, mask, cb), cb);
      return;
    }
    this.#frame(opcode, payload, payload.length, false, true, mask === true, cb);
  }

  /** A CLOSE frame; throws, sending nothing, on an invalid code or a reason over 123 bytes. */
  close(code, data, mask, cb) {
    let payload;
    if (code === undefined) {
      payload = EMPTY;
    } else if (typeof code !== 'number' || !isValidWireCloseCode(code)) {
      throw new TypeError('First argument must be a valid error code number');
    } else {
      const reason = data === undefined || data === '' ? EMPTY : typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
      if (reason.length > MAX_CLOSE_REASON) throw new RangeError('The message must not be greater than 123 bytes');
      payload = Buffer.allocUnsafe(2 + reason.length);
      payload.writeUInt16BE(code, 0);
      payload.set(reason, 2);
    }
    if (this.#queue !== null) {
      this.#later(true, payload, 0, () => this.#frame(CLOSE, payload, payload.length, false, true, mask === true, cb), cb);
      return;
    }
    this.#frame(CLOSE, payload, payload.length, false, true, mask === true, cb);
  }

  // Queues an operation behind the Blob being read (or reads `data`, a Blob, first); its bytes count
  // in bufferedAmount until it runs.
  #later(ready, data, size, run, cb) {
    const op = { ready, data, size, run, cb, error: undefined };
    this._bufferedBytes += size;
    if (this.#queue === null) this.#queue = [];
    this.#queue.push(op);
    if (ready) return;
    data.arrayBuffer().then(
      (buffer) => {
        op.data = Buffer.from(buffer);
        op.ready = true;
        this.#drain();
      },
      (err) => {
        op.error = err;
        op.ready = true;
        this.#drain();
      },
    );
  }

  #drain() {
    const queue = this.#queue;
    while (queue.length > 0 && queue[0].ready) {
      const op = queue.shift();
      this._bufferedBytes -= op.size;
      // The operation runs as if nothing were queued; what is still waiting stays behind it.
      this.#queue = null;
      if (op.error === undefined) op.run(op.data);
      else if (op.cb) process.nextTick(op.cb, op.error);
      this.#queue = queue;
    }
    if (queue.length === 0) this.#queue = null;
  }

  #frame(opcode, payload, length, isString, fin, mask, cb) {
    if (!mask) {
      this._writer.frame(opcode, payload, length, isString, fin, cb);
      return;
    }
    const bytes = isString ? Buffer.from(payload) : payload;
    // encodeFrame takes a bare opcode: RSV1 is set on the frame it builds.
    const frame = encodeFrame({ opcode: opcode & 0x0f, payload: bytes, fin, mask: true });
    if (opcode & RSV1) frame[0] |= RSV1;
    this._writer.raw(frame, cb);
  }
}

function noop() {}

function controlBytes(data) {
  const payload = data === undefined ? EMPTY : typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
  if (payload.length > WS_MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
  return payload;
}

module.exports = { Sender };
