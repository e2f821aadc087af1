import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameSink, DEFAULT_WS_MAX_FRAGMENTS, DEFAULT_WS_MAX_PAYLOAD_LENGTH } from '../index.mjs';
import {
  fromHex,
  hex,
  utf8,
  concat,
  prng,
  frame,
  frameHeader,
  text,
  binary,
  cont,
  ping,
  pong,
  close,
  closeBytes,
  recordingSink,
  assertHeldUnchanged,
  feedSplit,
  protocolError,
  tooLargeError,
} from './helpers/frames.mjs';

const HELLO = utf8('Hello');
const T = (data) => ({ type: 'text', data });
const B = (bytes) => ({ type: 'binary', hex: hex(Uint8Array.from(bytes)) });
const PING = (bytes = []) => ({ type: 'ping', hex: hex(Uint8Array.from(bytes)) });
const PONG = (bytes = []) => ({ type: 'pong', hex: hex(Uint8Array.from(bytes)) });
const CLOSE = (code, reason = '') => ({ type: 'close', code, reason });
const ERROR = (record) => ({ type: 'error', ...record });

const E = {
  rsv1: protocolError('RSV bits must be zero (no extensions negotiated)', 'WS_ERR_UNEXPECTED_RSV_1'),
  rsv23: protocolError('RSV bits must be zero (no extensions negotiated)', 'WS_ERR_UNEXPECTED_RSV_2_3'),
  fragmentedControl: protocolError('Control frames must not be fragmented', 'WS_ERR_EXPECTED_FIN'),
  controlTooLong: protocolError('Control frame payload exceeds 125 bytes', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'),
  controlOpcode: (op) => protocolError(`Unknown control opcode 0x${op.toString(16)}`, 'WS_ERR_INVALID_OPCODE'),
  dataOpcode: (op) => protocolError(`Unknown data opcode 0x${op.toString(16)}`, 'WS_ERR_INVALID_OPCODE'),
  unmasked: protocolError('Client frames must be masked', 'WS_ERR_EXPECTED_MASK'),
  overflow: protocolError('Frame payload exceeds Number.MAX_SAFE_INTEGER', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009),
  strayContinuation: protocolError('Continuation frame without an initial data frame', 'WS_ERR_INVALID_OPCODE'),
  interleaved: protocolError('New data frame received while a fragmented message is in progress', 'WS_ERR_INVALID_OPCODE'),
  utf8: protocolError('Invalid UTF-8 in text message', 'WS_ERR_INVALID_UTF8', 1007),
  closeShort: protocolError('Close payload must be empty or ≥2 bytes', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'),
  closeCode: (code) => protocolError(`Invalid close status code ${code}`, 'WS_ERR_INVALID_CLOSE_CODE'),
  closeReason: protocolError('Invalid UTF-8 in close reason', 'WS_ERR_INVALID_UTF8', 1007),
  fragments: protocolError('Too many message fragments', 'WS_ERR_TOO_MANY_BUFFERED_PARTS', 1008),
};

const bytes256 = Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff);

// ---------------------------------------------------------------- fixtures fed split anywhere

const FIXTURES = [
  {
    name: 'RFC 6455 §5.7 masked text "Hello"',
    wire: fromHex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
    expect: [T('Hello')],
  },
  {
    name: 'RFC 6455 §5.7 unmasked text "Hello"',
    options: { requireMask: false },
    wire: fromHex('81 05 48 65 6c 6c 6f'),
    expect: [T('Hello')],
  },
  {
    name: 'RFC 6455 §5.7 fragmented unmasked text',
    options: { requireMask: false },
    wire: fromHex('01 03 48 65 6c 80 02 6c 6f'),
    expect: [T('Hello')],
  },
  {
    name: 'RFC 6455 §5.7 unmasked Ping',
    options: { requireMask: false },
    wire: fromHex('89 05 48 65 6c 6c 6f'),
    expect: [PING(HELLO)],
  },
  {
    name: 'RFC 6455 §5.7 masked Pong',
    wire: fromHex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'),
    expect: [PONG(HELLO)],
  },
  {
    name: 'RFC 6455 §5.7 256 bytes of binary in one unmasked frame',
    options: { requireMask: false },
    wire: concat(fromHex('82 7e 01 00'), bytes256),
    expect: [B(bytes256)],
  },
  {
    name: 'a fragmented text message with a ping and a pong between its fragments',
    wire: concat(text('Hel', { fin: false }), ping([1, 2]), cont(utf8('l'), { fin: false }), pong(), cont(utf8('o'))),
    expect: [PING([1, 2]), PONG(), T('Hello')],
  },
  {
    name: 'multi-byte UTF-8 split across fragments',
    wire: concat(
      frame({ opcode: 1, fin: false, payload: fromHex('e2 82') }),
      cont(fromHex('ac f0 9f'), { fin: false, key: [9, 8, 7, 6] }),
      cont(fromHex('98 80 c3'), { fin: false }),
      cont(fromHex('a9')),
    ),
    expect: [T('€😀é')],
  },
  {
    name: 'empty messages, whole and fragmented',
    wire: concat(text(''), binary([]), frame({ opcode: 2, fin: false }), cont([]), frame({ opcode: 1, fin: false }), cont([], { fin: false }), cont([])),
    expect: [T(''), B([]), B([]), T('')],
  },
  {
    name: 'a fragmented binary message with empty fragments',
    wire: concat(frame({ opcode: 2, fin: false }), cont([1, 2], { fin: false }), cont([], { fin: false }), ping([]), cont([3])),
    expect: [PING(), B([1, 2, 3])],
  },
  {
    name: '16-bit and 64-bit length forms, minimal and not',
    wire: concat(
      binary(bytes256.subarray(0, 200)),
      frame({ opcode: 2, payload: Uint8Array.of(5, 4, 3), lengthForm: 64 }),
      frame({ opcode: 1, payload: utf8('abc'), lengthForm: 16 }),
      frame({ opcode: 9, payload: Uint8Array.of(7), lengthForm: 7 }),
    ),
    expect: [B(bytes256.subarray(0, 200)), B([5, 4, 3]), T('abc'), PING([7])],
  },
  {
    name: 'a mixed stream ending in a CLOSE, followed by ignored bytes',
    wire: concat(
      binary([0, 255, 128], { key: [0xff, 0, 0xff, 0] }),
      text('ünïcødé', { key: [1, 2, 3, 4] }),
      ping(utf8('p')),
      close(closeBytes(1000, 'bye')),
      text('ignored'),
      fromHex('c1 00'),
    ),
    expect: [B([0, 255, 128]), T('ünïcødé'), PING(utf8('p')), CLOSE(1000, 'bye')],
  },
  {
    name: 'an empty CLOSE',
    wire: concat(pong([1]), close()),
    expect: [PONG([1]), CLOSE(1005, '')],
  },
  {
    name: 'a protocol error after complete messages',
    wire: concat(text('a'), ping([9]), fromHex('c1 80 00 00 00 00'), text('b')),
    expect: [T('a'), PING([9]), ERROR(E.rsv1)],
  },
  {
    name: 'invalid UTF-8 in a later fragment of a text message',
    wire: concat(text('ok'), text('abc', { fin: false }), ping(), cont(fromHex('ff'), { fin: false }), cont(utf8('z'))),
    expect: [T('ok'), PING(), ERROR(E.utf8)],
  },
  {
    name: 'a message too large only when its fragments are summed',
    options: { maxPayloadLength: 8 },
    wire: concat(binary([1, 2, 3]), binary([1, 2, 3, 4, 5], { fin: false }), ping(), cont([6, 7, 8, 9])),
    expect: [B([1, 2, 3]), PING(), ERROR(tooLargeError(8, 9))],
  },
];

for (const fx of FIXTURES) {
  test(`FrameSink: ${fx.name}, in one push`, () => {
    const rec = recordingSink(fx.options);
    rec.sink.push(fx.wire.slice());
    assert.deepEqual(rec.events, fx.expect);
    assertHeldUnchanged(rec.held);
  });

  test(`FrameSink: ${fx.name}, split at every byte offset, one byte at a time and at random`, () => {
    for (let cut = 0; cut <= fx.wire.length; cut++) {
      assert.deepEqual(feedSplit(fx.wire, [cut], fx.options), fx.expect, `split at ${cut}`);
    }
    const everyByte = Array.from({ length: fx.wire.length }, (_, i) => i + 1);
    assert.deepEqual(feedSplit(fx.wire, everyByte, fx.options), fx.expect, 'one byte at a time');
    const rng = prng(fx.wire.length * 7919 + 17);
    for (let round = 0; round < 50; round++) {
      const cuts = Array.from({ length: rng.range(2, 8) }, () => rng.int(fx.wire.length + 1)).sort((a, b) => a - b);
      assert.deepEqual(feedSplit(fx.wire, cuts, fx.options), fx.expect, `cuts ${cuts}`);
    }
  });
}

test('FrameSink: RFC 6455 §5.7 64 KiB binary frame, whole, one byte at a time and split near its edges', () => {
  const payload = Uint8Array.from({ length: 65536 }, (_, i) => (i * 13 + 5) & 0xff);
  const wire = concat(fromHex('82 7f 00 00 00 00 00 01 00 00'), payload);
  const expect = [B(payload)];
  const options = { requireMask: false };
  assert.deepEqual(feedSplit(wire, [], options), expect);
  assert.deepEqual(feedSplit(wire, Array.from({ length: wire.length - 1 }, (_, i) => i + 1), options), expect);
  const cuts = [];
  for (let i = 0; i <= 16; i++) cuts.push(i, wire.length - i);
  for (let i = 17; i < wire.length; i += 4099) cuts.push(i);
  for (const cut of cuts) assert.deepEqual(feedSplit(wire, [cut], options), expect, `split at ${cut}`);
});

// ---------------------------------------------------------------- messages

test('FrameSink delivers many frames of one chunk in order (more than one batch)', () => {
  const parts = [];
  const expect = [];
  for (let i = 0; i < 5000; i++) {
    switch (i % 4) {
      case 0:
        parts.push(text(`m${i}`, { key: [i & 0xff, 1, 2, 3] }));
        expect.push(T(`m${i}`));
        break;
      case 1:
        parts.push(binary([i & 0xff, i >> 8]));
        expect.push(B([i & 0xff, i >> 8]));
        break;
      case 2:
        parts.push(ping([i & 0xff]));
        expect.push(PING([i & 0xff]));
        break;
      default:
        parts.push(pong());
        expect.push(PONG());
    }
  }
  const rec = recordingSink();
  rec.sink.push(concat(...parts));
  assert.equal(rec.events.length, 5000);
  assert.deepEqual(rec.events, expect);
  assertHeldUnchanged(rec.held);
});

test('FrameSink delivers text as a string and binary as a Uint8Array', () => {
  const seen = [];
  const sink = new FrameSink({
    onMessage: (ev) => seen.push(ev),
    onPing() {},
    onPong() {},
    onClose() {},
    onProtocolError(err) {
      throw err;
    },
  });
  sink.push(concat(text('hi'), binary([1, 2])));
  assert.equal(seen.length, 2);
  assert.deepEqual(Object.keys(seen[0]).sort(), ['data', 'isBinary']);
  assert.equal(seen[0].data, 'hi');
  assert.equal(seen[0].isBinary, false);
  assert.ok(seen[1].data instanceof Uint8Array);
  assert.equal(seen[1].isBinary, true);
  assert.deepEqual(Array.from(seen[1].data), [1, 2]);
});

test('FrameSink reassembles large text and binary messages of many fragments', () => {
  const rng = prng(0xb16);
  const textMessage = 'ünïcødé ✓ 😀 '.repeat(12000);
  const textBytes = utf8(textMessage);
  const binaryMessage = rng.bytes(300000);
  const parts = [];
  for (const [opcode, bytes] of [[1, textBytes], [2, binaryMessage]]) {
    let offset = 0;
    let first = true;
    while (offset < bytes.length) {
      const size = Math.min(bytes.length - offset, rng.range(1, 70000));
      const fin = offset + size === bytes.length;
      parts.push(frame({ opcode: first ? opcode : 0, fin, payload: bytes.subarray(offset, offset + size), key: rng.key() }));
      if (rng.chance(0.3)) parts.push(ping([offset & 0xff]));
      first = false;
      offset += size;
    }
  }
  const wire = concat(...parts);
  const rec = recordingSink();
  for (let offset = 0; offset < wire.length; ) {
    const size = rng.range(1, 20000);
    rec.sink.push(wire.slice(offset, offset + size));
    offset += size;
  }
  const messages = rec.events.filter((e) => e.type === 'text' || e.type === 'binary');
  assert.equal(messages.length, 2);
  assert.ok(messages[0].data === textMessage, 'the text message is reassembled exactly');
  assert.equal(messages[1].hex, hex(binaryMessage));
  assertHeldUnchanged(rec.held);
});

test('FrameSink: a delivered binary message stays valid and unchanged after later pushes', () => {
  const rng = prng(0x0b1);
  const rec = recordingSink();
  // Small (arena) and large (owned) messages, whole and fragmented.
  for (let i = 0; i < 300; i++) {
    const size = rng.pick([0, 1, 7, 100, 1000, 17000, 70000]);
    if (rng.chance(0.5)) {
      rec.sink.push(binary(rng.bytes(size)));
    } else {
      const half = size >> 1;
      rec.sink.push(concat(binary(rng.bytes(half), { fin: false }), cont(rng.bytes(size - half))));
    }
  }
  assert.equal(rec.held.length, 300);
  assertHeldUnchanged(rec.held);
});

test('FrameSink: a binary message survives the caller reusing its read buffer', () => {
  const rec = recordingSink({ requireMask: false });
  const readBuffer = new Uint8Array(64);
  const first = frame({ opcode: 2, payload: Uint8Array.of(1, 2, 3, 4), mask: false });
  readBuffer.set(first);
  rec.sink.push(readBuffer.subarray(0, first.length));
  const second = frame({ opcode: 2, payload: Uint8Array.of(9, 9, 9, 9), mask: false });
  readBuffer.fill(0xee);
  readBuffer.set(second);
  rec.sink.push(readBuffer.subarray(0, second.length));
  assert.deepEqual(rec.events, [B([1, 2, 3, 4]), B([9, 9, 9, 9])]);
  assertHeldUnchanged(rec.held);
});

test('FrameSink: text messages leave no mark in the arena, so binary messages before and after 200 KiB of text share one', () => {
  const rec = recordingSink();
  rec.sink.push(binary([1, 2, 3]));
  const line = 'x'.repeat(1024);
  for (let i = 0; i < 200; i++) rec.sink.push(text(line));
  rec.sink.push(binary([4, 5, 6]));
  const [before, after] = rec.held.map((entry) => entry.data);
  assert.equal(after.buffer, before.buffer, 'the text pushes moved the arena on');
  assert.equal(rec.events.filter((ev) => ev.type === 'text' && ev.data === line).length, 200);
  assertHeldUnchanged(rec.held);
});

test('FrameSink: a binary message behind more text messages than one event table holds keeps its bytes', () => {
  const rec = recordingSink();
  const many = Array.from({ length: 1100 }, (_, i) => text(`t${i}`));
  rec.sink.push(concat(...many, binary([7, 7, 7, 7])));
  for (let i = 0; i < 10; i++) rec.sink.push(text('y'.repeat(20000)));
  assert.equal(rec.events.length, 1111);
  assert.deepEqual(rec.events[1100], B([7, 7, 7, 7]));
  assertHeldUnchanged(rec.held);
});

test('FrameSink with textAsBytes: text messages given as bytes keep them after later pushes', () => {
  const kept = [];
  const sink = new FrameSink({
    textAsBytes: true,
    onMessage: (ev) => kept.push({ data: ev.data, hex: hex(ev.data) }),
    onPing() {},
    onPong() {},
    onClose() {},
    onProtocolError() {},
  });
  for (let i = 0; i < 50; i++) sink.push(text(`${i} `.repeat(100 * (i % 7) + 1)));
  assert.equal(kept.length, 50);
  assertHeldUnchanged(kept);
});

test('FrameSink: memory given back after text is written over only where nothing delivered lies', () => {
  const rng = prng(0x7e47);
  const other = recordingSink();
  const expected = [];
  let nested = 0;
  // A text callback that pushes a binary message into another sink (its view lies after this push's
  // bytes) and one that throws (the rest of the batch waits in the arena for the next push).
  const pings = [];
  const rec = recordingSink({}, {
    onPing(payload) {
      pings.push({ data: payload, hex: hex(payload) });
    },
    onMessage(ev) {
      if (ev.isBinary) return;
      if (ev.data.startsWith('nest')) other.sink.push(binary(rng.bytes(rng.pick([1, 100, 3000]))));
      if (ev.data.startsWith('throw') && nested++ % 2 === 0) throw new Error('handler failed');
    },
  });
  for (let i = 0; i < 400; i++) {
    const parts = [];
    for (let n = rng.range(1, 4); n > 0; n--) {
      const pick = rng.int(6);
      const body = 'abc€'.repeat(rng.pick([1, 30, 300, 5000]));
      if (pick === 0) {
        const bytes = rng.bytes(rng.pick([0, 5, 900, 20000]));
        parts.push(binary(bytes));
        expected.push(B(bytes));
      } else if (pick === 1) {
        const bytes = rng.bytes(rng.int(126));
        parts.push(ping(bytes));
        expected.push(PING(bytes));
      } else if (pick === 2) {
        const whole = utf8(body);
        const cut = rng.int(whole.length + 1);
        parts.push(frame({ opcode: 1, fin: false, payload: whole.subarray(0, cut) }), cont(whole.subarray(cut)));
        expected.push(T(body));
      } else {
        const data = `${rng.pick(['nest', 'throw', 'plain'])} ${body}`;
        parts.push(text(data));
        expected.push(T(data));
      }
    }
    // Whole frames, or cut so that a push ends inside a frame (the sink holds its bytes).
    const wire = concat(...parts);
    const cut = rng.chance(0.5) ? wire.length : rng.int(wire.length + 1);
    for (const piece of [wire.subarray(0, cut), wire.subarray(cut)]) {
      try {
        rec.sink.push(piece);
      } catch (err) {
        assert.equal(err.message, 'handler failed');
      }
    }
  }
  rec.sink.push(new Uint8Array(0));
  assert.deepEqual(rec.events, expected);
  assertHeldUnchanged(rec.held);
  assertHeldUnchanged(pings);
  assert.ok(other.held.length > 0);
  assertHeldUnchanged(other.held);
});

test('FrameSink: onPing and onPong receive copies that belong to the receiver', () => {
  const payloads = [];
  const rec = recordingSink({ requireMask: false }, { onPing: (p) => payloads.push(p), onPong: (p) => payloads.push(p) });
  const chunk = concat(
    frame({ opcode: 9, payload: Uint8Array.of(1, 2, 3), mask: false }),
    frame({ opcode: 10, payload: Uint8Array.of(4, 5), mask: false }),
    frame({ opcode: 2, payload: Uint8Array.of(6, 7), mask: false }),
  );
  rec.sink.push(chunk);
  assert.notEqual(payloads[0].buffer, chunk.buffer);
  chunk.fill(0);
  assert.deepEqual(Array.from(payloads[0]), [1, 2, 3]);
  assert.deepEqual(Array.from(payloads[1]), [4, 5]);
  // Writing into a control payload changes nothing else.
  payloads[0].fill(0xaa);
  payloads[1].fill(0xbb);
  assertHeldUnchanged(rec.held);
  rec.sink.push(frame({ opcode: 9, payload: Uint8Array.of(8), mask: false }));
  assert.deepEqual(Array.from(payloads[2]), [8]);
});

// ---------------------------------------------------------------- the caller's chunk

test('FrameSink.push does not modify the caller\'s chunk (no unmasking in place)', () => {
  const chunk = concat(text('Hello'), binary(bytes256), ping([1, 2, 3]), text('partial', { fin: false }), cont(utf8('!')).subarray(0, 6));
  const before = hex(chunk);
  const rec = recordingSink();
  rec.sink.push(chunk);
  assert.equal(hex(chunk), before);
  assert.deepEqual(rec.events, [T('Hello'), B(bytes256), PING([1, 2, 3])]);
});

test('FrameSink.push does not retain the caller\'s chunk across pushes', () => {
  for (const mask of [true, false]) {
    const wire = frame({ opcode: 2, payload: bytes256, mask });
    for (const cut of [1, 2, 4, 7, 100, 259]) {
      const rec = recordingSink({ requireMask: mask });
      const first = wire.slice(0, cut);
      rec.sink.push(first);
      first.fill(0x5a); // the caller reuses its buffer before the rest arrives
      rec.sink.push(wire.slice(cut));
      assert.deepEqual(rec.events, [B(bytes256)], `mask ${mask}, cut at ${cut}`);
    }
  }
});

test('FrameSink.push does not hand out views of the caller\'s chunk', () => {
  const rec = recordingSink({ requireMask: false });
  const chunk = concat(
    frame({ opcode: 2, payload: bytes256, mask: false }),
    frame({ opcode: 2, payload: Uint8Array.of(1), mask: false }),
    frame({ opcode: 1, payload: utf8('text'), mask: false }),
  );
  rec.sink.push(chunk);
  for (const { data } of rec.held) assert.notEqual(data.buffer, chunk.buffer);
  chunk.fill(0);
  assert.deepEqual(rec.events, [B(bytes256), B([1]), T('text')]);
  assertHeldUnchanged(rec.held);
});

test('FrameSink.push reads a chunk that is a view at an offset of a larger buffer', () => {
  const wire = concat(text('héllo'), binary([1, 2, 3]));
  const backing = new Uint8Array(wire.length + 10).fill(0xff);
  backing.set(wire, 5);
  const rec = recordingSink();
  rec.sink.push(backing.subarray(5, 5 + wire.length));
  rec.sink.push(Buffer.from(text('pooled'))); // small Buffers live at an offset of Node's pool
  assert.deepEqual(rec.events, [T('héllo'), B([1, 2, 3]), T('pooled')]);
});

test('FrameSink.push of an empty chunk does nothing', () => {
  const rec = recordingSink();
  rec.sink.push(new Uint8Array(0));
  rec.sink.push(text('a').subarray(0, 3));
  rec.sink.push(new Uint8Array(0));
  assert.deepEqual(rec.events, []);
  rec.sink.push(text('a').subarray(3));
  assert.deepEqual(rec.events, [T('a')]);
});

// ---------------------------------------------------------------- CLOSE

test('FrameSink: onClose gets the code and reason; an empty CLOSE gives 1005', () => {
  const cases = [
    [close(), CLOSE(1005, '')],
    [close(closeBytes(1000)), CLOSE(1000, '')],
    [close(closeBytes(1001, 'going away')), CLOSE(1001, 'going away')],
    [close(closeBytes(4999, 'é✓😀')), CLOSE(4999, 'é✓😀')],
    [close(closeBytes(3000, 'x'.repeat(123))), CLOSE(3000, 'x'.repeat(123))],
  ];
  for (const [wire, expected] of cases) {
    const rec = recordingSink();
    rec.sink.push(wire);
    assert.deepEqual(rec.events, [expected]);
  }
});

test('FrameSink ignores all input after onClose, in the same chunk and later', () => {
  const rec = recordingSink();
  rec.sink.push(concat(text('before'), close(closeBytes(1000, 'bye')), text('after'), ping()));
  rec.sink.push(text('later'));
  rec.sink.push(fromHex('c1 00')); // not even a protocol error
  rec.sink.push(new Uint8Array(0));
  assert.deepEqual(rec.events, [T('before'), CLOSE(1000, 'bye')]);
});

test('FrameSink: a CLOSE with a 1-byte payload is a protocol error', () => {
  const rec = recordingSink();
  assert.doesNotThrow(() => rec.sink.push(close([0x03])));
  assert.deepEqual(rec.events, [ERROR(E.closeShort)]);
});

test('FrameSink: a CLOSE with a code that may not be sent is a protocol error', () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000]) {
    const rec = recordingSink();
    assert.doesNotThrow(() => rec.sink.push(close(closeBytes(code, 'r'))));
    assert.deepEqual(rec.events, [ERROR(E.closeCode(code))], `code ${code}`);
  }
});

test('FrameSink: a CLOSE with an invalid UTF-8 reason is a protocol error, never a thrown TypeError', () => {
  // The 9-byte frame: header, mask key, code 1000, one 0xff byte.
  const wire = close(concat(closeBytes(1000), Uint8Array.of(0xff)));
  assert.equal(wire.length, 9);
  for (const chunks of [[wire], Array.from(wire, (b) => Uint8Array.of(b))]) {
    const rec = recordingSink();
    for (const chunk of chunks) assert.doesNotThrow(() => rec.sink.push(chunk));
    assert.deepEqual(rec.events, [ERROR(E.closeReason)]);
  }
  for (const reason of ['c3', 'e282', 'eda080', 'c080', '61f5']) {
    const rec = recordingSink();
    rec.sink.push(close(concat(closeBytes(1000), fromHex(reason))));
    assert.deepEqual(rec.events, [ERROR(E.closeReason)], reason);
  }
});

// ---------------------------------------------------------------- protocol errors

const VIOLATIONS = [
  ['RSV1 set', fromHex('c1 80 00 00 00 00'), E.rsv1],
  ['RSV2 set', fromHex('a1 80 00 00 00 00'), E.rsv23],
  ['RSV3 set', fromHex('91 80 00 00 00 00'), E.rsv23],
  ['a fragmented PING', ping([1], { fin: false }), E.fragmentedControl],
  ['a PING longer than 125 bytes', frame({ opcode: 9, payload: new Uint8Array(126) }), E.controlTooLong],
  ['control opcode 0xb', frame({ opcode: 0xb }), E.controlOpcode(0xb)],
  ['control opcode 0xf', frame({ opcode: 0xf }), E.controlOpcode(0xf)],
  ['data opcode 0x3', frame({ opcode: 0x3 }), E.dataOpcode(0x3)],
  ['data opcode 0x7', frame({ opcode: 0x7 }), E.dataOpcode(0x7)],
  ['an unmasked frame', frame({ opcode: 1, payload: utf8('a'), mask: false }), E.unmasked],
  ['a 64-bit length above 2^53 - 1', fromHex('82 ff 00 20 00 00 00 00 00 00 01 02 03 04'), E.overflow],
  ['a continuation without a first fragment', cont([1]), E.strayContinuation],
  ['a new TEXT frame inside a fragmented message', concat(text('a', { fin: false }), text('b')), E.interleaved],
  ['a new BINARY frame inside a fragmented message', concat(binary([1], { fin: false }), ping(), binary([2])), E.interleaved],
  ['invalid UTF-8 in a text message', frame({ opcode: 1, payload: fromHex('ff fe') }), E.utf8],
];

for (const [name, wire, expected] of VIOLATIONS) {
  test(`FrameSink reports ${name} to onProtocolError`, () => {
    const rec = recordingSink();
    assert.doesNotThrow(() => rec.sink.push(wire));
    const errors = rec.events.filter((e) => e.type === 'error');
    assert.deepEqual(errors, [ERROR(expected)]);
    assert.equal(rec.events.at(-1).type, 'error');
  });
}

test('FrameSink delivers the messages completed before a bad byte, then the error', () => {
  const rec = recordingSink();
  rec.sink.push(concat(text('one'), binary([2]), ping([3]), frame({ opcode: 3 }), text('four')));
  assert.deepEqual(rec.events, [T('one'), B([2]), PING([3]), ERROR(E.dataOpcode(3))]);
});

test('FrameSink ignores all input after onProtocolError', () => {
  const rec = recordingSink();
  rec.sink.push(concat(fromHex('c1 80 00 00 00 00'), text('same chunk')));
  rec.sink.push(text('later'));
  rec.sink.push(close());
  rec.sink.push(fromHex('83 00'));
  assert.deepEqual(rec.events, [ERROR(E.rsv1)]);
  assert.ok(rec.errors[0] instanceof Error);
});

test('FrameSink: requireMask rejects unmasked frames, also control frames', () => {
  for (const wire of [frame({ opcode: 2, payload: Uint8Array.of(1), mask: false }), frame({ opcode: 9, mask: false })]) {
    const rec = recordingSink({ requireMask: true });
    rec.sink.push(wire);
    assert.deepEqual(rec.events, [ERROR(E.unmasked)]);
  }
});

test('FrameSink: requireMask rejects an unmasked frame before its payload arrives', () => {
  const rec = recordingSink({ requireMask: true });
  rec.sink.push(frameHeader({ opcode: 2, length: 1000, mask: false }));
  assert.deepEqual(rec.events, [ERROR(E.unmasked)]);
});

test('FrameSink accepts masked and unmasked frames when requireMask is not set', () => {
  const events = [];
  const sink = new FrameSink({
    onMessage: (ev) => events.push(ev.data),
    onPing() {},
    onPong() {},
    onClose() {},
    onProtocolError: (err) => events.push(err.message),
  });
  sink.push(concat(frame({ opcode: 1, payload: utf8('plain'), mask: false }), text('masked')));
  assert.deepEqual(events, ['plain', 'masked']);
});

// ---------------------------------------------------------------- invalid UTF-8, early

test('FrameSink reports invalid UTF-8 in the first fragment before the message ends', () => {
  const rec = recordingSink();
  rec.sink.push(frame({ opcode: 1, fin: false, payload: fromHex('61 62 ff 63') }));
  assert.deepEqual(rec.events, [ERROR(E.utf8)]);
});

test('FrameSink reports invalid UTF-8 inside a partial frame', () => {
  const payload = concat(utf8('ok '), fromHex('ff'), utf8('x'.repeat(96)));
  const wire = frame({ opcode: 1, payload });
  const rec = recordingSink();
  rec.sink.push(wire.slice(0, 2 + 2 + 4 + 4)); // header, 16-bit length, mask key, 4 payload bytes
  assert.deepEqual(rec.events, [ERROR(E.utf8)]);
});

test('FrameSink reports an invalid byte as it arrives, one byte at a time', () => {
  const wire = frame({ opcode: 1, fin: false, payload: concat(utf8('abc'), fromHex('ff'), utf8('defgh')) });
  const rec = recordingSink();
  let at = -1;
  for (let i = 0; i < wire.length; i++) {
    rec.sink.push(wire.subarray(i, i + 1));
    if (at < 0 && rec.events.length > 0) at = i;
  }
  assert.deepEqual(rec.events, [ERROR(E.utf8)]);
  assert.equal(at, 6 + 3, 'the error comes with the 0xff byte');
});

test('FrameSink fails at once on a sequence that cannot become valid, even unfinished', () => {
  for (const bad of ['c0', 'c1', 'f5', 'ff', 'e0 80', 'ed a0', 'f0 80', 'f4 90', 'e2 41', 'f0 9f 41']) {
    const rec = recordingSink();
    rec.sink.push(frame({ opcode: 1, fin: false, payload: fromHex(bad) }));
    assert.deepEqual(rec.events, [ERROR(E.utf8)], bad);
  }
});

test('FrameSink holds a valid unfinished sequence until it completes', () => {
  for (const good of ['c3', 'e2', 'e2 82', 'f0', 'f0 9f', 'f0 9f 98']) {
    const rec = recordingSink();
    rec.sink.push(frame({ opcode: 1, fin: false, payload: fromHex(good) }));
    assert.deepEqual(rec.events, [], good);
  }
});

test('FrameSink fails when a fragment breaks the sequence the previous one began', () => {
  const rec = recordingSink();
  rec.sink.push(frame({ opcode: 1, fin: false, payload: fromHex('e2 82') }));
  assert.deepEqual(rec.events, []);
  rec.sink.push(cont(utf8('A'), { fin: false }));
  assert.deepEqual(rec.events, [ERROR(E.utf8)]);
});

test('FrameSink fails when a text message ends inside a sequence', () => {
  for (const tail of ['c3', 'e2 82', 'f0 9f 98']) {
    const rec = recordingSink();
    rec.sink.push(frame({ opcode: 1, payload: concat(utf8('a'), fromHex(tail)) }));
    assert.deepEqual(rec.events, [ERROR(E.utf8)], tail);
    const fragmented = recordingSink();
    fragmented.sink.push(concat(frame({ opcode: 1, fin: false, payload: fromHex(tail) }), cont([])));
    assert.deepEqual(fragmented.events, [ERROR(E.utf8)], `fragmented ${tail}`);
  }
});

test('FrameSink does not check binary messages for UTF-8', () => {
  const rec = recordingSink();
  rec.sink.push(concat(binary([0xff, 0xfe], { fin: false }), cont([0xc3])));
  assert.deepEqual(rec.events, [B([0xff, 0xfe, 0xc3])]);
});

// ---------------------------------------------------------------- size limits

test('FrameSink: maxPayloadLength defaults to 1 MiB', () => {
  assert.equal(DEFAULT_WS_MAX_PAYLOAD_LENGTH, 1048576);
  const payload = new Uint8Array(1048576).fill(0x61);
  const rec = recordingSink();
  rec.sink.push(frame({ opcode: 2, payload, key: [0, 0, 0, 0] }));
  assert.equal(rec.events.length, 1);
  assert.equal(rec.held[0].data.length, 1048576);

  const over = recordingSink();
  over.sink.push(frameHeader({ opcode: 2, length: 1048577 }));
  assert.deepEqual(over.events, [ERROR(tooLargeError(1048576, 1048577))]);
});

test('FrameSink accepts a message of exactly maxPayloadLength, whole or in fragments', () => {
  const rec = recordingSink({ maxPayloadLength: 16 });
  rec.sink.push(binary(new Uint8Array(16)));
  rec.sink.push(concat(text('a'.repeat(10), { fin: false }), ping(new Uint8Array(100)), cont(utf8('b'.repeat(6)))));
  assert.deepEqual(rec.events, [B(new Uint8Array(16)), PING(new Uint8Array(100)), T('a'.repeat(10) + 'b'.repeat(6))]);
});

test('FrameSink rejects a declared frame length over maxPayloadLength before its payload', () => {
  const rec = recordingSink({ maxPayloadLength: 16 });
  rec.sink.push(frameHeader({ opcode: 1, length: 1024 * 1024 }));
  assert.deepEqual(rec.events, [ERROR(tooLargeError(16, 1048576))]);
  assert.ok(rec.errors[0] instanceof Error);
});

test('FrameSink rejects an oversized declared length as soon as the length is known, dribbled one byte at a time', () => {
  const cases = [
    [frameHeader({ opcode: 2, length: 17 }), 2, 17],
    [frameHeader({ opcode: 2, length: 300 }), 4, 300],
    [frameHeader({ opcode: 1, length: 1024 * 1024 }), 10, 1048576],
    [frameHeader({ opcode: 2, length: 2 ** 40 }), 10, 2 ** 40],
  ];
  for (const [header, knownAfter, actual] of cases) {
    const rec = recordingSink({ maxPayloadLength: 16 });
    let at = -1;
    for (let i = 0; i < header.length; i++) {
      rec.sink.push(header.subarray(i, i + 1));
      if (at < 0 && rec.events.length > 0) at = i + 1;
    }
    for (let i = 0; i < 100; i++) rec.sink.push(Uint8Array.of(i));
    assert.deepEqual(rec.events, [ERROR(tooLargeError(16, actual))], `declared ${actual}`);
    assert.equal(at, knownAfter, `declared ${actual}: reported after byte ${at}, expected ${knownAfter}`);
  }
});

test('FrameSink rejects a message whose fragments sum over maxPayloadLength, at the header of the fragment that crosses it', () => {
  const rec = recordingSink({ maxPayloadLength: 16 });
  rec.sink.push(binary(new Uint8Array(10), { fin: false }));
  rec.sink.push(ping([1]));
  assert.deepEqual(rec.events, [PING([1])]);
  rec.sink.push(frameHeader({ opcode: 0, fin: false, length: 7 }));
  assert.deepEqual(rec.events, [PING([1]), ERROR(tooLargeError(16, 17))]);
});

test('FrameSink rejects summed fragments over the limit when the header is dribbled', () => {
  const rec = recordingSink({ maxPayloadLength: 200 });
  rec.sink.push(text('x'.repeat(150), { fin: false }));
  const header = frameHeader({ opcode: 0, length: 126 });
  for (let i = 0; i < header.length; i++) rec.sink.push(header.subarray(i, i + 1));
  assert.deepEqual(rec.events, [ERROR(tooLargeError(200, 276))]);
});

test('FrameSink does not count control frames towards maxPayloadLength', () => {
  const rec = recordingSink({ maxPayloadLength: 4 });
  rec.sink.push(concat(ping(new Uint8Array(125)), pong(new Uint8Array(50)), close(closeBytes(1000, 'a long reason'))));
  assert.deepEqual(rec.events, [PING(new Uint8Array(125)), PONG(new Uint8Array(50)), CLOSE(1000, 'a long reason')]);
});

test('FrameSink starts counting again with each message', () => {
  const rec = recordingSink({ maxPayloadLength: 10 });
  for (let i = 0; i < 5; i++) rec.sink.push(concat(binary(new Uint8Array(6), { fin: false }), cont(new Uint8Array(4))));
  assert.equal(rec.events.length, 5);
  assert.ok(rec.events.every((e) => e.type === 'binary'));
});

test('FrameSink rejects a 64-bit length above 2^53 - 1 with 1009, before maxPayloadLength', () => {
  const rec = recordingSink({ maxPayloadLength: 16 });
  rec.sink.push(fromHex('82 ff 00 20 00 00 00 00 00 00'));
  assert.deepEqual(rec.events, [ERROR(E.overflow)]);
});

// ---------------------------------------------------------------- fragment count

/** One message of `count` masked empty frames (the first BINARY, the rest continuations). */
function emptyFragments(count) {
  const out = new Uint8Array(count * 6);
  for (let i = 0; i < count; i++) {
    out[i * 6] = (i === count - 1 ? 0x80 : 0) | (i === 0 ? 2 : 0);
    out[i * 6 + 1] = 0x80;
  }
  return out;
}

test('FrameSink accepts a message of exactly maxFragments frames', () => {
  const rec = recordingSink({ maxFragments: 4 });
  rec.sink.push(concat(text('a', { fin: false }), cont(utf8('b'), { fin: false }), cont(utf8('c'), { fin: false }), cont(utf8('d'))));
  assert.deepEqual(rec.events, [T('abcd')]);
});

test('FrameSink rejects a message of more than maxFragments frames with 1008', () => {
  const rec = recordingSink({ maxFragments: 4 });
  rec.sink.push(concat(text('a', { fin: false }), cont(utf8('b'), { fin: false }), cont(utf8('c'), { fin: false }), cont(utf8('d'), { fin: false })));
  assert.deepEqual(rec.events, []);
  rec.sink.push(cont(utf8('e')));
  assert.deepEqual(rec.events, [ERROR(E.fragments)]);
});

test('FrameSink does not count control frames as fragments, and counts each message afresh', () => {
  const rec = recordingSink({ maxFragments: 2 });
  const message = (c) => concat(binary([c], { fin: false }), ping(), pong(), ping(), cont([c]));
  rec.sink.push(concat(message(1), message(2), message(3)));
  assert.deepEqual(
    rec.events.filter((e) => e.type === 'binary'),
    [B([1, 1]), B([2, 2]), B([3, 3])],
  );
  assert.equal(rec.events.filter((e) => e.type === 'error').length, 0);
});

test('FrameSink: maxFragments defaults to DEFAULT_WS_MAX_FRAGMENTS (131072)', () => {
  assert.equal(DEFAULT_WS_MAX_FRAGMENTS, 131072);
  const ok = recordingSink();
  ok.sink.push(emptyFragments(131072));
  assert.deepEqual(ok.events, [B([])]);
  const over = recordingSink();
  over.sink.push(emptyFragments(131073));
  assert.deepEqual(over.events, [ERROR(E.fragments)]);
});

// ---------------------------------------------------------------- callbacks that throw

test('FrameSink: a throwing onMessage propagates out of push; the next push delivers the rest of the batch', () => {
  const failure = new Error('handler failed');
  let armed = true;
  const rec = recordingSink({}, {
    onMessage(ev) {
      if (armed && ev.data === 'A') {
        armed = false;
        throw failure;
      }
    },
  });
  assert.throws(() => rec.sink.push(concat(text('A'), text('B'), binary([1]), ping([2]))), (err) => err === failure);
  assert.deepEqual(rec.events, [T('A')]);
  rec.sink.push(new Uint8Array(0));
  assert.deepEqual(rec.events, [T('A'), T('B'), B([1]), PING([2])]);
  rec.sink.push(new Uint8Array(0));
  assert.equal(rec.events.length, 4, 'nothing is delivered twice');
});

test('FrameSink: after a throwing callback, undelivered events come before the new chunk\'s', () => {
  const failure = new Error('handler failed');
  let armed = true;
  const rec = recordingSink({}, {
    onPing() {
      if (armed) {
        armed = false;
        throw failure;
      }
    },
  });
  const wire = concat(text('A'), ping([1]), binary([2]), text('C', { fin: false }));
  assert.throws(() => rec.sink.push(wire), (err) => err === failure);
  rec.sink.push(concat(cont(utf8('D')), text('E')));
  assert.deepEqual(rec.events, [T('A'), PING([1]), B([2]), T('CD'), T('E')]);
  assertHeldUnchanged(rec.held);
});

test('FrameSink: a protocol error after a throwing callback is delivered by the next push', () => {
  const failure = new Error('handler failed');
  let armed = true;
  const rec = recordingSink({}, {
    onMessage() {
      if (armed) {
        armed = false;
        throw failure;
      }
    },
  });
  assert.throws(() => rec.sink.push(concat(text('A'), fromHex('c1 80 00 00 00 00'))), (err) => err === failure);
  assert.deepEqual(rec.events, [T('A')]);
  rec.sink.push(new Uint8Array(0));
  assert.deepEqual(rec.events, [T('A'), ERROR(E.rsv1)]);
  rec.sink.push(text('ignored'));
  assert.equal(rec.events.length, 2);
});

test('FrameSink: a throwing onClose propagates and the sink stays closed', () => {
  const failure = new Error('close handler failed');
  const rec = recordingSink({}, {
    onClose() {
      throw failure;
    },
  });
  assert.throws(() => rec.sink.push(concat(close(closeBytes(1000)), text('after'))), (err) => err === failure);
  rec.sink.push(new Uint8Array(0));
  rec.sink.push(text('later'));
  assert.deepEqual(rec.events, [CLOSE(1000, '')]);
});

test('FrameSink: a throwing onProtocolError propagates and the sink stays done', () => {
  const failure = new Error('error handler failed');
  const rec = recordingSink({}, {
    onProtocolError() {
      throw failure;
    },
  });
  assert.throws(() => rec.sink.push(frame({ opcode: 3 })), (err) => err === failure);
  rec.sink.push(new Uint8Array(0));
  rec.sink.push(text('later'));
  assert.deepEqual(rec.events, [ERROR(E.dataOpcode(3))]);
});

test('FrameSink: throwing repeatedly in a batch of thousands loses and repeats nothing', () => {
  const parts = [];
  for (let i = 0; i < 3000; i++) parts.push(i % 2 ? binary([i & 0xff, i >> 8]) : text(`t${i}`));
  let calls = 0;
  const rec = recordingSink({}, {
    onMessage() {
      calls++;
      if (calls % 700 === 0) throw new Error(`failure ${calls}`);
    },
  });
  let thrown = 0;
  try {
    rec.sink.push(concat(...parts));
  } catch {
    thrown++;
  }
  for (let attempt = 0; attempt < 10 && rec.events.length < 3000; attempt++) {
    try {
      rec.sink.push(new Uint8Array(0));
    } catch {
      thrown++;
    }
  }
  assert.equal(thrown, 4);
  assert.equal(rec.events.length, 3000);
  for (let i = 0; i < 3000; i++) {
    assert.deepEqual(rec.events[i], i % 2 ? B([i & 0xff, i >> 8]) : T(`t${i}`), `event ${i}`);
  }
  assertHeldUnchanged(rec.held);
});

test('FrameSink: pending events survive pushes to another sink', () => {
  const failure = new Error('handler failed');
  let armed = true;
  const a = recordingSink({}, {
    onMessage() {
      if (armed) {
        armed = false;
        throw failure;
      }
    },
  });
  const payloads = [Uint8Array.of(1), new Uint8Array(500).fill(2), new Uint8Array(30000).fill(3)];
  assert.throws(() => a.sink.push(concat(text('first'), ...payloads.map((p) => binary(p)))), (err) => err === failure);
  const b = recordingSink();
  const rng = prng(0xa11);
  for (let i = 0; i < 50; i++) b.sink.push(binary(rng.bytes(rng.range(1, 20000))));
  a.sink.push(new Uint8Array(0));
  assert.deepEqual(a.events, [T('first'), ...payloads.map((p) => B(p))]);
  assertHeldUnchanged(a.held);
  assertHeldUnchanged(b.held);
});

test('FrameSink: a callback may push into another sink', () => {
  const inner = recordingSink();
  const innerChunk = concat(text('x'), binary(new Uint8Array(3000).fill(7)), ping([1]));
  const outer = recordingSink({}, {
    onMessage(ev) {
      if (ev.data === 'go') inner.sink.push(innerChunk);
    },
  });
  outer.sink.push(concat(binary([1, 2, 3]), text('go'), binary(new Uint8Array(2000).fill(9)), text('end')));
  assert.deepEqual(outer.events, [B([1, 2, 3]), T('go'), B(new Uint8Array(2000).fill(9)), T('end')]);
  assert.deepEqual(inner.events, [T('x'), B(new Uint8Array(3000).fill(7)), PING([1])]);
  assertHeldUnchanged(outer.held);
  assertHeldUnchanged(inner.held);
});

test('FrameSink keeps separate state per instance', () => {
  const a = recordingSink();
  const b = recordingSink({ maxPayloadLength: 4 });
  const wireA = text('interleaved');
  a.sink.push(wireA.subarray(0, 5));
  b.sink.push(binary([1, 2, 3, 4]));
  a.sink.push(wireA.subarray(5));
  b.sink.push(binary([1, 2, 3, 4, 5]));
  assert.deepEqual(a.events, [T('interleaved')]);
  assert.deepEqual(b.events, [B([1, 2, 3, 4]), ERROR(tooLargeError(4, 5))]);
});

test('FrameSink.push accepts a Buffer and delivers the same events as for a Uint8Array', () => {
  const wire = concat(text('buf'), binary([1]));
  const rec = recordingSink();
  rec.sink.push(Buffer.from(wire));
  assert.deepEqual(rec.events, [T('buf'), B([1])]);
});

test('large messages assembled over many odd-sized pushes: each arrives whole, and one still held is never written again when the memory of collected ones is reused', async () => {
  // A message assembled over several pushes gets a buffer of its own; the memory of collected
  // ones is reused for later messages (src/message_buffers.rs). Every other message is kept here,
  // the rest dropped and collected between pushes.
  const gc = await collector();
  const SIZE = 200 * 1024 + 3;
  const COUNT = 24;
  const byteAt = (i, j) => (i * 131 + j * 7 + (j >>> 9)) & 0xff;
  const got = [];
  const sink = new FrameSink({
    maxPayloadLength: 1 << 20,
    onMessage: (ev) => got.push(ev),
    onPing() {},
    onPong() {},
    onClose() {},
    onProtocolError(err) {
      throw err;
    },
  });
  const kept = [];
  const sizes = [1, 13, 4093, 65537, 77777, 9999];
  for (let i = 0; i < COUNT; i++) {
    const payload = new Uint8Array(SIZE);
    for (let j = 0; j < SIZE; j++) payload[j] = byteAt(i, j);
    const wire = frame({ opcode: 0x2, payload, key: Uint8Array.of(i, 0x5a, 0xa5, 0x33) });
    for (let at = 0, k = i; at < wire.length; k++) {
      const end = Math.min(wire.length, at + sizes[k % sizes.length]);
      sink.push(wire.slice(at, end));
      at = end;
    }
    assert.equal(got.length, 1, `message ${i} delivered once`);
    const { data, isBinary } = got.pop();
    assert.equal(isBinary, true);
    assert.equal(data.length, SIZE);
    if (i % 2 === 0) kept.push([i, data]);
    gc();
    // Finalizers of collected buffers may run from the loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (const [i, data] of kept) {
    let bad = -1;
    for (let j = 0; j < SIZE; j++) {
      if (data[j] !== byteAt(i, j)) {
        bad = j;
        break;
      }
    }
    assert.equal(bad, -1, `kept message ${i} differs at byte ${bad}`);
  }
});

// A full garbage collection: Bun's own, Node's through --expose-gc set at run time; elsewhere (Deno)
// enough allocation to make the engine collect.
async function collector() {
  const bun = /** @type {any} */ (globalThis).Bun;
  if (typeof bun?.gc === 'function') return () => bun.gc(true);
  try {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc === 'function') return gc;
  } catch {
    // Not available here: fall through.
  }
  return () => {
    for (let i = 0; i < 64; i++) new Uint8Array(1 << 20).fill(i);
  };
}
