// The event table between the binding's sinkPush and FrameSink: its layout is exported by the binding
// (src/binding/sink.rs) and read by lib/primitives/frame-sink.js, so this suite decodes a push with
// the exported constants and checks every word against the frames pushed. It also holds sinkPush to
// its guards: a registered sink only (registered through the type-tagged NativeFrameSink, see
// LIVE_SINKS in src/binding/sink.rs), and no overlap between the chunk, the free arena and the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { utf8, concat, frame, text } from './helpers/frames.mjs';

const require = createRequire(import.meta.url);
const binding = require('../lib/primitives/addon.js');
const {
  NativeFrameSink,
  sinkPush,
  SINK_TABLE_HEAD,
  SINK_EVENT_WORDS,
  SINK_OWNED_FLAG,
  SINK_ASCII_FLAG,
  SINK_STRING_FLAG,
  SINK_FLAG_ERROR,
  SINK_FLAG_MORE,
} = binding;

function newSink() {
  const sink = new NativeFrameSink(true, 1 << 20, 1000, false);
  sink.register();
  return sink;
}
const tableFor = (events) => new Uint32Array(SINK_TABLE_HEAD + SINK_EVENT_WORDS * events);

function events(table) {
  const out = [];
  for (let i = 0; i < table[0]; i++) {
    const at = SINK_TABLE_HEAD + SINK_EVENT_WORDS * i;
    out.push({ kind: table[at], start: table[at + 1], length: table[at + 2], code: table[at + 3] });
  }
  return out;
}

test('the binding exports the table layout: a head, words per event, distinct flag bits above the opcode', () => {
  for (const value of [SINK_TABLE_HEAD, SINK_EVENT_WORDS, SINK_OWNED_FLAG, SINK_ASCII_FLAG, SINK_STRING_FLAG, SINK_FLAG_ERROR, SINK_FLAG_MORE]) {
    assert.ok(Number.isInteger(value) && value > 0, String(value));
  }
  assert.ok(SINK_TABLE_HEAD >= 4, 'count, arena used, flags, buffered');
  assert.ok(SINK_EVENT_WORDS >= 4, 'kind, start, length, close code');
  const kindFlags = [SINK_OWNED_FLAG, SINK_ASCII_FLAG, SINK_STRING_FLAG];
  for (const flag of kindFlags) {
    assert.equal(flag & 0xff, 0, 'a kind flag leaves the opcode byte alone');
    assert.equal(flag & (flag - 1), 0, 'one bit');
  }
  assert.equal(new Set(kindFlags).size, kindFlags.length);
  assert.notEqual(SINK_FLAG_ERROR, SINK_FLAG_MORE);
});

test('a push, read with the exported layout, describes every frame pushed', () => {
  const sink = newSink();
  const arena = new Uint8Array(1024);
  const table = tableFor(8);
  const chunk = concat(
    text('hello'),
    frame({ opcode: 0x2, payload: Uint8Array.of(1, 2, 3) }),
    text('héllo'),
    frame({ opcode: 0x9, payload: utf8('p') }),
    frame({ opcode: 0x8, payload: concat(Uint8Array.of(0x03, 0xe8), utf8('bye')) }),
  );
  const owned = sinkPush(sink, chunk, arena, 16, table);
  assert.equal(owned, null, 'every payload fits in the arena');
  assert.equal(table[1], 5 + 3 + 6 + 1 + 3, 'arena bytes used');
  assert.equal(table[2], 0, 'no flag');
  assert.equal(table[3], 0, 'nothing buffered');
  const got = events(table);
  assert.deepEqual(
    got.map((e) => [e.kind, e.length, e.code]),
    [
      [0x1 | SINK_ASCII_FLAG, 5, 0],
      [0x2, 3, 0],
      [0x1, 6, 0],
      [0x9, 1, 0],
      [0x8, 3, 1000],
    ],
  );
  const bytes = (e) => Buffer.from(arena.subarray(e.start, e.start + e.length)).toString('latin1');
  assert.equal(got[0].start, 16, 'offsets are absolute in the arena');
  assert.equal(bytes(got[0]), 'hello');
  assert.deepEqual([...arena.subarray(got[1].start, got[1].start + 3)], [1, 2, 3]);
  assert.equal(Buffer.from(arena.subarray(got[2].start, got[2].start + 6)).toString('utf8'), 'héllo');
  assert.equal(bytes(got[4]), 'bye');
});

test('a batch larger than the table sets the MORE flag, and next() writes the rest', () => {
  const sink = newSink();
  const arena = new Uint8Array(1024);
  const table = tableFor(2);
  sinkPush(sink, concat(text('a'), text('b'), text('c')), arena, 0, table);
  assert.equal(table[0], 2);
  assert.equal(table[2], SINK_FLAG_MORE);
  sink.next(table);
  assert.equal(table[0], 1);
  assert.equal(table[2], 0);
});

test('a protocol error after complete events sets the ERROR flag', () => {
  const sink = newSink();
  const table = tableFor(4);
  sinkPush(sink, concat(text('ok'), frame({ opcode: 0x3 })), new Uint8Array(64), 0, table);
  assert.equal(table[0], 1);
  assert.equal(table[2], SINK_FLAG_ERROR);
  assert.equal(sink.takeError().code, 'WS_ERR_INVALID_OPCODE');
});

test('sinkPush refuses an object that is not a registered NativeFrameSink, even one with its prototype', () => {
  const args = () => [text('x'), new Uint8Array(64), 0, tableFor(1)];
  const unregistered = new NativeFrameSink(true, 1 << 20, 1000, false);
  for (const fake of [{}, Object.create(NativeFrameSink.prototype), new Uint8Array(8), unregistered]) {
    assert.throws(() => sinkPush(fake, ...args()), /sinkPush expects a NativeFrameSink/);
  }
  // register() is a method of the class: napi-rs checks the type tag before running it.
  assert.throws(() => NativeFrameSink.prototype.register.call({}));
  assert.throws(() => NativeFrameSink.prototype.register.call(Object.create(NativeFrameSink.prototype)));
  unregistered.register();
  const table = tableFor(1);
  sinkPush(unregistered, ...args().slice(0, 3), table);
  assert.equal(table[0], 1);
});

function collectGarbage() {
  if (typeof Bun !== 'undefined') return Bun.gc(true);
  if (typeof globalThis.gc === 'function') return globalThis.gc();
  try {
    require('node:v8').setFlagsFromString('--expose-gc');
    require('node:vm').runInNewContext('gc')();
  } catch {
    // No way to force a collection here: the sinks below may still be alive, which only weakens the check.
  }
}

test('a collected sink leaves no address behind that a new, unregistered sink could reuse', async () => {
  for (let i = 0; i < 2000; i++) newSink();
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 20));
  collectGarbage();
  for (let i = 0; i < 200; i++) {
    const unregistered = new NativeFrameSink(true, 1 << 20, 1000, false);
    assert.throws(() => sinkPush(unregistered, text('x'), new Uint8Array(64), 0, tableFor(1)), /sinkPush expects a NativeFrameSink/);
  }
});

test('sinkPush parses a chunk that starts the free part of the arena in place', () => {
  const memory = new Uint8Array(4096);
  const payload = new Uint8Array(300).map((_, i) => i * 7);
  const chunk = concat(
    frame({ opcode: 0x2, payload }),
    text('after'),
    frame({ opcode: 0x2, payload: payload.subarray(0, 10) }),
    frame({ opcode: 0x2, payload: payload.subarray(0, 5) }).subarray(0, 4),
  );
  const at = 1000;
  memory.set(chunk, at);
  const table = tableFor(4);
  sinkPush(newSink(), memory.subarray(at, at + chunk.length), memory, at, table);
  assert.equal(table[0], 3);
  const [first, second, third] = [0, 1, 2].map((i) => SINK_TABLE_HEAD + SINK_EVENT_WORDS * i);
  // The binary messages are unmasked where they lie: right behind their 4- and 6-byte headers.
  assert.equal(table[first] & 0xff, 0x2);
  assert.equal(table[first + 1], at + 8);
  assert.deepEqual(memory.subarray(table[first + 1], table[first + 1] + 300), payload);
  assert.equal(table[third + 1], at + chunk.length - 4 - 10);
  assert.deepEqual(memory.subarray(table[third + 1], table[third + 1] + 10), payload.subarray(0, 10));
  // Text is copied behind the chunk, and the push uses the chunk and the copy.
  assert.equal(table[second + 1], at + chunk.length);
  assert.equal(Buffer.from(memory.subarray(table[second + 1], table[second + 1] + 5)).toString('latin1'), 'after');
  assert.equal(table[1], chunk.length + 5);
});

test('FrameSink: a read into the arena is delivered as a view of where it was read, unmasked', async () => {
  const { FrameSink, readIntoArena, readChunk } = require('../lib/primitives/frame-sink.js');
  let arena = null;
  let window = null;
  readIntoArena((buffer, w) => {
    arena = buffer;
    window = w;
  });
  const messages = [];
  const sink = new FrameSink({
    requireMask: true,
    onMessage: (m) => messages.push(m),
    onPing() {},
    onPong() {},
    onClose() {},
    onProtocolError(err) {
      throw err;
    },
  });
  for (let round = 0; round < 40; round++) {
    const payload = new Uint8Array(40_000 + round).map((_, i) => (i * 31 + round) & 0xff);
    const wire = concat(frame({ opcode: 0x2, payload }), text(`t${round}`));
    assert.ok(window[1] >= wire.length, 'the window leaves room for a 64 KiB frame');
    const at = window[0];
    const read = arena;
    read.set(wire, at);
    sink.push(readChunk(wire.length));
    const [bin, txt] = messages.splice(0);
    assert.deepEqual(new Uint8Array(bin.data), payload);
    assert.equal(bin.data.buffer, read.buffer);
    assert.equal(bin.data.byteOffset, read.byteOffset + at + 8);
    assert.equal(txt.data, `t${round}`);
    // The next read goes past both messages, or to a new arena: the view is never overwritten.
    assert.ok(arena !== read || window[0] >= at + wire.length, 'the window moved on');
  }
});

test('sinkPush refuses a chunk or a table that overlaps the free part of the arena', () => {
  const memory = new Uint8Array(4096);
  const chunk = text('overlap');
  memory.set(chunk, 1024);
  const inside = memory.subarray(1024, 1024 + chunk.length);
  assert.throws(() => sinkPush(newSink(), inside, memory, 512, tableFor(1)), /must not overlap/);
  const tableInArena = new Uint32Array(memory.buffer, 2048, SINK_TABLE_HEAD + SINK_EVENT_WORDS);
  assert.throws(() => sinkPush(newSink(), chunk, memory, 0, tableInArena), /must not overlap/);
  // A chunk before the offset (a message an earlier push delivered) is read, not overwritten.
  const table = tableFor(1);
  sinkPush(newSink(), inside, memory, 1024 + chunk.length, table);
  assert.equal(table[0], 1);
  const start = table[SINK_TABLE_HEAD + 1];
  assert.equal(Buffer.from(memory.subarray(start, start + 7)).toString('latin1'), 'overlap');
});
