'use strict';

/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** WHATWG `WebSocket.readyState` values. */
const WS_READY_STATE = Object.freeze({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });

/** RFC 6455 §5.2 opcodes. */
const WS_OPCODE = Object.freeze({
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
});

/** RFC 6455 §7.4.1 status codes in common use. */
const WS_CLOSE_CODE = Object.freeze({
  NORMAL_CLOSURE: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS_RECEIVED: 1005,
  ABNORMAL_CLOSURE: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
});

/** RFC 6455 §5.5: control frames carry at most 125 payload bytes. */
const WS_MAX_CONTROL_PAYLOAD = 125;
/** Queued outbound bytes above which backpressure handling starts (1 MiB). */
const DEFAULT_WS_BACKPRESSURE_LIMIT = 1024 * 1024;
/** Largest inbound message accepted by default (1 MiB). */
const DEFAULT_WS_MAX_PAYLOAD_LENGTH = 1024 * 1024;
/** Seconds without inbound traffic before a connection is closed with 1001. */
const DEFAULT_WS_IDLE_TIMEOUT_SECONDS = 120;
/**
 * Most frames one message may span. High enough for Autobahn|Testsuite's 9.* cases (65,536
 * fragments of 64 bytes); it bounds the per-frame work a peer can make one message cost.
 */
const DEFAULT_WS_MAX_FRAGMENTS = 131072;

/** Returned by `parseFrame` when the buffer does not yet hold a whole frame. */
const FRAME_INCOMPLETE = Symbol('daloy.ws.frameIncomplete');

module.exports = {
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
};
