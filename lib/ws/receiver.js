'use strict';

// `ws`'s Receiver, for code that parses a byte stream by hand: a Writable whose bytes go through
// the native FrameSink, emitting `message(data, isBinary)`, `ping(data)`, `pong(data)`,
// `conclude(code, reason)` and `error(err)` as `ws`'s does. WebSocket does not use it: it drives
// its FrameSink directly, without a stream in between.

const { Writable } = require('node:stream');
const { Buffer } = require('node:buffer');
const { FrameSink } = require('../primitives/frame-sink.js');
const { binaryAs } = require('./buffers.js');
const { BINARY_TYPES, EMPTY_BUFFER } = require('./constants.js');
const { wsProtocolError } = require('./errors.js');
const { EXTENSION_NAME } = require('./permessage-deflate.js');

class Receiver extends Writable {
  #sink;
  #binaryType;
  #error = null;

  /**
   * @param {{ binaryType?: string, isServer?: boolean, maxPayload?: number, maxFragments?: number,
   *   extensions?: { [EXTENSION_NAME]?: import('./permessage-deflate.js').PerMessageDeflate } }} [options]
   *   `extensions`: the connection's agreed extensions, as `ws` passes them (compressed messages are inflated)
   */
  constructor(options = {}) {
    super();
    this.#binaryType = BINARY_TYPES.includes(options.binaryType) ? options.binaryType : BINARY_TYPES[0];
    const maxPayload = options.maxPayload | 0;
    const maxFragments = options.maxFragments | 0;
    const receiver = this;
    const deflate = options.extensions === undefined ? undefined : options.extensions[EXTENSION_NAME];
    this.#sink = new FrameSink({
      inflate: deflate === undefined ? undefined : deflate.inflate,
      requireMask: Boolean(options.isServer),
      rejectMask: !options.isServer,
      textAsBytes: true,
      maxPayloadLength: maxPayload > 0 ? maxPayload : Infinity,
      maxFragments: maxFragments > 0 ? maxFragments : 0xffffffff,
      onMessage(event) {
        const data = event.data;
        const message = event.isBinary ? binaryAs(receiver.#binaryType, data) : data;
        receiver.emit('message', message, event.isBinary);
      },
      onPing(payload) {
        receiver.emit('ping', Buffer.from(payload));
      },
      onPong(payload) {
        receiver.emit('pong', Buffer.from(payload));
      },
      onClose(code, reason) {
        receiver.emit('conclude', code, reason === '' ? EMPTY_BUFFER : Buffer.from(reason));
      },
      onProtocolError(err) {
        receiver.#error = wsProtocolError(err);
      },
    });
  }

  _write(chunk, _encoding, cb) {
    this.#sink.push(chunk);
    const err = this.#error;
    this.#error = null;
    cb(err);
  }
}

module.exports = { Receiver };
