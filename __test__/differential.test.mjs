// Differential suite: the same pseudo-random client streams go to this package's FrameSink and to
// the `ws` package's Receiver (server side), fed in the same random chunks; the sequences of
// events must agree. Streams with one injected violation must make both fail, with the same
// close code and WS_ERR_* code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { utf8, concat, prng, frame, frameHeader, closeBytes, recordingSink, assertHeldUnchanged } from './helpers/frames.mjs';

const require = createRequire(import.meta.url);
// `ws` exports only its entry; its Receiver is loaded by file path (the entry re-exports the same
// class, but not the symbol under which errors carry their close code).
const wsDir = path.dirname(require.resolve('ws'));
const Receiver = require(path.join(wsDir, 'lib', 'receiver.js'));
const { kStatusCode } = require(path.join(wsDir, 'lib', 'constants.js'));

const BIG = 8 * 1024 * 1024;
const CHARS = ['a', 'b', 'z', ' ', '0', '\n', '\u0000', 'é', 'ü', 'ß', '€', '✓', '中', '😀', '𝄞', '\u07ff', '\uffff'];

// ---------------------------------------------------------------- stream generation

function randomText(rng, maxChars) {
  let out = '';
  const n = rng.int(maxChars + 1);
  for (let i = 0; i < n; i++) out += rng.pick(CHARS);
  return out;
}

function randomSize(rng, max) {
  const roll = rng.int(100);
  const size = roll < 10 ? 0 : roll < 65 ? rng.range(1, 125) : roll < 90 ? rng.range(126, 3000) : roll < 97 ? rng.range(3000, 65535) : rng.range(65536, 70000);
  return Math.min(size, max);
}

/** A frame with a random key and, now and then, a non-minimal length encoding. */
function randomFrame(rng, { opcode, fin = true, payload, mask = true, rsv = 0 }) {
  let lengthForm;
  if (opcode < 8 && rng.chance(0.1)) lengthForm = payload.length < 65536 && rng.chance(0.5) ? 16 : 64;
  if (payload.length >= 126 && payload.length < 65536 && lengthForm === undefined) lengthForm = 16;
  return frame({ opcode, fin, payload, mask, rsv, key: rng.key(), lengthForm });
}

function controlFrame(rng) {
  const opcode = rng.chance(0.5) ? 9 : 10;
  return randomFrame(rng, { opcode, payload: rng.bytes(rng.chance(0.3) ? 0 : rng.range(0, 125)) });
}

/** Splits `bytes` into 1..maxParts fragments (empty ones allowed), control frames between them. */
function fragmented(rng, opcode, bytes, { maxParts = 5, controls = 0.3 } = {}) {
  const parts = rng.range(1, maxParts);
  const cuts = Array.from({ length: parts - 1 }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  const frames = [];
  let start = 0;
  [...cuts, bytes.length].forEach((end, i) => {
    if (i > 0 && rng.chance(controls)) frames.push(controlFrame(rng));
    frames.push(randomFrame(rng, { opcode: i === 0 ? opcode : 0, fin: i === parts - 1, payload: bytes.subarray(start, end) }));
    start = end;
  });
  return frames;
}

function randomMessage(rng, maxSize) {
  if (rng.chance(0.45)) return fragmented(rng, 1, utf8(randomText(rng, Math.min(maxSize >> 2, rng.chance(0.9) ? 40 : 5000))));
  return fragmented(rng, 2, rng.bytes(randomSize(rng, maxSize)));
}

const VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999];

function closeFrame(rng) {
  if (rng.chance(0.2)) return randomFrame(rng, { opcode: 8, payload: new Uint8Array(0) });
  let reason = randomText(rng, 20);
  while (utf8(reason).length > 123) reason = reason.slice(1);
  return randomFrame(rng, { opcode: 8, payload: closeBytes(rng.pick(VALID_CLOSE_CODES), reason) });
}

// One generator per violation: the frames that break the protocol (each with one violation only).
const VIOLATIONS = {
  rsv1: (rng) => [randomFrame(rng, { opcode: rng.range(1, 2), payload: rng.bytes(rng.range(0, 20)), rsv: 4 })],
  rsv2: (rng) => [randomFrame(rng, { opcode: 9, payload: rng.bytes(3), rsv: 2 })],
  rsv3: (rng) => [randomFrame(rng, { opcode: 2, payload: rng.bytes(3), rsv: 1 })],
  unmaskedData: (rng) => [randomFrame(rng, { opcode: rng.range(1, 2), payload: utf8('plain'), mask: false })],
  unmaskedControl: (rng) => [randomFrame(rng, { opcode: 9, payload: rng.bytes(2), mask: false })],
  dataOpcode: (rng) => [randomFrame(rng, { opcode: rng.range(3, 7), payload: rng.bytes(4) })],
  controlOpcode: (rng) => [randomFrame(rng, { opcode: rng.range(0xb, 0xf), payload: rng.bytes(4) })],
  fragmentedControl: (rng) => [randomFrame(rng, { opcode: rng.pick([8, 9, 10]), fin: false, payload: rng.bytes(2) })],
  controlTooLong: (rng) => [frame({ opcode: rng.pick([8, 9, 10]), payload: rng.bytes(rng.range(126, 300)), key: rng.key() })],
  strayContinuation: (rng) => [randomFrame(rng, { opcode: 0, fin: rng.chance(0.5), payload: rng.bytes(3) })],
  interleavedData: (rng) => [
    randomFrame(rng, { opcode: rng.range(1, 2), fin: false, payload: utf8('abc') }),
    ...(rng.chance(0.5) ? [controlFrame(rng)] : []),
    randomFrame(rng, { opcode: rng.range(1, 2), fin: rng.chance(0.5), payload: utf8('def') }),
  ],
  invalidUtf8: (rng) => {
    const bad = rng.pick(['ff', 'fe', 'c0 80', 'c1 bf', 'ed a0 80', 'ed bf bf', 'f4 90 80 80', 'f8 88 80 80 80', 'e2 28 a1', '80', 'c3']);
    const before = utf8(randomText(rng, 30));
    const after = bad === 'c3' ? new Uint8Array(0) : utf8(randomText(rng, 30));
    const bytes = concat(before, Uint8Array.from(Buffer.from(bad.replace(/ /g, ''), 'hex')), after);
    return fragmented(rng, 1, bytes, { controls: 0.5 });
  },
  closeOneByte: (rng) => [randomFrame(rng, { opcode: 8, payload: rng.bytes(1) })],
  closeBadCode: (rng) => [randomFrame(rng, { opcode: 8, payload: closeBytes(rng.pick([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]), 'r') })],
  closeBadReason: (rng) => [randomFrame(rng, { opcode: 8, payload: concat(closeBytes(1000, 'ok'), Uint8Array.of(rng.pick([0xff, 0xc3, 0x80]))) })],
  lengthOverflow: (rng) => [frameHeader({ opcode: 2, length: 2 ** 53 + rng.int(1000), lengthForm: 64, key: rng.key() })],
  tooLarge: (rng) => fragmented(rng, 2, rng.bytes(rng.range(5001, 9000)), { maxParts: 4 }),
  tooManyFragments: (rng) => {
    const count = rng.range(7, 12);
    const frames = [];
    for (let i = 0; i < count; i++) {
      if (i > 0 && rng.chance(0.3)) frames.push(controlFrame(rng));
      frames.push(randomFrame(rng, { opcode: i === 0 ? 2 : 0, fin: i === count - 1, payload: rng.bytes(rng.range(0, 10)) }));
    }
    return frames;
  },
};

// Limits both parsers get for a stream. Size and fragment limits are lowered only for the
// violations that test them, so valid messages stay under them.
function limitsFor(violation) {
  if (violation === 'tooLarge') return { maxPayload: 5000, maxFragments: 0, maxSize: 2000 };
  if (violation === 'tooManyFragments') return { maxPayload: BIG, maxFragments: 6, maxSize: BIG };
  return { maxPayload: BIG, maxFragments: 0, maxSize: BIG };
}

/** A client stream: messages and control frames, one violation if asked, maybe a CLOSE and trailing bytes. */
function generateStream(seed, violation) {
  const rng = prng(seed);
  const limits = limitsFor(violation);
  // Chunking: tiny, medium or large reads. Byte-sized reads get small messages, to bound the time.
  const maxChunk = rng.pick([1, 7, 64, 1500, 16384, 100000]);
  const maxSize = maxChunk < 64 ? Math.min(limits.maxSize, 600) : limits.maxSize;
  const frames = [];
  const messages = rng.range(0, 14);
  const injectAt = rng.range(0, messages);
  for (let i = 0; i <= messages; i++) {
    if (violation && i === injectAt) frames.push(...VIOLATIONS[violation](rng));
    if (i === messages) break;
    if (rng.chance(0.2)) frames.push(controlFrame(rng));
    frames.push(...randomMessage(rng, maxSize));
  }
  if (rng.chance(0.3)) {
    frames.push(closeFrame(rng));
    frames.push(randomFrame(rng, { opcode: 1, payload: utf8('after close') }), Uint8Array.of(0xc3, 0x00));
  }
  const bytes = concat(...frames);
  const chunks = [];
  for (let offset = 0; offset < bytes.length; ) {
    const size = rng.range(1, maxChunk);
    chunks.push(bytes.slice(offset, offset + size));
    offset += size;
  }
  if (rng.chance(0.2)) chunks.splice(rng.int(chunks.length + 1), 0, new Uint8Array(0));
  return { chunks, limits };
}

// ---------------------------------------------------------------- the two parsers

function runWs(chunks, { maxPayload, maxFragments }) {
  const receiver = new Receiver({ isServer: true, maxPayload, maxFragments, binaryType: 'nodebuffer' });
  const events = [];
  let done = false;
  receiver.on('message', (data, isBinary) => {
    events.push(isBinary ? { type: 'binary', hex: data.toString('hex') } : { type: 'text', data: data.toString('utf8') });
  });
  receiver.on('ping', (data) => events.push({ type: 'ping', hex: data.toString('hex') }));
  receiver.on('pong', (data) => events.push({ type: 'pong', hex: data.toString('hex') }));
  receiver.on('conclude', (code, reason) => {
    events.push({ type: 'close', code, reason: reason.toString('utf8') });
    done = true;
  });
  receiver.on('error', () => {});
  for (const chunk of chunks) {
    if (done) break;
    if (chunk.length === 0) continue;
    // The Receiver unmasks in place: it gets its own copy. `_write` runs the parser synchronously
    // and reports a protocol error through its callback.
    receiver._write(Buffer.from(chunk), 'buffer', (err) => {
      if (err) {
        events.push({ type: 'error', code: err.code, closeCode: err[kStatusCode] });
        done = true;
      }
    });
  }
  return events;
}

function runSink(chunks, { maxPayload, maxFragments }) {
  const options = { requireMask: true, maxPayloadLength: maxPayload };
  if (maxFragments > 0) options.maxFragments = maxFragments;
  const rec = recordingSink(options);
  for (const chunk of chunks) {
    const before = Buffer.from(chunk);
    rec.sink.push(chunk);
    if (!before.equals(chunk)) assert.fail('push modified its chunk');
  }
  assertHeldUnchanged(rec.held);
  return rec.events.map((e) => (e.type === 'error' ? { type: 'error', code: e.code, closeCode: e.closeCode } : e));
}

// ---------------------------------------------------------------- comparisons

const VALID_STREAMS = 250;

test(`FrameSink and ws's Receiver agree on ${VALID_STREAMS} random valid streams`, () => {
  let events = 0;
  let closes = 0;
  for (let i = 0; i < VALID_STREAMS; i++) {
    const seed = 0x1000 + i;
    const { chunks, limits } = generateStream(seed, null);
    const expected = runWs(chunks, limits);
    assert.ok(!expected.some((e) => e.type === 'error'), `seed ${seed}: the generator made a valid stream`);
    assert.deepEqual(runSink(chunks, limits), expected, `seed ${seed}`);
    events += expected.length;
    closes += expected.filter((e) => e.type === 'close').length;
  }
  // The streams exercise something: many events, some closes.
  assert.ok(events > VALID_STREAMS * 5, `only ${events} events`);
  assert.ok(closes > VALID_STREAMS / 10, `only ${closes} closes`);
});

const PER_VIOLATION = 15;

for (const violation of Object.keys(VIOLATIONS)) {
  test(`FrameSink and ws's Receiver both fail on ${violation}, with the same codes`, () => {
    for (let i = 0; i < PER_VIOLATION; i++) {
      const seed = 0x9000 + i * 131 + violation.length * 7919 + violation.charCodeAt(0);
      const { chunks, limits } = generateStream(seed, violation);
      const theirs = runWs(chunks, limits);
      const ours = runSink(chunks, limits);
      const theirError = theirs.at(-1);
      const ourError = ours.at(-1);
      assert.equal(theirError?.type, 'error', `seed ${seed}: ws did not fail`);
      assert.equal(ourError?.type, 'error', `seed ${seed}: FrameSink did not fail`);
      assert.deepEqual(ourError, theirError, `seed ${seed}: error codes`);
      const theirBefore = theirs.slice(0, -1);
      const ourBefore = ours.slice(0, -1);
      if (violation === 'invalidUtf8') {
        // FrameSink fails at the first bad byte; ws at the end of the message. Only the control
        // frames between the two points may differ.
        assert.deepEqual(ourBefore, theirBefore.slice(0, ourBefore.length), `seed ${seed}: events before the error`);
        for (const extra of theirBefore.slice(ourBefore.length)) {
          assert.ok(extra.type === 'ping' || extra.type === 'pong', `seed ${seed}: ws delivered a ${extra.type} FrameSink did not`);
        }
      } else {
        assert.deepEqual(ourBefore, theirBefore, `seed ${seed}: events before the error`);
      }
    }
  });
}
