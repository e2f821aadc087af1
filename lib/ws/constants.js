'use strict';

// What the `ws`-compatible module shares: ready state names, binary types, defaults.

const { Buffer } = require('node:buffer');

module.exports = {
  /** readyState values by index: CONNECTING 0, OPEN 1, CLOSING 2, CLOSED 3. */
  READY_STATES: Object.freeze(['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']),
  /** What binary messages are delivered as; the first is the default ("blob" where Blob exists). */
  BINARY_TYPES: Object.freeze(['nodebuffer', 'arraybuffer', 'fragments', ...(typeof Blob === 'function' ? ['blob'] : [])]),
  /** Milliseconds a started closing handshake may take before the socket is destroyed (`ws`'s default). */
  CLOSE_TIMEOUT: 30 * 1000,
  /** Largest message by default: 100 MiB, as `ws`. */
  DEFAULT_MAX_PAYLOAD: 100 * 1024 * 1024,
  EMPTY_BUFFER: Buffer.alloc(0),
  /** Option key under which the server hands setSocket() its 101 response, to be staged first. */
  kResponse: Symbol('daloy-ws-native.ws.response'),
};
