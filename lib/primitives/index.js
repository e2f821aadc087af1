'use strict';

// DaloyJS's `@daloyjs/core/websocket` surface over the native core. Everything that touches
// untrusted bytes runs in Rust; the files beside this one shape arguments and results, and turn
// the binding's error records into WebSocketProtocolError instances (the one conversion, at the
// edge, in errors.js).

const { WebSocketProtocolError, WebSocketPayloadTooLargeError } = require('./errors.js');
const {
  computeAcceptKey,
  computeAcceptKeySync,
  parseSubprotocols,
  validateSelectedSubprotocol,
  validateUpgrade,
  validateUpgradeSync,
  checkWebSocketOrigin,
} = require('./handshake.js');
const { parseFrame, encodeFrame, encodeSendPayload } = require('./frames.js');
const { isValidWireCloseCode, encodeClosePayload, decodeClosePayload } = require('./close.js');
const { FrameSink } = require('./frame-sink.js');

/** Returns `handler` unchanged: it exists for type inference of `ctx.params`, `conn.data`. */
function defineWebSocket(handler) {
  return handler;
}

// Every constant, as constants.js declares it. Spread from the require() call itself: that is the
// form Node's ESM loader recognises, so `import { WS_OPCODE } from 'daloy-ws-native'` keeps working.
module.exports = {
  ...require('./constants.js'),
  WebSocketProtocolError,
  WebSocketPayloadTooLargeError,
  computeAcceptKey,
  computeAcceptKeySync,
  parseSubprotocols,
  validateSelectedSubprotocol,
  validateUpgrade,
  validateUpgradeSync,
  checkWebSocketOrigin,
  parseFrame,
  encodeFrame,
  isValidWireCloseCode,
  encodeClosePayload,
  decodeClosePayload,
  encodeSendPayload,
  defineWebSocket,
  FrameSink,
};
