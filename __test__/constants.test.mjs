import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
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
  parseFrame,
} from '../index.mjs';

test('WS_GUID is the RFC 6455 §1.3 GUID', () => {
  assert.equal(WS_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
});

test('WS_READY_STATE holds the WHATWG ready states', () => {
  assert.deepEqual({ ...WS_READY_STATE }, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
});

test('WS_OPCODE holds the RFC 6455 §5.2 opcodes', () => {
  assert.deepEqual({ ...WS_OPCODE }, { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 });
});

test('WS_CLOSE_CODE holds the DaloyJS close codes and nothing else', () => {
  assert.deepEqual(
    { ...WS_CLOSE_CODE },
    {
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
    },
  );
});

test('the constant objects keep their key order (as DaloyJS declares them)', () => {
  assert.deepEqual(Object.keys(WS_READY_STATE), ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']);
  assert.deepEqual(Object.keys(WS_OPCODE), ['CONTINUATION', 'TEXT', 'BINARY', 'CLOSE', 'PING', 'PONG']);
  assert.equal(Object.keys(WS_CLOSE_CODE)[0], 'NORMAL_CLOSURE');
});

test('numeric limits have the DaloyJS defaults', () => {
  assert.equal(WS_MAX_CONTROL_PAYLOAD, 125);
  assert.equal(DEFAULT_WS_BACKPRESSURE_LIMIT, 1048576);
  assert.equal(DEFAULT_WS_MAX_PAYLOAD_LENGTH, 1048576);
  assert.equal(DEFAULT_WS_IDLE_TIMEOUT_SECONDS, 120);
});

test('DEFAULT_WS_MAX_FRAGMENTS is 131072 (room for Autobahn 9.* fragment counts)', () => {
  assert.equal(DEFAULT_WS_MAX_FRAGMENTS, 131072);
});

for (const [name, object] of Object.entries({ WS_READY_STATE, WS_OPCODE, WS_CLOSE_CODE })) {
  test(`${name} is frozen: writes, additions and deletions have no effect`, () => {
    assert.ok(Object.isFrozen(object));
    const before = { ...object };
    const firstKey = Object.keys(object)[0];
    // Module code is strict: a write to a frozen object throws.
    assert.throws(() => {
      object[firstKey] = 99;
    }, TypeError);
    assert.throws(() => {
      object.ADDED = 1;
    }, TypeError);
    assert.throws(() => {
      delete object[firstKey];
    }, TypeError);
    assert.deepEqual({ ...object }, before);
  });
}

test('FRAME_INCOMPLETE is a symbol, not a registered one', () => {
  assert.equal(typeof FRAME_INCOMPLETE, 'symbol');
  assert.equal(Symbol.keyFor(FRAME_INCOMPLETE), undefined);
  assert.notEqual(FRAME_INCOMPLETE, Symbol.for(FRAME_INCOMPLETE.description ?? ''));
});

test('FRAME_INCOMPLETE is the value parseFrame returns for a partial frame', () => {
  assert.equal(parseFrame(new Uint8Array([0x81])), FRAME_INCOMPLETE);
  assert.equal(parseFrame(new Uint8Array(0)), FRAME_INCOMPLETE);
});
