'use strict';

// DaloyJS's `@daloyjs/core/websocket` surface over the native core. Everything that touches
// untrusted bytes runs in Rust; the files beside this one shape arguments and results, and turn
// the binding's error records into WebSocketProtocolError instances (the one conversion, at the
// edge, in errors.js).

const { WebSocketProtocolError, WebSocketPayloadTooLargeError } = require('./errors.js');

/** Returns `handler` unchanged: it exists for type inference of `ctx.params`, `conn.data`. */
function defineWebSocket(handler) {
  return handler;
}

// Every export of constants.js, handshake.js, frames.js, close.js and frame-sink.js, which export
// nothing else. Spread from the require() calls themselves: that is the form Node's ESM loader
// recognises, so `import { WS_OPCODE } from 'daloy-ws-native'` keeps working.
module.exports = {
  ...require('./constants.js'),
  ...require('./handshake.js'),
  ...require('./frames.js'),
  ...require('./close.js'),
  ...require('./frame-sink.js'),
  WebSocketProtocolError,
  WebSocketPayloadTooLargeError,
  defineWebSocket,
};
