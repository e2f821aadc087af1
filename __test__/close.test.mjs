import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WS_CLOSE_CODE, isValidWireCloseCode, encodeClosePayload, decodeClosePayload } from '../index.mjs';
import { fromHex, hex, utf8, concat, closeBytes, assertThrowsProtocol, protocolError } from './helpers/frames.mjs';

const invalidCode = (code) => protocolError(`Invalid close status code ${code}`, 'WS_ERR_INVALID_CLOSE_CODE');
const REASON_TOO_LONG = protocolError('Close reason exceeds 123 bytes', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH');
const PAYLOAD_TOO_SHORT = protocolError('Close payload must be empty or ≥2 bytes', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH');
const BAD_REASON = protocolError('Invalid UTF-8 in close reason', 'WS_ERR_INVALID_UTF8', 1007);

// ---------------------------------------------------------------- isValidWireCloseCode

test('isValidWireCloseCode: 1000-1014 except 1004, 1005 and 1006 are valid', () => {
  const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014];
  for (const code of valid) assert.equal(isValidWireCloseCode(code), true, String(code));
  for (const code of [1004, 1005, 1006]) assert.equal(isValidWireCloseCode(code), false, String(code));
});

test('isValidWireCloseCode: 3000-4999 are valid', () => {
  for (const code of [3000, 3001, 3999, 4000, 4500, 4999]) assert.equal(isValidWireCloseCode(code), true, String(code));
});

test('isValidWireCloseCode: codes outside the ranges are invalid', () => {
  for (const code of [0, 1, 999, 1015, 1016, 1100, 2000, 2999, 5000, 65535, 65536, -1000]) {
    assert.equal(isValidWireCloseCode(code), false, String(code));
  }
});

test('isValidWireCloseCode: a value that only matches after wrapping to 16 bits is invalid', () => {
  assert.equal(isValidWireCloseCode(1000 + 65536), false);
  assert.equal(isValidWireCloseCode(3000 + 65536 * 2), false);
});

test('isValidWireCloseCode: non-integers and non-numbers are invalid', () => {
  for (const value of [1000.5, 3000.1, NaN, Infinity, -Infinity, '1000', null, undefined, {}, 1000n]) {
    assert.equal(isValidWireCloseCode(value), false, String(value));
  }
});

test('isValidWireCloseCode agrees with the rule on every code from 0 to 65535', () => {
  for (let code = 0; code <= 65535; code++) {
    const expected = (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
    if (isValidWireCloseCode(code) !== expected) assert.fail(`code ${code}: expected ${expected}`);
  }
});

// ---------------------------------------------------------------- encodeClosePayload

test('encodeClosePayload writes the code big-endian followed by the UTF-8 reason', () => {
  const out = encodeClosePayload(1000, 'bye');
  assert.ok(out instanceof Uint8Array);
  assert.equal(hex(out), '03e8627965');
  assert.equal(hex(encodeClosePayload(4999, 'é✓')), '1387c3a9e29c93');
});

test('encodeClosePayload defaults the reason to empty', () => {
  assert.equal(hex(encodeClosePayload(1001)), '03e9');
  assert.equal(hex(encodeClosePayload(3000, '')), '0bb8');
});

test('encodeClosePayload accepts a reason of exactly 123 bytes', () => {
  assert.equal(encodeClosePayload(1000, 'x'.repeat(123)).length, 125);
  assert.equal(encodeClosePayload(1000, 'é'.repeat(61) + 'x').length, 125);
});

test('encodeClosePayload throws when the reason is over 123 UTF-8 bytes', () => {
  assertThrowsProtocol(() => encodeClosePayload(1000, 'x'.repeat(124)), REASON_TOO_LONG);
  assertThrowsProtocol(() => encodeClosePayload(1000, 'x'.repeat(200)), REASON_TOO_LONG);
  // 62 characters, 124 bytes.
  assertThrowsProtocol(() => encodeClosePayload(1000, 'é'.repeat(62)), REASON_TOO_LONG);
});

test('encodeClosePayload throws on a code that may not be sent on the wire', () => {
  for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000, 0]) {
    assertThrowsProtocol(() => encodeClosePayload(code, 'x'), invalidCode(code));
  }
});

// ---------------------------------------------------------------- decodeClosePayload

test('decodeClosePayload: an empty payload is 1005 with an empty reason', () => {
  assert.deepEqual(decodeClosePayload(new Uint8Array(0)), { code: WS_CLOSE_CODE.NO_STATUS_RECEIVED, reason: '' });
});

test('decodeClosePayload reads the code and the UTF-8 reason', () => {
  assert.deepEqual(decodeClosePayload(fromHex('03e8')), { code: 1000, reason: '' });
  assert.deepEqual(decodeClosePayload(fromHex('03e8627965')), { code: 1000, reason: 'bye' });
  assert.deepEqual(decodeClosePayload(closeBytes(4000, 'ünïcødé ✓ 😀')), { code: 4000, reason: 'ünïcødé ✓ 😀' });
});

test('decodeClosePayload reads a view at an offset of a larger buffer without changing it', () => {
  const backing = concat(fromHex('ffffff'), closeBytes(1001, 'away'), fromHex('ffff'));
  const before = hex(backing);
  assert.deepEqual(decodeClosePayload(backing.subarray(3, 3 + 6)), { code: 1001, reason: 'away' });
  assert.equal(hex(backing), before);
});

test('decodeClosePayload throws on a 1-byte payload', () => {
  assertThrowsProtocol(() => decodeClosePayload(fromHex('03')), PAYLOAD_TOO_SHORT);
});

test('decodeClosePayload throws on a code that may not be sent on the wire', () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535]) {
    assertThrowsProtocol(() => decodeClosePayload(closeBytes(code)), invalidCode(code));
    assertThrowsProtocol(() => decodeClosePayload(closeBytes(code, 'why')), invalidCode(code));
  }
});

test('decodeClosePayload throws on a reason that is not UTF-8', () => {
  for (const reason of ['ff', 'c3', 'c328', 'e282', 'eda080', 'f4908080', 'c080', '61ff62']) {
    assertThrowsProtocol(() => decodeClosePayload(concat(fromHex('03e8'), fromHex(reason))), BAD_REASON);
  }
});

test('encodeClosePayload and decodeClosePayload round-trip', () => {
  const reasons = ['', 'bye', 'é', '✓'.repeat(41), '😀'.repeat(30) + 'abc', 'x'.repeat(123)];
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4321, 4999]) {
    for (const reason of reasons) {
      assert.deepEqual(decodeClosePayload(encodeClosePayload(code, reason)), { code, reason });
    }
  }
  assert.equal(utf8('😀'.repeat(30) + 'abc').length, 123);
});
