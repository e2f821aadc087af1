'use strict';

// The public entry: DaloyJS's `@daloyjs/core/websocket` surface over the native core. Everything
// that touches untrusted bytes runs in Rust; this file shapes arguments and results, and turns the
// binding's error records into WebSocketProtocolError instances (the one conversion, at the edge).

const { Buffer } = require('node:buffer');
const binding = require('./lib/primitives/native.js');
const {
  WS_OPCODE,
  WS_MAX_CONTROL_PAYLOAD,
  DEFAULT_WS_MAX_PAYLOAD_LENGTH,
  DEFAULT_WS_MAX_FRAGMENTS,
  FRAME_INCOMPLETE,
} = require('./lib/constants.js');
const { WebSocketProtocolError, WebSocketPayloadTooLargeError, fromNative } = require('./lib/errors.js');
const { frameHeaderLength, writeFrameHeader } = require('./lib/frame-header.js');

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------- handshake

/** `base64(SHA-1(key + WS_GUID))` (RFC 6455 §4.2.2), synchronously. */
function computeAcceptKeySync(key) {
  return binding.computeAcceptKey(String(key));
}

/** `base64(SHA-1(key + WS_GUID))` (RFC 6455 §4.2.2). A Promise, as DaloyJS returns. */
async function computeAcceptKey(key) {
  return computeAcceptKeySync(key);
}

/** Offered subprotocols: split on `,`, trimmed, empties dropped, client order kept. */
function parseSubprotocols(header) {
  if (!header) return [];
  return binding.parseSubprotocols(String(header));
}

function subprotocolError(message) {
  return new WebSocketProtocolError(message, { code: 'WS_ERR_INVALID_SUBPROTOCOL', closeCode: 1002 });
}

/** Returns `protocol` if it is an HTTP token the client offered; throws otherwise. */
function validateSelectedSubprotocol(protocol, offered) {
  if (typeof protocol !== 'string' || !binding.isHttpToken(protocol)) {
    throw subprotocolError('Selected WebSocket subprotocol must be a valid HTTP token');
  }
  if (!Array.isArray(offered) || !offered.includes(protocol)) {
    throw subprotocolError('Selected WebSocket subprotocol was not offered by the client');
  }
  return protocol;
}

// A `Headers`-like object (`get(name)`) or a Node `IncomingHttpHeaders` object (lower-case keys;
// repeated headers arrive as arrays or joined with ", ").
function headerValue(headers, name) {
  if (headers == null) return undefined;
  if (typeof headers.get === 'function') {
    const value = headers.get(name);
    return value == null ? undefined : String(value);
  }
  const value = headers[name];
  if (value == null) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** Checks the opening handshake (RFC 6455 §4.2.1) and computes the accept key, synchronously. */
function validateUpgradeSync(headers) {
  const verdict = binding.validateUpgradeHeaders(
    headerValue(headers, 'upgrade'),
    headerValue(headers, 'connection'),
    headerValue(headers, 'sec-websocket-version'),
    headerValue(headers, 'sec-websocket-key'),
    headerValue(headers, 'sec-websocket-protocol'),
  );
  if (verdict.ok) return { ok: true, acceptKey: verdict.acceptKey, protocols: verdict.protocols };
  return { ok: false, status: verdict.status, reason: verdict.reason };
}

/** Checks the opening handshake (RFC 6455 §4.2.1) and computes the accept key. */
async function validateUpgrade(headers) {
  return validateUpgradeSync(headers);
}

/**
 * Applies a route's `allowedOrigins` policy to an upgrade request (Cross-Site WebSocket Hijacking
 * defence): `undefined` allows all; a function decides (a throw rejects); `"same-origin"` and
 * allow-lists admit requests without an Origin header (not a browser).
 */
function checkWebSocketOrigin(request, policy) {
  if (policy === undefined) return { ok: true };
  const origin = headerValue(request && request.headers, 'origin') ?? null;
  if (typeof policy === 'function') {
    let allowed;
    try {
      allowed = policy(origin, request) === true;
    } catch {
      return { ok: false, reason: 'WebSocket origin check failed' };
    }
    return allowed ? { ok: true } : { ok: false, reason: 'WebSocket upgrade rejected by origin policy' };
  }
  if (origin === null) return { ok: true };
  if (policy === 'same-origin') {
    let own;
    try {
      own = new URL(request.url).origin;
    } catch {
      return { ok: false, reason: 'WebSocket origin check failed' };
    }
    return origin === own
      ? { ok: true }
      : { ok: false, reason: 'WebSocket upgrade rejected: cross-origin handshake' };
  }
  if (!Array.isArray(policy)) return { ok: false, reason: 'WebSocket origin policy is invalid' };
  return policy.includes(origin)
    ? { ok: true }
    : { ok: false, reason: 'WebSocket upgrade rejected: origin not allowlisted' };
}

// ---------------------------------------------------------------- frames

const frameInfo = new Float64Array(5);

/**
 * Decodes one frame at the start of `buf`, unmasking its payload in place; `payload` is a view of
 * `buf`. Returns FRAME_INCOMPLETE when more bytes are needed.
 */
function parseFrame(buf, opts = {}) {
  const maxPayload = opts.maxPayload === undefined ? -1 : Number(opts.maxPayload);
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
  const fin = opts.fin !== false;
  const opcode = opts.opcode & 0x0f;
  const payload = opts.payload ?? EMPTY;
  const masked = opts.mask === true;
  const length = payload.length;
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
  const payload = binding.encodeClosePayload(code, String(reason));
  if (payload === null) throw fromNative(binding.takeError());
  return payload;
}

/** `{ code, reason }` of a CLOSE payload; an empty payload gives `{ code: 1005, reason: "" }`. */
function decodeClosePayload(payload) {
  const decoded = binding.decodeClosePayload(payload);
  if (decoded === null) throw fromNative(binding.takeError());
  return decoded;
}

/** A string becomes a TEXT payload (UTF-8); bytes become a BINARY payload, without a copy. */
function encodeSendPayload(data) {
  if (typeof data === 'string') return { opcode: WS_OPCODE.TEXT, payload: Buffer.from(data, 'utf8') };
  if (data instanceof Uint8Array) return { opcode: WS_OPCODE.BINARY, payload: data };
  if (ArrayBuffer.isView(data)) {
    return { opcode: WS_OPCODE.BINARY, payload: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  return { opcode: WS_OPCODE.BINARY, payload: new Uint8Array(data) };
}

/** Returns `handler` unchanged: it exists for type inference of `ctx.params`, `conn.data`. */
function defineWebSocket(handler) {
  return handler;
}

// ---------------------------------------------------------------- streaming assembler

// The event table the binding fills on each push (layout in src/binding/sink.rs): a head of four
// words (event count, arena bytes used, flags, bytes buffered), then four words per event (kind with
// OWNED, arena offset or owned index, length, close code). One table serves every sink; a push
// made from inside another push's callback gets a table of its own.
const TABLE_HEAD = 4;
const TABLE_EVENTS = 1024;
const TABLE_LENGTH = TABLE_HEAD + 4 * TABLE_EVENTS;
const OWNED = 0x100;
const ASCII = 0x200;
const STRING = 0x400;
const FLAG_ERROR = 1;
const FLAG_MORE = 2;
let sharedTable = new Uint32Array(TABLE_LENGTH);
let pushDepth = 0;

// Payloads of a push are written into a shared arena that only moves forward, like Node's buffer
// pool: a binary message is a view of it that no later push overwrites, so it stays the receiver's.
const ARENA_MIN = 64 * 1024;
const ARENA_CARRY_MAX = 16 * 1024;
let arena = Buffer.allocUnsafeSlow(ARENA_MIN);
let arenaOffset = 0;

const decodeText =
  typeof Buffer.prototype.utf8Slice === 'function'
    ? (buf, start, end) => buf.utf8Slice(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);
// Where the engine turns UTF-8 into a string slowly, the binding builds non-ASCII text into strings
// itself, through UTF-16 (src/utf16.rs): V8 before 13 (Node 20 and 22) decodes mixed text at about
// 0.3 GB/s, Deno's Buffer at 0.65, while building from UTF-16 runs at about 6. Node 24 and Bun
// decode at 2-2.5 GB/s themselves.
// DALOY_WS_NATIVE_UTF16=1 or 0 forces the choice (the test scripts run the text suite both ways).
const NATIVE_UTF16 = (() => {
  let forced;
  try {
    forced = process.env.DALOY_WS_NATIVE_UTF16;
  } catch {
    // No process, or no permission to read the environment (Deno without --allow-env).
  }
  if (forced === '1' || forced === '0') return forced === '1';
  const versions = typeof process === 'object' && process !== null ? process.versions : undefined;
  if (versions === undefined || versions.bun !== undefined) return false;
  if (versions.deno !== undefined) return true;
  return Number.parseInt(String(versions.v8), 10) < 13;
})();

// ASCII text (the binding flags it) becomes a string by a plain copy.
const decodeAscii =
  typeof Buffer.prototype.latin1Slice === 'function'
    ? (buf, start, end) => buf.latin1Slice(start, end)
    : decodeText;

function toBytes(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError('FrameSink.push expects a Uint8Array, an ArrayBuffer or an ArrayBuffer view');
}

function positiveLimit(name, value, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`FrameSink: ${name} must be a non-negative number`);
  }
  return value;
}

/**
 * Streaming RFC 6455 parser for one connection. `push(chunk)` with socket bytes split anywhere;
 * complete messages and control frames reach the callbacks in order. After `onClose` or
 * `onProtocolError` all input is ignored.
 */
class FrameSink {
  #events;
  #native;
  #done = false;
  #buffered = 0;
  // A batch whose dispatch a callback interrupted by throwing: delivered first by the next push.
  #pending = null;

  constructor(opts) {
    if (opts == null || typeof opts !== 'object') throw new TypeError('FrameSink: options are required');
    this.#events = opts;
    const maxPayloadLength = positiveLimit('maxPayloadLength', opts.maxPayloadLength, DEFAULT_WS_MAX_PAYLOAD_LENGTH);
    const maxFragments = positiveLimit('maxFragments', opts.maxFragments, DEFAULT_WS_MAX_FRAGMENTS);
    this.#native = new binding.NativeFrameSink(
      opts.requireMask === true,
      maxPayloadLength,
      Math.min(Math.floor(maxFragments), 0xffffffff),
      NATIVE_UTF16,
    );
  }

  /** Bytes held for an unfinished frame header or message. */
  get bufferedAmount() {
    return this.#buffered;
  }

  /** Feeds socket bytes. A callback's exception propagates; undelivered events wait for the next push. */
  push(chunk) {
    if (this.#pending !== null) {
      const { table, next, arena: slab, owned, flags } = this.#pending;
      this.#pending = null;
      this.#run(table, next, slab, owned, flags);
    }
    if (this.#done) return;
    const bytes = toBytes(chunk);
    const length = bytes.length;
    if (length === 0) return;

    // Room for every payload of this chunk, one control frame carried from the previous push and a
    // small carried message; a larger carried message comes back as its own buffer.
    const carried = this.#buffered <= ARENA_CARRY_MAX ? this.#buffered : 0;
    const need = length + WS_MAX_CONTROL_PAYLOAD + carried;
    if (arena.length - arenaOffset < need) {
      arena = Buffer.allocUnsafeSlow(need > ARENA_MIN ? need : ARENA_MIN);
      arenaOffset = 0;
    }
    const slab = arena;
    const base = arenaOffset;
    const table = pushDepth === 0 ? sharedTable : new Uint32Array(TABLE_LENGTH);
    pushDepth++;
    try {
      const owned = binding.sinkPush(this.#native, bytes, slab, base, table);
      arenaOffset = base + table[1];
      this.#buffered = table[3];
      this.#run(table, 0, slab, owned, table[2]);
    } finally {
      pushDepth--;
    }
  }

  #run(table, next, slab, owned, flags) {
    for (;;) {
      const count = table[0];
      let i = next;
      try {
        for (; i < count; i++) this.#deliver(table, TABLE_HEAD + 4 * i, slab, owned);
      } catch (err) {
        if (i + 1 < count || (flags & (FLAG_MORE | FLAG_ERROR)) !== 0) {
          this.#pending = { table: table.slice(0, TABLE_HEAD + 4 * count), next: i + 1, arena: slab, owned, flags };
        }
        throw err;
      }
      if ((flags & FLAG_MORE) !== 0) {
        // The batch had more events than the table holds: fetch the next part.
        if (table.length < TABLE_LENGTH) table = new Uint32Array(TABLE_LENGTH);
        owned = this.#native.next(table);
        flags = table[2];
        next = 0;
        continue;
      }
      if ((flags & FLAG_ERROR) !== 0) {
        this.#done = true;
        this.#events.onProtocolError(fromNative(this.#native.takeError()));
      }
      return;
    }
  }

  #deliver(table, at, slab, owned) {
    const kind = table[at];
    const length = table[at + 2];
    let source = slab;
    let start = table[at + 1];
    if ((kind & OWNED) !== 0) {
      source = owned[start];
      start = 0;
    }
    const end = start + length;
    switch (kind & 0xff) {
      case 0x1:
        this.#events.onMessage({
          data:
            (kind & STRING) !== 0
              ? source
              : (kind & ASCII) !== 0
                ? decodeAscii(source, start, end)
                : decodeText(source, start, end),
          isBinary: false,
        });
        break;
      case 0x2:
        this.#events.onMessage({
          data: start === 0 && end === source.length ? source : source.subarray(start, end),
          isBinary: true,
        });
        break;
      case 0x9:
        this.#events.onPing(source.subarray(start, end));
        break;
      case 0xa:
        this.#events.onPong(source.subarray(start, end));
        break;
      case 0x8:
        this.#done = true;
        this.#events.onClose(table[at + 3], decodeText(source, start, end));
        break;
    }
  }
}

// Every constant, as lib/constants.js declares it. Spread from the require() call itself: that is
// the form Node's ESM loader recognises, so `import { WS_OPCODE } from './index.js'` keeps working.
module.exports = {
  ...require('./lib/constants.js'),
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

// Last, so that lib/app.js may use the primitives above: `App` lives with the server wiring.
module.exports.App = require('./lib/app.js').App;
