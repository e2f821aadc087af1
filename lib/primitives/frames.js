'use strict';

// Whole frames (RFC 6455 §5.2): one decoded at the start of a buffer, one encoded with its header
// and (client to server) its mask, and the opcode and bytes of a send.

const { Buffer } = require('node:buffer');
const binding = require('./addon.js');
const { WS_OPCODE, WS_MAX_CONTROL_PAYLOAD, FRAME_INCOMPLETE } = require('./constants.js');
const { WebSocketProtocolError, fromNative } = require('./errors.js');
const { frameHeaderLength, writeFrameHeader } = require('./frame-header.js');

const EMPTY = new Uint8Array(0);
const DEFINED_OPCODES = new Set([0x0, 0x1, 0x2, 0x8, 0x9, 0xa]);

const frameInfo = new Float64Array(5);

// Argument checks: a typeof or instanceof per call, nothing per byte. Wrong input is refused with
// a TypeError or RangeError naming the argument, never turned into other bytes.

function checkOptions(fn, opts) {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${fn}: options must be an object`);
}

/**
 * Decodes one frame at the start of `buf`, unmasking its payload in place; `payload` is a view of
 * `buf`. Returns FRAME_INCOMPLETE when more bytes are needed.
 */
function parseFrame(buf, opts = {}) {
  if (!(buf instanceof Uint8Array)) throw new TypeError('parseFrame: buf must be a Uint8Array');
  checkOptions('parseFrame', opts);
  const limit = opts.maxPayload;
  if (limit !== undefined && (typeof limit !== 'number' || !(limit >= 0))) {
    throw new RangeError('parseFrame: maxPayload must be a non-negative number or undefined');
  }
  const maxPayload = limit === undefined ? -1 : limit;
  const status = binding.parseFrameInto(buf, Boolean(opts.requireMask), maxPayload, frameInfo);
  if (status === 0) return FRAME_INCOMPLETE;
  if (status < 0) throw fromNative(binding.takeError());
  const start = frameInfo[2];
  return {
    fin: frameInfo[0] === 1,
    opcode: frameInfo[1],
    payload: buf.subarray(start, start + frameInfo[3]),
    consumed: frameInfo[4],
  };
}

// Mask keys come from a pool of random bytes refilled 2,048 keys at a time: one call into the
// random source per key would cost more than masking a small frame.
const maskPool = new Uint8Array(8192);
let maskPoolOffset = maskPool.length;

function nextMaskKey() {
  if (maskPoolOffset === maskPool.length) {
    globalThis.crypto.getRandomValues(maskPool);
    maskPoolOffset = 0;
  }
  const i = maskPoolOffset;
  maskPoolOffset += 4;
  return ((maskPool[i] << 24) | (maskPool[i + 1] << 16) | (maskPool[i + 2] << 8) | maskPool[i + 3]) >>> 0;
}

// A masked payload from this size on is masked in the addon (word-wide XOR); below it a JavaScript
// loop costs less than the call. An unmasked payload is always copied in JavaScript (`set` is a
// memcpy: a call into the addon would only add its own cost).
const NATIVE_MASK_MIN = 32;

/**
 * Encodes one complete frame (header and payload). Unmasked by default (server to client);
 * `mask: true` draws a random key (client to server).
 */
function encodeFrame(opts) {
  checkOptions('encodeFrame', opts);
  const fin = opts.fin !== false;
  const opcode = opts.opcode;
  if (typeof opcode !== 'number') throw new TypeError('encodeFrame: opcode must be a number');
  // RFC 6455 §5.2: 0x3-0x7 and 0xB-0xF are reserved; nothing else fits the 4 bits.
  if (!DEFINED_OPCODES.has(opcode)) {
    throw new RangeError(`encodeFrame: opcode must be one of 0x0, 0x1, 0x2, 0x8, 0x9, 0xA (got ${String(opcode)})`);
  }
  const payload = opts.payload ?? EMPTY;
  if (!(payload instanceof Uint8Array)) throw new TypeError('encodeFrame: payload must be a Uint8Array');
  const masked = opts.mask === true;
  const length = payload.length;
  // RFC 6455 §5.5: control frames must not be fragmented.
  if ((opcode & 0x8) !== 0 && !fin) throw new RangeError('encodeFrame: fin must be true for a control frame');
  if ((opcode & 0x8) !== 0 && length > WS_MAX_CONTROL_PAYLOAD) {
    throw new WebSocketProtocolError('Control frame payload exceeds 125 bytes', {
      code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
      closeCode: 1002,
    });
  }
  const headerLength = frameHeaderLength(length) + (masked ? 4 : 0);
  const total = headerLength + length;
  // Every byte is written below, so nothing is zero-filled. Up to 64 bytes a typed array lives on
  // the engine's heap (the cheapest allocation); to 4 KiB Node's Buffer pool serves the frame (a
  // zero-filled off-heap Uint8Array per frame cost 55-66% of encoding 125 B and 1 KiB frames).
  const out = total <= 64 ? new Uint8Array(total) : total < 4096 ? Buffer.allocUnsafe(total) : Buffer.allocUnsafeSlow(total);
  const key = masked ? nextMaskKey() : undefined;
  if (masked && length >= NATIVE_MASK_MIN) {
    if (binding.encodeFrameInto(out, fin, opcode, payload, key) < 0) throw fromNative(binding.takeError());
    return out;
  }
  const at = writeFrameHeader(out, 0, fin, opcode, masked, length);
  if (masked) {
    out[at] = key >>> 24;
    out[at + 1] = (key >>> 16) & 0xff;
    out[at + 2] = (key >>> 8) & 0xff;
    out[at + 3] = key & 0xff;
    for (let i = 0; i < length; i++) out[headerLength + i] = payload[i] ^ out[at + (i & 3)];
  } else {
    out.set(payload, headerLength);
  }
  return out;
}

/** A string becomes a TEXT payload (UTF-8); bytes become a BINARY payload, without a copy. */
function encodeSendPayload(data) {
  if (typeof data === 'string') return { opcode: WS_OPCODE.TEXT, payload: Buffer.from(data, 'utf8') };
  if (data instanceof Uint8Array) return { opcode: WS_OPCODE.BINARY, payload: data };
  if (ArrayBuffer.isView(data)) {
    return { opcode: WS_OPCODE.BINARY, payload: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  // `new Uint8Array(5)` would be five zero bytes: only a buffer is wrapped.
  if (isArrayBuffer(data)) return { opcode: WS_OPCODE.BINARY, payload: new Uint8Array(data) };
  throw new TypeError('encodeSendPayload: data must be a string, an ArrayBuffer, a SharedArrayBuffer or an ArrayBuffer view');
}

function isArrayBuffer(value) {
  return value instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer);
}

module.exports = { parseFrame, encodeFrame, encodeSendPayload };
