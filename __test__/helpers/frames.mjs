// Frame builders, a seeded PRNG and a recording FrameSink shared by the primitives suites.
// Frames are built by hand here (not with encodeFrame) so the suites can produce invalid frames,
// non-minimal length forms and chosen masking keys.

import assert from 'node:assert/strict';
import { FrameSink, WebSocketProtocolError, WebSocketPayloadTooLargeError } from '../../index.mjs';

export const EMPTY = new Uint8Array(0);
export const RFC_KEY = [0x37, 0xfa, 0x21, 0x3d];

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/** Lower-case hex of bytes, for readable comparisons. */
export function hex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes from a hex string (spaces allowed). */
export function fromHex(text) {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** One Uint8Array holding all the given byte sequences. */
export function concat(...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * mulberry32: a small seeded PRNG, so every random stream in the suites is reproducible from its
 * seed (printed in assertion messages).
 */
export function prng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const rng = {
    next,
    /** Integer in [0, n). */
    int: (n) => Math.floor((next() / 2 ** 32) * n),
    /** Integer in [lo, hi]. */
    range: (lo, hi) => lo + Math.floor((next() / 2 ** 32) * (hi - lo + 1)),
    chance: (p) => next() / 2 ** 32 < p,
    pick: (items) => items[Math.floor((next() / 2 ** 32) * items.length)],
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
    key() {
      const v = next();
      return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    },
  };
  return rng;
}

/**
 * A frame header: `length` is the declared payload length, `lengthForm` forces the 7-bit (7),
 * 16-bit (16) or 64-bit (64) encoding (default: minimal), `key` is the masking key (omitted when
 * `mask` is false).
 */
export function frameHeader({ fin = true, rsv = 0, opcode, length, mask = true, key = RFC_KEY, lengthForm }) {
  const form = lengthForm ?? (length < 126 ? 7 : length < 65536 ? 16 : 64);
  const bytes = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  if (form === 7) {
    bytes.push(maskBit | length);
  } else if (form === 16) {
    bytes.push(maskBit | 126, (length >>> 8) & 0xff, length & 0xff);
  } else {
    const hi = Math.floor(length / 2 ** 32);
    const lo = length >>> 0;
    bytes.push(
      maskBit | 127,
      (hi >>> 24) & 0xff,
      (hi >>> 16) & 0xff,
      (hi >>> 8) & 0xff,
      hi & 0xff,
      (lo >>> 24) & 0xff,
      (lo >>> 16) & 0xff,
      (lo >>> 8) & 0xff,
      lo & 0xff,
    );
  }
  if (mask) bytes.push(...key);
  return new Uint8Array(bytes);
}

/** A whole frame; masked with `key` (default: the RFC 6455 §5.7 key) unless `mask` is false. */
export function frame({ fin = true, rsv = 0, opcode, payload = EMPTY, mask = true, key = RFC_KEY, lengthForm }) {
  const header = frameHeader({ fin, rsv, opcode, length: payload.length, mask, key, lengthForm });
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  for (let i = 0; i < payload.length; i++) out[header.length + i] = mask ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}

/** Masked client frames, the common case of the suites. */
export const text = (str, extra = {}) => frame({ opcode: 0x1, payload: utf8(str), ...extra });
export const binary = (bytes, extra = {}) => frame({ opcode: 0x2, payload: Uint8Array.from(bytes), ...extra });
export const cont = (bytes, extra = {}) => frame({ opcode: 0x0, payload: Uint8Array.from(bytes), ...extra });
export const ping = (bytes = [], extra = {}) => frame({ opcode: 0x9, payload: Uint8Array.from(bytes), ...extra });
export const pong = (bytes = [], extra = {}) => frame({ opcode: 0xa, payload: Uint8Array.from(bytes), ...extra });
export const close = (bytes = [], extra = {}) => frame({ opcode: 0x8, payload: Uint8Array.from(bytes), ...extra });

/** A CLOSE payload built by hand (code big-endian, then the reason bytes). */
export function closeBytes(code, reason = EMPTY) {
  const r = typeof reason === 'string' ? utf8(reason) : reason;
  return concat(new Uint8Array([code >>> 8, code & 0xff]), r);
}

/** The observable fields of an error, for deepEqual. */
export function describeError(err) {
  const out = {
    class:
      err instanceof WebSocketPayloadTooLargeError
        ? 'WebSocketPayloadTooLargeError'
        : err instanceof WebSocketProtocolError
          ? 'WebSocketProtocolError'
          : err?.constructor?.name,
    name: err.name,
    message: err.message,
    code: err.code,
    closeCode: err.closeCode,
  };
  if (err instanceof WebSocketPayloadTooLargeError) {
    out.limit = err.limit;
    out.actual = err.actual;
  }
  return out;
}

/** Expected error record for describeError comparisons. */
export function protocolError(message, code, closeCode = 1002) {
  return { class: 'WebSocketProtocolError', name: 'WebSocketProtocolError', message, code, closeCode };
}

export function tooLargeError(limit, actual) {
  return {
    class: 'WebSocketPayloadTooLargeError',
    name: 'WebSocketPayloadTooLargeError',
    message: `WebSocket message exceeds maxPayloadLength (${actual} > ${limit})`,
    code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    closeCode: 1009,
    limit,
    actual,
  };
}

/** Asserts `err` is the given protocol error (class, name, message, code, closeCode). */
export function assertError(err, expected) {
  assert.ok(err instanceof Error, `expected an Error, got ${err}`);
  assert.ok(err instanceof WebSocketProtocolError, `expected a WebSocketProtocolError, got ${err?.name}: ${err?.message}`);
  assert.deepEqual(describeError(err), expected);
}

/** Runs `fn`, expects it to throw the given protocol error. */
export function assertThrowsProtocol(fn, expected) {
  let thrown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown !== undefined, `expected ${expected.message} to be thrown`);
  assertError(thrown, expected);
}

/**
 * A FrameSink that records its callbacks as plain records (`text`, `binary`, `ping`, `pong`,
 * `close`, `error`). Binary messages are recorded as hex at delivery time and kept in `held` so a
 * test can check later that they did not change. `errors` keeps the error objects.
 */
export function recordingSink(options = {}, hooks = {}) {
  const events = [];
  const held = [];
  const errors = [];
  const sink = new FrameSink({
    requireMask: true,
    ...options,
    onMessage(ev) {
      assert.equal(typeof ev.isBinary, 'boolean');
      if (ev.isBinary) {
        assert.ok(ev.data instanceof Uint8Array, 'a binary message is a Uint8Array');
        const record = { type: 'binary', hex: hex(ev.data) };
        events.push(record);
        held.push({ data: ev.data, hex: record.hex });
      } else {
        assert.equal(typeof ev.data, 'string', 'a text message is a string');
        events.push({ type: 'text', data: ev.data });
      }
      hooks.onMessage?.(ev);
    },
    onPing(payload) {
      assert.ok(payload instanceof Uint8Array);
      events.push({ type: 'ping', hex: hex(payload) });
      hooks.onPing?.(payload);
    },
    onPong(payload) {
      assert.ok(payload instanceof Uint8Array);
      events.push({ type: 'pong', hex: hex(payload) });
      hooks.onPong?.(payload);
    },
    onClose(code, reason) {
      events.push({ type: 'close', code, reason });
      hooks.onClose?.(code, reason);
    },
    onProtocolError(err) {
      errors.push(err);
      events.push({ type: 'error', ...describeError(err) });
      hooks.onProtocolError?.(err);
    },
  });
  return { sink, events, held, errors };
}

/** Asserts every binary message a recording sink delivered still holds the bytes it had then. */
export function assertHeldUnchanged(held) {
  for (const [i, entry] of held.entries()) {
    assert.equal(hex(entry.data), entry.hex, `binary message #${i} changed after delivery`);
  }
}

/** Feeds `bytes` to a fresh recording sink in the given chunk lengths (each chunk a fresh copy). */
export function feedSplit(bytes, cuts, options = {}) {
  const rec = recordingSink(options);
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    rec.sink.push(bytes.slice(start, cut));
    start = cut;
  }
  assertHeldUnchanged(rec.held);
  return rec.events;
}
