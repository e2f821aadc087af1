// Every exported function fed random JavaScript values: each call either returns a correct result
// (checked against a reference written here) or throws one of the documented error classes
// (TypeError or RangeError naming the argument, WebSocketProtocolError for a protocol rule, a
// plain Error with DaloyJS's message for a route option). Never wrong bytes, never a crash.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Buffer } from 'node:buffer';
import * as ws from '../index.mjs';
import { prng, frame as clientFrame } from './helpers/frames.mjs';

const {
  WS_GUID,
  FRAME_INCOMPLETE,
  WebSocketProtocolError,
  encodeFrame,
  parseFrame,
  encodeSendPayload,
  computeAcceptKey,
  computeAcceptKeySync,
  parseSubprotocols,
  validateSelectedSubprotocol,
  validateUpgradeSync,
  validateUpgrade,
  checkWebSocketOrigin,
  isValidWireCloseCode,
  encodeClosePayload,
  decodeClosePayload,
  FrameSink,
  normalizeWebSocketOptions,
  WebSocketRegistry,
  App,
} = ws;

const ROUNDS = 3000;
const ARGUMENT_ERRORS = [TypeError, RangeError];
const PRIMITIVE_ERRORS = [TypeError, RangeError, WebSocketProtocolError];

/** Random JavaScript values, biased towards the shapes the functions take. */
function values(rng) {
  const scalar = () =>
    rng.pick([
      () => undefined,
      () => null,
      () => rng.chance(0.5),
      () => rng.range(-3, 20),
      () => rng.pick([0, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -1, 65535, 65536, 1000, 1005, 3000, 4999, 5000]),
      () => BigInt(rng.range(-5, 5)),
      () => rng.pick(['', 'abc', 'websocket', 'Upgrade', 'chat, superchat', ' a , ,b ', '\ud800', 'é'.repeat(rng.int(70)), 'dGhlIHNhbXBsZSBub25jZQ==']),
      () => Symbol('s'),
      () => () => true,
      () => rng.bytes(rng.int(140)),
      () => Buffer.from(rng.bytes(rng.int(10))),
      () => new Uint16Array(rng.int(4)),
      () => new DataView(new ArrayBuffer(rng.int(6))),
      () => new ArrayBuffer(rng.int(6)),
      () => new Date(0),
      () => new Map(),
      () => ({ toString: () => 'x', valueOf: () => 7 }),
      () => clientFrame({ opcode: rng.pick([1, 2, 8, 9, 0xa, 3]), payload: rng.bytes(rng.int(20)), mask: rng.chance(0.5) }),
    ])();
  const any = () => {
    const roll = rng.int(10);
    if (roll < 6) return scalar();
    if (roll < 8) return Array.from({ length: rng.int(4) }, scalar);
    const keys = ['opcode', 'payload', 'fin', 'mask', 'maxPayload', 'requireMask', 'maxPayloadLength', 'onMessage', 'onPing', 'onPong', 'onClose', 'onProtocolError', 'get', 'idleTimeout', 'allowedOrigins', 'perMessageDeflate', 'origin', 'url', 'headers'];
    const obj = {};
    for (let i = rng.int(6); i > 0; i--) obj[rng.pick(keys)] = rng.chance(0.2) ? () => undefined : scalar();
    return obj;
  };
  return { scalar, any };
}

/** Calls `round(generator, i)` `count` times with one generator of values seeded by `seed` (reproducible). */
async function rounds(seed, count, round) {
  const rng = prng(seed);
  const generator = { rng, ...values(rng) };
  for (let i = 0; i < count; i++) await round(generator, i);
}

function isOneOf(err, classes) {
  return classes.some((C) => err instanceof C);
}

/** Runs `fn`; a throw must be one of `classes`; returns `{ value }` or `{ error }`. */
function attempt(fn, classes, describeArgs) {
  try {
    return { value: fn() };
  } catch (error) {
    assert.ok(isOneOf(error, classes), `${describeArgs()}: threw ${error && error.name}: ${error && error.message}`);
    return { error };
  }
}

function show(v) {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return 'Symbol()';
  if (typeof v === 'function') return 'function';
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// An independent decoder of one unmasked or masked frame: what the bytes mean on the wire.
function decode(bytes) {
  const fin = (bytes[0] & 0x80) !== 0;
  const opcode = bytes[0] & 0x0f;
  assert.equal(bytes[0] & 0x70, 0, 'RSV bits set');
  const masked = (bytes[1] & 0x80) !== 0;
  let length = bytes[1] & 0x7f;
  let at = 2;
  if (length === 126) {
    length = (bytes[2] << 8) | bytes[3];
    at = 4;
    assert.ok(length >= 126, 'non-minimal 16-bit length');
  } else if (length === 127) {
    length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(2));
    at = 10;
    assert.ok(length >= 65536, 'non-minimal 64-bit length');
  }
  let payload = bytes.subarray(at + (masked ? 4 : 0));
  if (masked) {
    const key = bytes.subarray(at, at + 4);
    payload = payload.map((b, i) => b ^ key[i & 3]);
  }
  assert.equal(payload.length, length, 'declared length');
  return { fin, opcode, payload };
}

const DEFINED = new Set([0, 1, 2, 8, 9, 10]);

describe('every export, fed random values', () => {
  test('encodeFrame: a frame that decodes to exactly its input, or TypeError/RangeError/WebSocketProtocolError', async () => {
    let encoded = 0;
    await rounds(0x11, ROUNDS, ({ rng, any, scalar }) => {
      const opts = rng.chance(0.7)
        ? { opcode: rng.chance(0.6) ? rng.pick([0, 1, 2, 8, 9, 10]) : scalar(), payload: rng.chance(0.7) ? rng.bytes(rng.pick([0, 5, 125, 126, 300])) : scalar(), fin: rng.chance(0.8) ? rng.chance(0.7) : scalar(), mask: rng.chance(0.5) }
        : any();
      const r = attempt(() => encodeFrame(opts), PRIMITIVE_ERRORS, () => `encodeFrame(${show(opts)})`);
      if (r.error !== undefined) {
        if (r.error instanceof WebSocketProtocolError) assert.match(r.error.message, /Control frame payload exceeds 125 bytes/);
        return;
      }
      encoded++;
      assert.ok(opts !== null && typeof opts === 'object');
      assert.ok(DEFINED.has(opts.opcode), `accepted opcode ${show(opts.opcode)}`);
      const payload = opts.payload ?? new Uint8Array(0);
      assert.ok(payload instanceof Uint8Array, `accepted payload ${show(opts.payload)}`);
      const out = decode(r.value);
      assert.ok(out.opcode === opts.opcode, `opcode ${out.opcode}`);
      assert.equal(out.fin, opts.fin !== false);
      if (opts.opcode >= 8) assert.equal(out.fin, true);
      assert.deepEqual(Buffer.from(out.payload), Buffer.from(payload));
    });
    assert.ok(encoded > ROUNDS / 5, `only ${encoded} calls encoded anything`);
  });

  test('encodeFrame names the argument it refuses', () => {
    assert.throws(() => encodeFrame(), { name: 'TypeError', message: /options/ });
    assert.throws(() => encodeFrame(null), { name: 'TypeError', message: /options/ });
    for (const opcode of [3, 7, 0xb, 0xf, 16, -1, 1.5, NaN]) assert.throws(() => encodeFrame({ opcode }), { name: 'RangeError', message: /opcode/ }, String(opcode));
    assert.throws(() => encodeFrame({ opcode: '1' }), { name: 'TypeError', message: /opcode/ });
    assert.throws(() => encodeFrame({ opcode: 1, payload: 'hello' }), { name: 'TypeError', message: /payload/ });
    assert.throws(() => encodeFrame({ opcode: 2, payload: [1, 2] }), { name: 'TypeError', message: /payload/ });
    assert.throws(() => encodeFrame({ opcode: 9, fin: false }), { name: 'RangeError', message: /fin/ });
    assert.throws(() => encodeFrame({ opcode: 8, fin: false, payload: new Uint8Array(2) }), { name: 'RangeError', message: /fin/ });
  });

  test('parseFrame: a frame of the buffer, FRAME_INCOMPLETE, or a documented error', async () => {
    await rounds(0x22, ROUNDS, ({ rng, any, scalar }) => {
      const buf = rng.chance(0.6) ? clientFrame({ opcode: rng.pick([0, 1, 2, 3, 8, 9, 10]), payload: rng.bytes(rng.int(200)), mask: rng.chance(0.7) }).subarray(0, rng.chance(0.8) ? undefined : rng.int(8)) : scalar();
      const opts = rng.chance(0.5) ? undefined : rng.chance(0.6) ? { requireMask: rng.chance(0.5), maxPayload: rng.chance(0.5) ? rng.pick([0, 10, 1000]) : scalar() } : any();
      const r = attempt(() => parseFrame(buf, opts), PRIMITIVE_ERRORS, () => `parseFrame(${show(buf)}, ${show(opts)})`);
      if (r.error !== undefined || r.value === FRAME_INCOMPLETE) return;
      assert.ok(buf instanceof Uint8Array);
      assert.equal(r.value.payload.buffer, buf.buffer, 'payload is a view of buf');
      assert.ok(r.value.consumed <= buf.length);
    });
    assert.throws(() => parseFrame('abc'), { name: 'TypeError', message: /buf/ });
    assert.throws(() => parseFrame(new ArrayBuffer(2)), { name: 'TypeError', message: /buf/ });
    assert.throws(() => parseFrame(new Uint8Array(2), null), { name: 'TypeError', message: /options/ });
    assert.throws(() => parseFrame(new Uint8Array(2), { maxPayload: '10' }), { name: 'RangeError', message: /maxPayload/ });
    assert.throws(() => parseFrame(new Uint8Array(2), { maxPayload: NaN }), { name: 'RangeError', message: /maxPayload/ });
  });

  test('encodeSendPayload: the bytes of its input, or a TypeError', async () => {
    await rounds(0x33, ROUNDS, ({ any }) => {
      const data = any();
      const r = attempt(() => encodeSendPayload(data), ARGUMENT_ERRORS, () => `encodeSendPayload(${show(data)})`);
      if (r.error !== undefined) {
        assert.ok(typeof data !== 'string' && !ArrayBuffer.isView(data) && !(data instanceof ArrayBuffer));
        return;
      }
      const expected =
        typeof data === 'string'
          ? Buffer.from(data, 'utf8')
          : ArrayBuffer.isView(data)
            ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
            : Buffer.from(data);
      assert.equal(r.value.opcode, typeof data === 'string' ? 1 : 2);
      assert.deepEqual(Buffer.from(r.value.payload), expected);
    });
    assert.throws(() => encodeSendPayload(5), { name: 'TypeError', message: /data/ });
    assert.throws(() => encodeSendPayload(undefined), { name: 'TypeError', message: /data/ });
    assert.throws(() => encodeSendPayload([1, 2]), { name: 'TypeError', message: /data/ });
  });

  test('computeAcceptKey: RFC 6455 §4.2.2 for a string, a TypeError (or a rejection) for anything else', async () => {
    await rounds(0x44, ROUNDS / 3, async ({ rng, any }) => {
      const key = rng.chance(0.3) ? rng.bytes(16).toString() : any();
      const r = attempt(() => computeAcceptKeySync(key), ARGUMENT_ERRORS, () => `computeAcceptKeySync(${show(key)})`);
      if (r.error !== undefined) {
        assert.notEqual(typeof key, 'string');
        await assert.rejects(computeAcceptKey(key), TypeError);
        return;
      }
      const expected = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
      assert.equal(r.value, expected);
      assert.equal(await computeAcceptKey(key), expected);
    });
    assert.throws(() => computeAcceptKeySync(123), { name: 'TypeError', message: /key/ });
    await assert.rejects(computeAcceptKey(123), { name: 'TypeError', message: /key/ });
  });

  test('parseSubprotocols, validateSelectedSubprotocol, isValidWireCloseCode: the reference answer or a documented error', async () => {
    await rounds(0x55, ROUNDS, ({ rng, any }) => {
      const header = any();
      const r = attempt(() => parseSubprotocols(header), ARGUMENT_ERRORS, () => `parseSubprotocols(${show(header)})`);
      if (r.error === undefined) {
        const expected = typeof header === 'string' ? header.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
        assert.ok(header === null || header === undefined || typeof header === 'string');
        assert.deepEqual(r.value, expected);
      }
      const protocol = any();
      const offered = rng.chance(0.5) ? ['chat', 'superchat', typeof protocol === 'string' ? protocol : 'x'] : any();
      const v = attempt(() => validateSelectedSubprotocol(protocol, offered), PRIMITIVE_ERRORS, () => `validateSelectedSubprotocol(${show(protocol)})`);
      if (v.error === undefined) {
        assert.equal(v.value, protocol);
        assert.ok(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol) && offered.includes(protocol));
      }
      const code = any();
      const expectedValid = typeof code === 'number' && Number.isInteger(code) && ((code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999));
      assert.equal(isValidWireCloseCode(code), expectedValid, show(code));
    });
    assert.throws(() => parseSubprotocols(5), { name: 'TypeError', message: /header/ });
  });

  test('encodeClosePayload / decodeClosePayload: round trips, or a documented error', async () => {
    await rounds(0x66, ROUNDS, ({ rng, any, scalar }) => {
      const code = rng.chance(0.6) ? rng.pick([1000, 1001, 1005, 3000, 4999, 5000, 999]) : scalar();
      const reason = rng.chance(0.7) ? rng.pick(['', 'bye', 'é'.repeat(rng.int(70))]) : any();
      const r = attempt(() => encodeClosePayload(code, reason), PRIMITIVE_ERRORS, () => `encodeClosePayload(${show(code)}, ${show(reason)})`);
      if (r.error === undefined) {
        assert.ok(isValidWireCloseCode(code));
        const expected = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason ?? '', 'utf8')]);
        assert.deepEqual(Buffer.from(r.value), expected);
        // A lone surrogate is sent as U+FFFD, as TextEncoder (DaloyJS) does.
        assert.deepEqual(decodeClosePayload(r.value), { code, reason: Buffer.from(reason ?? '', 'utf8').toString() });
      }
      const payload = any();
      const d = attempt(() => decodeClosePayload(payload), PRIMITIVE_ERRORS, () => `decodeClosePayload(${show(payload)})`);
      if (d.error === undefined) assert.ok(payload instanceof Uint8Array);
    });
    assert.throws(() => encodeClosePayload(1000, 42), { name: 'TypeError', message: /reason/ });
    assert.throws(() => decodeClosePayload('ab'), { name: 'TypeError', message: /payload/ });
  });

  test('validateUpgrade and checkWebSocketOrigin: a result of the documented shape, or a TypeError', async () => {
    await rounds(0x77, ROUNDS / 2, async ({ rng, any }) => {
      const headers = rng.chance(0.3) ? new Headers({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }) : any();
      const r = attempt(() => validateUpgradeSync(headers), ARGUMENT_ERRORS, () => `validateUpgradeSync(${show(headers)})`);
      if (r.error !== undefined) {
        await assert.rejects(validateUpgrade(headers), TypeError);
      } else if (r.value.ok) {
        assert.equal(r.value.acceptKey, 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      } else {
        assert.ok([400, 426].includes(r.value.status) && typeof r.value.reason === 'string');
      }
      const request = rng.chance(0.5) ? { url: 'http://a.example/x', headers: new Headers(rng.chance(0.5) ? { origin: 'http://a.example' } : {}) } : any();
      const policy = rng.chance(0.5) ? rng.pick([undefined, 'same-origin', ['http://a.example'], () => true]) : any();
      const o = attempt(() => checkWebSocketOrigin(request, policy), ARGUMENT_ERRORS, () => `checkWebSocketOrigin(${show(request)}, ${show(policy)})`);
      if (o.error === undefined) {
        assert.equal(typeof o.value.ok, 'boolean');
        if (!o.value.ok) assert.equal(typeof o.value.reason, 'string');
      }
    });
    assert.throws(() => validateUpgradeSync(null), { name: 'TypeError', message: /headers/ });
  });

  test('FrameSink: the constructor checks every callback, push() takes bytes or throws a TypeError', async () => {
    const full = { onMessage() {}, onPing() {}, onPong() {}, onClose() {}, onProtocolError() {} };
    for (const name of Object.keys(full)) {
      assert.throws(() => new FrameSink({ ...full, [name]: undefined }), { name: 'TypeError', message: new RegExp(name) });
      assert.throws(() => new FrameSink({ ...full, [name]: 'not a function' }), { name: 'TypeError', message: new RegExp(name) });
    }
    assert.throws(() => new FrameSink(), { name: 'TypeError', message: /options/ });
    await rounds(0x88, ROUNDS, ({ rng, any }) => {
      const opts = rng.chance(0.5) ? { ...full, ...(rng.chance(0.5) ? any() : {}) } : any();
      const made = attempt(() => new FrameSink(opts), ARGUMENT_ERRORS, () => `new FrameSink(${show(opts)})`);
      if (made.error !== undefined) return;
      const chunk = rng.chance(0.5) ? clientFrame({ opcode: rng.pick([1, 2, 9]), payload: rng.bytes(rng.int(30)) }) : any();
      attempt(() => made.value.push(chunk), ARGUMENT_ERRORS, () => `push(${show(chunk)})`);
    });
  });

  test('normalizeWebSocketOptions, WebSocketRegistry and App.ws: options, or TypeError / DaloyJS\'s plain Error', async () => {
    const routeErrors = [TypeError, RangeError, Error];
    await rounds(0x99, ROUNDS / 3, ({ rng, any }, i) => {
      const handler = any();
      const context = rng.chance(0.5) ? { production: rng.chance(0.5), secureDefaults: rng.chance(0.5) } : undefined;
      const r = attempt(() => normalizeWebSocketOptions(handler, context), routeErrors, () => `normalizeWebSocketOptions(${show(handler)})`);
      if (r.error === undefined) {
        for (const name of ['backpressureLimit', 'idleTimeout', 'maxFragments']) assert.ok(Number.isInteger(r.value[name]) && r.value[name] > 0, name);
        assert.ok(r.value.maxPayloadLength === Infinity || (Number.isInteger(r.value.maxPayloadLength) && r.value.maxPayloadLength > 0));
      }
      const path = rng.chance(0.5) ? rng.pick(['/a', '/a/:b', '/c/*', '/d*', 'x']) + i : any();
      attempt(() => new WebSocketRegistry().add(path, handler), routeErrors, () => `add(${show(path)})`);
      attempt(() => new App({ logger: false }).ws(path, handler), routeErrors, () => `ws(${show(path)})`);
      const find = attempt(() => new WebSocketRegistry().find(any()), [], () => 'find');
      assert.equal(find.value, undefined);
    });
  });
});
