import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_INCOMPLETE, WS_OPCODE, parseFrame, encodeFrame } from '../index.mjs';
import {
  fromHex,
  hex,
  utf8,
  concat,
  frame,
  frameHeader,
  prng,
  assertThrowsProtocol,
  protocolError,
  tooLargeError,
} from './helpers/frames.mjs';

const HELLO = utf8('Hello');
const bytes256 = Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff);
const bytes64k = Uint8Array.from({ length: 65536 }, (_, i) => (i * 13 + 5) & 0xff);

// RFC 6455 §5.7, byte for byte.
const RFC_EXAMPLES = [
  { name: 'a single-frame unmasked text message', wire: fromHex('81 05 48 65 6c 6c 6f'), fin: true, opcode: 1, payload: HELLO },
  { name: 'a single-frame masked text message', wire: fromHex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), fin: true, opcode: 1, payload: HELLO },
  { name: 'the first fragment of an unmasked text message', wire: fromHex('01 03 48 65 6c'), fin: false, opcode: 1, payload: utf8('Hel') },
  { name: 'the last fragment of an unmasked text message', wire: fromHex('80 02 6c 6f'), fin: true, opcode: 0, payload: utf8('lo') },
  { name: 'an unmasked Ping', wire: fromHex('89 05 48 65 6c 6c 6f'), fin: true, opcode: 9, payload: HELLO },
  { name: 'a masked Pong', wire: fromHex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'), fin: true, opcode: 10, payload: HELLO },
  { name: '256 bytes of binary in one unmasked frame', wire: concat(fromHex('82 7e 01 00'), bytes256), fin: true, opcode: 2, payload: bytes256 },
  {
    name: '64 KiB of binary in one unmasked frame',
    wire: concat(fromHex('82 7f 00 00 00 00 00 01 00 00'), bytes64k),
    fin: true,
    opcode: 2,
    payload: bytes64k,
  },
];

const ERR = {
  rsv: (code) => protocolError('RSV bits must be zero (no extensions negotiated)', code),
  fragmentedControl: protocolError('Control frames must not be fragmented', 'WS_ERR_EXPECTED_FIN'),
  controlTooLong: protocolError('Control frame payload exceeds 125 bytes', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'),
  controlOpcode: (op) => protocolError(`Unknown control opcode 0x${op.toString(16)}`, 'WS_ERR_INVALID_OPCODE'),
  dataOpcode: (op) => protocolError(`Unknown data opcode 0x${op.toString(16)}`, 'WS_ERR_INVALID_OPCODE'),
  unmasked: protocolError('Client frames must be masked', 'WS_ERR_EXPECTED_MASK'),
  overflow: protocolError('Frame payload exceeds Number.MAX_SAFE_INTEGER', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009),
};

// ---------------------------------------------------------------- parseFrame: valid frames

for (const ex of RFC_EXAMPLES) {
  test(`parseFrame decodes RFC 6455 §5.7 ${ex.name}`, () => {
    const buf = ex.wire.slice();
    const parsed = parseFrame(buf);
    assert.notEqual(parsed, FRAME_INCOMPLETE);
    assert.equal(parsed.fin, ex.fin);
    assert.equal(parsed.opcode, ex.opcode);
    assert.equal(parsed.consumed, ex.wire.length);
    assert.ok(parsed.payload instanceof Uint8Array);
    assert.equal(hex(parsed.payload), hex(ex.payload));
    assert.deepEqual(Object.keys(parsed).sort(), ['consumed', 'fin', 'opcode', 'payload']);
  });

  test(`parseFrame returns FRAME_INCOMPLETE for every truncation of ${ex.name}`, () => {
    const buf = ex.wire.slice();
    for (let n = 0; n < buf.length; n++) {
      assert.equal(parseFrame(buf.subarray(0, n)), FRAME_INCOMPLETE, `first ${n} of ${buf.length} bytes`);
    }
    // A truncated frame is never unmasked in part: the bytes are still the wire bytes.
    assert.ok(Buffer.from(buf).equals(Buffer.from(ex.wire)), 'the input is untouched until the frame is complete');
    assert.equal(hex(parseFrame(buf).payload), hex(ex.payload));
  });
}

test('parseFrame reads only the first frame and reports how many bytes it took', () => {
  const buf = concat(fromHex('01 03 48 65 6c'), fromHex('89 00'), fromHex('80 02 6c 6f'));
  const first = parseFrame(buf);
  assert.equal(first.consumed, 5);
  const second = parseFrame(buf.subarray(first.consumed));
  assert.deepEqual({ ...second, payload: hex(second.payload) }, { fin: true, opcode: 9, payload: '', consumed: 2 });
  const third = parseFrame(buf.subarray(first.consumed + second.consumed));
  assert.equal(third.consumed, 4);
  assert.equal(new TextDecoder().decode(third.payload), 'lo');
});

test('parseFrame unmasks in place: the payload is a view of the input, not a copy', () => {
  const backing = new Uint8Array(64);
  const wire = fromHex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
  backing.set(wire, 9);
  const buf = backing.subarray(9, 9 + wire.length);
  const parsed = parseFrame(buf);
  assert.equal(parsed.payload.buffer, backing.buffer);
  assert.equal(parsed.payload.byteOffset, buf.byteOffset + 6);
  assert.equal(parsed.payload.length, 5);
  assert.equal(hex(buf.subarray(6)), hex(HELLO), 'the input bytes were unmasked in place');
  buf[6] = 0x4a; // 'J'
  assert.equal(parsed.payload[0], 0x4a, 'a write to the input shows through the payload');
});

test('parseFrame returns an unmasked payload as a view of the input too', () => {
  const buf = fromHex('82 03 01 02 03 ff');
  const parsed = parseFrame(buf);
  assert.equal(parsed.payload.buffer, buf.buffer);
  assert.equal(parsed.payload.byteOffset, buf.byteOffset + 2);
  assert.equal(parsed.consumed, 5);
  assert.equal(hex(buf), '8203010203ff');
});

test('parseFrame unmasks every payload length and key phase correctly', () => {
  const rng = prng(0xf4a3e);
  for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 125, 126, 127, 1000, 4099, 65535, 65536, 70001]) {
    const payload = rng.bytes(length);
    const key = rng.key();
    const wire = frame({ opcode: 2, payload, key });
    const parsed = parseFrame(wire, { requireMask: true });
    assert.equal(parsed.payload.length, length);
    assert.ok(Buffer.from(parsed.payload).equals(Buffer.from(payload)), `length ${length}`);
    assert.equal(parsed.consumed, wire.length);
  }
});

test('parseFrame accepts a frame with a zero masking key', () => {
  const parsed = parseFrame(frame({ opcode: 1, payload: HELLO, key: [0, 0, 0, 0] }), { requireMask: true });
  assert.equal(hex(parsed.payload), hex(HELLO));
});

test('parseFrame accepts non-minimal 16- and 64-bit length encodings', () => {
  for (const lengthForm of [16, 64]) {
    const parsed = parseFrame(frame({ opcode: 2, payload: Uint8Array.of(1, 2, 3), lengthForm }));
    assert.equal(hex(parsed.payload), '010203', `form ${lengthForm}`);
  }
});

test('parseFrame leaves CLOSE payload checks to decodeClosePayload', () => {
  const parsed = parseFrame(fromHex('88 01 00'));
  assert.equal(parsed.opcode, 8);
  assert.equal(hex(parsed.payload), '00');
});

test('parseFrame accepts unmasked frames unless requireMask is set', () => {
  assert.equal(parseFrame(fromHex('81 01 61')).opcode, 1);
  assert.equal(parseFrame(fromHex('81 01 61'), {}).opcode, 1);
  assert.equal(parseFrame(fromHex('81 01 61'), { requireMask: false }).opcode, 1);
});

test('parseFrame accepts the largest safe length (2^53 - 1) and waits for its bytes', () => {
  assert.equal(parseFrame(fromHex('82 7f 00 1f ff ff ff ff ff ff')), FRAME_INCOMPLETE);
});

// ---------------------------------------------------------------- parseFrame: rejections

test('parseFrame rejects RSV1', () => {
  assertThrowsProtocol(() => parseFrame(fromHex('c1 00')), ERR.rsv('WS_ERR_UNEXPECTED_RSV_1'));
});

test('parseFrame rejects RSV2 and RSV3', () => {
  assertThrowsProtocol(() => parseFrame(fromHex('a1 00')), ERR.rsv('WS_ERR_UNEXPECTED_RSV_2_3'));
  assertThrowsProtocol(() => parseFrame(fromHex('91 00')), ERR.rsv('WS_ERR_UNEXPECTED_RSV_2_3'));
});

test('parseFrame rejects a fragmented control frame', () => {
  for (const b0 of [0x08, 0x09, 0x0a]) {
    assertThrowsProtocol(() => parseFrame(Uint8Array.of(b0, 0x00)), ERR.fragmentedControl);
  }
});

test('parseFrame rejects a control frame longer than 125 bytes from its first two bytes', () => {
  for (const b0 of [0x88, 0x89, 0x8a]) {
    assertThrowsProtocol(() => parseFrame(Uint8Array.of(b0, 0x7e)), ERR.controlTooLong);
    assertThrowsProtocol(() => parseFrame(Uint8Array.of(b0, 0xff)), ERR.controlTooLong);
  }
  assert.notEqual(parseFrame(concat(Uint8Array.of(0x89, 125), new Uint8Array(125))), FRAME_INCOMPLETE);
});

test('parseFrame rejects unknown control opcodes 0xb-0xf', () => {
  for (let op = 0xb; op <= 0xf; op++) {
    assertThrowsProtocol(() => parseFrame(Uint8Array.of(0x80 | op, 0x00)), ERR.controlOpcode(op));
  }
});

test('parseFrame rejects unknown data opcodes 0x3-0x7', () => {
  for (let op = 0x3; op <= 0x7; op++) {
    assertThrowsProtocol(() => parseFrame(Uint8Array.of(0x80 | op, 0x00)), ERR.dataOpcode(op));
  }
});

test('parseFrame rejects an unmasked frame when requireMask is set, before its payload arrives', () => {
  assertThrowsProtocol(() => parseFrame(fromHex('81 01 61'), { requireMask: true }), ERR.unmasked);
  assertThrowsProtocol(() => parseFrame(fromHex('81 05'), { requireMask: true }), ERR.unmasked);
  assertThrowsProtocol(() => parseFrame(fromHex('89 00'), { requireMask: true }), ERR.unmasked);
});

test('parseFrame rejects a 64-bit length above 2^53 - 1', () => {
  for (const wire of ['82 7f 00 20 00 00 00 00 00 00', '82 7f ff ff ff ff ff ff ff ff', '82 7f 80 00 00 00 00 00 00 01']) {
    assertThrowsProtocol(() => parseFrame(fromHex(wire)), ERR.overflow);
  }
});

test('parseFrame rejects a declared length over maxPayload as soon as the header is complete', () => {
  // Only the length bytes: no mask key, no payload.
  assertThrowsProtocol(() => parseFrame(fromHex('82 85'), { maxPayload: 4 }), tooLargeError(4, 5));
  assertThrowsProtocol(() => parseFrame(fromHex('82 fe 01 00'), { maxPayload: 255 }), tooLargeError(255, 256));
  assertThrowsProtocol(
    () => parseFrame(fromHex('82 ff 00 00 00 00 00 01 00 00'), { maxPayload: 100 }),
    tooLargeError(100, 65536),
  );
  assertThrowsProtocol(() => parseFrame(fromHex('01 fe 01 00'), { maxPayload: 255 }), tooLargeError(255, 256));
  assertThrowsProtocol(() => parseFrame(fromHex('80 fe 01 00'), { maxPayload: 255 }), tooLargeError(255, 256));
});

test('parseFrame waits for the extended length before applying maxPayload', () => {
  assert.equal(parseFrame(fromHex('82 fe 01'), { maxPayload: 10 }), FRAME_INCOMPLETE);
  assert.equal(parseFrame(fromHex('82 ff 00 00 00 00 00 01 00'), { maxPayload: 10 }), FRAME_INCOMPLETE);
});

test('parseFrame accepts a declared length equal to maxPayload', () => {
  assert.equal(parseFrame(fromHex('82 fe 01 00'), { maxPayload: 256 }), FRAME_INCOMPLETE);
  const whole = frame({ opcode: 2, payload: bytes256 });
  assert.equal(parseFrame(whole, { maxPayload: 256 }).payload.length, 256);
  assert.equal(parseFrame(fromHex('82 80 00 00 00 00'), { maxPayload: 0 }).payload.length, 0);
});

test('parseFrame does not apply maxPayload to control frames', () => {
  const parsed = parseFrame(frame({ opcode: 9, payload: HELLO }), { maxPayload: 1 });
  assert.equal(hex(parsed.payload), hex(HELLO));
});

test('parseFrame reports the first violated rule in DaloyJS order', () => {
  // RSV before control-frame rules.
  assertThrowsProtocol(() => parseFrame(fromHex('c9 7e')), ERR.rsv('WS_ERR_UNEXPECTED_RSV_1'));
  // FIN before length, length before opcode, for control frames.
  assertThrowsProtocol(() => parseFrame(fromHex('09 7e')), ERR.fragmentedControl);
  assertThrowsProtocol(() => parseFrame(fromHex('0b 00')), ERR.fragmentedControl);
  assertThrowsProtocol(() => parseFrame(fromHex('8b 7e')), ERR.controlTooLong);
  // Opcode before requireMask.
  assertThrowsProtocol(() => parseFrame(fromHex('83 00'), { requireMask: true }), ERR.dataOpcode(3));
  // Length overflow before maxPayload; maxPayload before requireMask.
  assertThrowsProtocol(() => parseFrame(fromHex('82 7f 00 20 00 00 00 00 00 00'), { maxPayload: 1 }), ERR.overflow);
  assertThrowsProtocol(() => parseFrame(fromHex('82 7e 01 00'), { maxPayload: 10, requireMask: true }), tooLargeError(10, 256));
});

test('parseFrame never modifies the input when it rejects a frame', () => {
  const wire = frame({ opcode: 2, payload: bytes256, key: [1, 2, 3, 4] });
  const before = hex(wire);
  assert.throws(() => parseFrame(wire, { maxPayload: 10 }));
  assert.equal(hex(wire), before);
});

// ---------------------------------------------------------------- encodeFrame

test('encodeFrame uses the minimal length encoding at 125, 126, 65535 and 65536 bytes', () => {
  const cases = [
    [0, '8200'],
    [1, '8201'],
    [125, '827d'],
    [126, '827e007e'],
    [255, '827e00ff'],
    [256, '827e0100'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
    [70000, '827f0000000000011170'],
  ];
  const rng = prng(0xe1c0de);
  for (const [length, header] of cases) {
    const payload = rng.bytes(length);
    const out = encodeFrame({ opcode: WS_OPCODE.BINARY, payload });
    assert.ok(out instanceof Uint8Array);
    assert.equal(out.length, header.length / 2 + length, `length ${length}`);
    assert.equal(hex(out.subarray(0, header.length / 2)), header, `length ${length}`);
    assert.ok(Buffer.from(out.subarray(header.length / 2)).equals(Buffer.from(payload)), `payload ${length}`);
  }
});

test('encodeFrame with mask: true sets the mask bit and round-trips through parseFrame', () => {
  const rng = prng(0x3a5c);
  for (const length of [0, 1, 3, 4, 5, 125, 126, 255, 256, 257, 4097, 65535, 65536, 65537]) {
    const payload = rng.bytes(length);
    const copy = payload.slice();
    const out = encodeFrame({ opcode: WS_OPCODE.BINARY, payload, mask: true });
    const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
    assert.equal(out.length, 2 + lengthBytes + 4 + length, `length ${length}`);
    assert.equal(out[1] & 0x80, 0x80, 'mask bit');
    assert.ok(Buffer.from(payload).equals(Buffer.from(copy)), 'the payload argument is not modified');
    const parsed = parseFrame(out, { requireMask: true });
    assert.equal(parsed.consumed, out.length);
    assert.equal(parsed.opcode, WS_OPCODE.BINARY);
    assert.ok(Buffer.from(parsed.payload).equals(Buffer.from(payload)), `round trip ${length}`);
  }
});

test('encodeFrame with mask: true draws a fresh key per frame', () => {
  const keys = new Set();
  for (let i = 0; i < 16; i++) {
    const out = encodeFrame({ opcode: WS_OPCODE.TEXT, payload: HELLO, mask: true });
    keys.add(hex(out.subarray(2, 6)));
  }
  assert.ok(keys.size > 1, 'sixteen masked frames all used the same key');
});

test('encodeFrame sends unmasked frames by default, with FIN set and RSV clear', () => {
  const out = encodeFrame({ opcode: WS_OPCODE.TEXT, payload: HELLO });
  assert.equal(hex(out), '810548656c6c6f');
  assert.equal(hex(encodeFrame({ opcode: WS_OPCODE.PING })), '8900');
  assert.equal(hex(encodeFrame({ opcode: WS_OPCODE.CLOSE, payload: Uint8Array.of(3, 0xe8) })), '880203e8');
});

test('encodeFrame with fin: false clears FIN (a fragment)', () => {
  assert.equal(hex(encodeFrame({ opcode: WS_OPCODE.TEXT, payload: utf8('Hel'), fin: false })), '010348656c');
  assert.equal(hex(encodeFrame({ opcode: WS_OPCODE.CONTINUATION, fin: false })), '0000');
  assert.equal(hex(encodeFrame({ opcode: WS_OPCODE.CONTINUATION, payload: utf8('lo') })), '80026c6f');
  const big = encodeFrame({ opcode: WS_OPCODE.BINARY, payload: bytes256, fin: false });
  assert.equal(hex(big.subarray(0, 4)), '027e0100');
});

test('encodeFrame allows a control payload of exactly 125 bytes', () => {
  for (const opcode of [WS_OPCODE.PING, WS_OPCODE.PONG, WS_OPCODE.CLOSE]) {
    const out = encodeFrame({ opcode, payload: new Uint8Array(125) });
    assert.equal(out.length, 127);
    assert.equal(out[1], 125);
  }
});

test('encodeFrame throws on a control payload over 125 bytes', () => {
  for (const opcode of [WS_OPCODE.PING, WS_OPCODE.PONG, WS_OPCODE.CLOSE]) {
    for (const length of [126, 200, 70000]) {
      for (const mask of [false, true]) {
        assertThrowsProtocol(() => encodeFrame({ opcode, payload: new Uint8Array(length), mask }), ERR.controlTooLong);
      }
    }
  }
});

test('encodeFrame returns a complete frame that does not share memory with the payload', () => {
  for (const length of [5, 300, 70000]) {
    const payload = new Uint8Array(length).fill(0x41);
    const out = encodeFrame({ opcode: WS_OPCODE.BINARY, payload });
    assert.notEqual(out.buffer, payload.buffer);
    payload.fill(0x42);
    assert.equal(out[out.length - 1], 0x41, `length ${length}`);
  }
});

test('encodeFrame reads a payload that is a view at an offset of a larger buffer', () => {
  const backing = new Uint8Array(2000);
  for (let i = 0; i < backing.length; i++) backing[i] = i & 0xff;
  for (const [offset, length] of [[3, 10], [7, 300], [1, 1500]]) {
    const payload = backing.subarray(offset, offset + length);
    for (const mask of [false, true]) {
      const parsed = parseFrame(encodeFrame({ opcode: WS_OPCODE.BINARY, payload, mask }));
      assert.ok(Buffer.from(parsed.payload).equals(Buffer.from(payload)), `offset ${offset} length ${length} mask ${mask}`);
    }
  }
});

test('encodeFrame output is decoded by parseFrame for every opcode and FIN', () => {
  for (const opcode of [0, 1, 2, 8, 9, 10]) {
    for (const fin of opcode >= 8 ? [true] : [true, false]) {
      const payload = opcode === 8 ? Uint8Array.of(3, 0xe8) : HELLO;
      const parsed = parseFrame(encodeFrame({ opcode, payload, fin, mask: true }), { requireMask: true });
      assert.equal(parsed.opcode, opcode);
      assert.equal(parsed.fin, fin);
      assert.equal(hex(parsed.payload), hex(payload));
    }
  }
});

test('frame headers built by the suites agree with encodeFrame', () => {
  for (const length of [0, 125, 126, 65535, 65536]) {
    assert.equal(
      hex(frameHeader({ opcode: 2, length, mask: false })),
      hex(encodeFrame({ opcode: 2, payload: new Uint8Array(length) }).subarray(0, length < 126 ? 2 : length < 65536 ? 4 : 10)),
    );
  }
});
