// ESM entry: the same objects as the CommonJS entry (one module instance, so `instanceof` and
// FRAME_INCOMPLETE agree whichever way the package is loaded).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ws = require('./index.js');

export const {
  WS_GUID,
  WS_READY_STATE,
  WS_OPCODE,
  WS_CLOSE_CODE,
  WS_MAX_CONTROL_PAYLOAD,
  DEFAULT_WS_BACKPRESSURE_LIMIT,
  DEFAULT_WS_MAX_PAYLOAD_LENGTH,
  DEFAULT_WS_IDLE_TIMEOUT_SECONDS,
  DEFAULT_WS_MAX_FRAGMENTS,
  FRAME_INCOMPLETE,
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
  normalizeWebSocketOptions,
  WebSocketRegistry,
  App,
} = ws;
export default ws;
