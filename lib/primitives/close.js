'use strict';

// The CLOSE frame's payload (RFC 6455 §5.5.1, §7.4): which status codes may travel on the wire,
// and the codec of status code and UTF-8 reason (src/close.rs).

const binding = require('./addon.js');
const { WebSocketProtocolError, fromNative } = require('./errors.js');

/** Whether `code` may appear in a CLOSE frame: 1000–1014 but 1004–1006, and 3000–4999. */
function isValidWireCloseCode(code) {
  return typeof code === 'number' && binding.isValidWireCloseCode(code);
}

/** Big-endian status code followed by the UTF-8 reason (RFC 6455 §5.5.1). */
function encodeClosePayload(code, reason = '') {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
    throw new WebSocketProtocolError(`Invalid close status code ${code}`, {
      code: 'WS_ERR_INVALID_CLOSE_CODE',
      closeCode: 1002,
    });
  }
  if (typeof reason !== 'string') throw new TypeError('encodeClosePayload: reason must be a string');
  const payload = binding.encodeClosePayload(code, reason);
  if (payload === null) throw fromNative(binding.takeError());
  return payload;
}

/** `{ code, reason }` of a CLOSE payload; an empty payload gives `{ code: 1005, reason: "" }`. */
function decodeClosePayload(payload) {
  if (!(payload instanceof Uint8Array)) throw new TypeError('decodeClosePayload: payload must be a Uint8Array');
  const decoded = binding.decodeClosePayload(payload);
  if (decoded === null) throw fromNative(binding.takeError());
  return decoded;
}

module.exports = { isValidWireCloseCode, encodeClosePayload, decodeClosePayload };
