'use strict';

// What the connection methods accept and what message handlers receive, shared by the Node wiring
// (lib/node/connection.js) and the Bun/Deno one (lib/web/connection.js): bytes of a send/ping/pong
// argument, the payload of a control frame, ArrayBuffers for binaryType "arraybuffer", and
// protocol-error messages cut to fit a CLOSE frame.

const { Buffer } = require('node:buffer');
const { WS_CLOSE_CODE, WS_MAX_CONTROL_PAYLOAD } = require('../primitives/constants.js');
const { WebSocketProtocolError } = require('../primitives/errors.js');

const EMPTY = new Uint8Array(0);
// RFC 6455 §5.5: a CLOSE payload is the 2-byte code plus at most 123 bytes of reason.
const MAX_CLOSE_REASON = WS_MAX_CONTROL_PAYLOAD - 2;

/** Bytes of a send/ping/pong argument, without a copy. */
function bytesOf(data, what) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data);
  }
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} expects a string, an ArrayBuffer or an ArrayBuffer view`);
}

/** The payload of a PING or PONG (none, a string or bytes); more than 125 bytes throws. */
function controlPayload(data) {
  const payload = data === undefined ? EMPTY : typeof data === 'string' ? Buffer.from(data, 'utf8') : bytesOf(data, 'ping()/pong()');
  if (payload.length > WS_MAX_CONTROL_PAYLOAD) {
    throw new WebSocketProtocolError('Control frame payload exceeds 125 bytes', {
      code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
      closeCode: WS_CLOSE_CODE.PROTOCOL_ERROR,
    });
  }
  return payload;
}

/** The bytes of a view as an ArrayBuffer: its own buffer when it spans all of it, else a copy. */
function toArrayBuffer(view) {
  const buffer = view.buffer;
  if (view.byteOffset === 0 && view.byteLength === buffer.byteLength) return buffer;
  return buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

/** A protocol error's message as a CLOSE reason: at most 123 bytes (the messages are ASCII). */
function closeReason(message) {
  const reason = String(message);
  return Buffer.byteLength(reason) <= MAX_CLOSE_REASON ? reason : reason.slice(0, MAX_CLOSE_REASON);
}

module.exports = { bytesOf, controlPayload, toArrayBuffer, closeReason };
