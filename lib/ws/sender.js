'use strict';

// `ws`'s Sender: the frames one WebSocket sends, here a thin front over the connection's
// FrameWriter (lib/node/frame-writer.js), which batches them per tick. Server frames are written
// unmasked straight into the writer; client frames are masked by encodeFrame (the addon's
// word-wide XOR) and handed to the writer whole. `Sender.frame()` builds a frame ahead of time
// (socket.io's adapter does, for broadcasts) and `sendFrame()` writes one.

const { Buffer } = require('node:buffer');
const { WS_OPCODE, WS_MAX_CONTROL_PAYLOAD } = require('../primitives/constants.js');
const { encodeFrame } = require('../primitives/frames.js');
const { isValidWireCloseCode } = require('../primitives/close.js');
const { frameHeaderLength, writeFrameHeader } = require('../primitives/frame-header.js');
const { FrameWriter } = require('../node/frame-writer.js');
const { toBuffer } = require('./buffers.js');

const { CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG } = WS_OPCODE;
const EMPTY = Buffer.alloc(0);
// RFC 6455 §5.5: a CLOSE payload is the 2-byte code plus at most 123 bytes of reason.
const MAX_CLOSE_REASON = WS_MAX_CONTROL_PAYLOAD - 2;

class Sender {
  /**
   * @param {import('node:stream').Duplex | FrameWriter} socket the socket, or the writer of its connection
   */
  constructor(socket) {
    this._writer = socket instanceof FrameWriter ? socket : new FrameWriter(socket);
    /** Bytes counted by sends made after the connection stopped being open (`ws`'s bufferedAmount). */
    this._bufferedBytes = 0;
    this._firstFragment = true;
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
    const last = list.length - 1;
    for (let i = 0; i <= last; i++) this._writer.raw(list[i], i === last ? cb : undefined);
  }

  /**
   * One data frame: TEXT or BINARY (`options.binary`), or a continuation of a message sent with
   * `fin: false`.
   */
  send(data, options, cb) {
    this.sendMessage(data, Boolean(options.binary), options.fin !== false, options.mask === true, cb);
  }

  /** send() with its options as arguments (WebSocket#send calls this, without an options object). */
  sendMessage(data, binary, fin, mask, cb) {
    const isString = typeof data === 'string';
    const payload = isString ? data : toBuffer(data);
    const opcode = !this._firstFragment ? CONTINUATION : binary ? BINARY : TEXT;
    this._firstFragment = fin;
    const length = isString ? Buffer.byteLength(payload) : payload.length;
    this.#frame(opcode, payload, length, isString, fin, mask, cb);
  }

  ping(data, mask, cb) {
    const payload = controlBytes(data);
    this.#frame(PING, payload, payload.length, false, true, mask === true, cb);
  }

  pong(data, mask, cb) {
    const payload = controlBytes(data);
    this.#frame(PONG, payload, payload.length, false, true, mask === true, cb);
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
    this.#frame(CLOSE, payload, payload.length, false, true, mask === true, cb);
  }

  #frame(opcode, payload, length, isString, fin, mask, cb) {
    if (!mask) {
      this._writer.frame(opcode, payload, length, isString, fin, cb);
      return;
    }
    const bytes = isString ? Buffer.from(payload) : payload;
    this._writer.raw(encodeFrame({ opcode, payload: bytes, fin, mask: true }), cb);
  }
}

function controlBytes(data) {
  const payload = data === undefined ? EMPTY : typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
  if (payload.length > WS_MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
  return payload;
}

module.exports = { Sender };
