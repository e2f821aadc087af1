'use strict';

/**
 * Every RFC 6455 violation. `code` is a stable `WS_ERR_*` identifier (the names `ws` uses) and
 * `closeCode` the status a server answers it with (RFC 6455 §7.4.1: 1002, 1007, 1008 or 1009).
 */
class WebSocketProtocolError extends Error {
  /**
   * @param {string} message
   * @param {{ code?: string, closeCode?: number }} [options]
   */
  constructor(message, options) {
    super(message);
    this.name = 'WebSocketProtocolError';
    this.code = (options && options.code) || 'WS_ERR_PROTOCOL';
    this.closeCode = (options && options.closeCode) || 1002;
  }
}

/** A message (summed over its fragments) or a declared frame length above `maxPayloadLength`. */
class WebSocketPayloadTooLargeError extends WebSocketProtocolError {
  /**
   * @param {number} limit
   * @param {number} actual
   */
  constructor(limit, actual) {
    super(`WebSocket message exceeds maxPayloadLength (${actual} > ${limit})`, {
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      closeCode: 1009,
    });
    this.name = 'WebSocketPayloadTooLargeError';
    Object.defineProperty(this, 'limit', { value: limit, enumerable: true });
    Object.defineProperty(this, 'actual', { value: actual, enumerable: true });
  }
}

/**
 * The one conversion from a native error record to a JavaScript error.
 * @param {{ name: string, message: string, code: string, closeCode: number, limit?: number, actual?: number }} record
 */
function fromNative(record) {
  if (record.name === 'WebSocketPayloadTooLargeError') {
    return new WebSocketPayloadTooLargeError(record.limit, record.actual);
  }
  return new WebSocketProtocolError(record.message, record);
}

module.exports = { WebSocketProtocolError, WebSocketPayloadTooLargeError, fromNative };
