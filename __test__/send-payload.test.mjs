import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WS_OPCODE, encodeSendPayload } from '../index.mjs';
import { hex } from './helpers/frames.mjs';

test('a string becomes a TEXT payload of its UTF-8 bytes', () => {
  const { opcode, payload } = encodeSendPayload('héllo ✓ 😀');
  assert.equal(opcode, WS_OPCODE.TEXT);
  assert.ok(payload instanceof Uint8Array);
  assert.equal(hex(payload), Buffer.from('héllo ✓ 😀', 'utf8').toString('hex'));
});

test('an empty string becomes an empty TEXT payload', () => {
  const { opcode, payload } = encodeSendPayload('');
  assert.equal(opcode, WS_OPCODE.TEXT);
  assert.equal(payload.length, 0);
});

test('a lone surrogate in a string is sent as U+FFFD, as TextEncoder does', () => {
  assert.equal(hex(encodeSendPayload('a\ud800b').payload), hex(new TextEncoder().encode('a\ud800b')));
  assert.equal(hex(encodeSendPayload('\udfff').payload), 'efbfbd');
});

test('a Uint8Array is passed through as the very same object', () => {
  const data = Uint8Array.of(1, 2, 3);
  const result = encodeSendPayload(data);
  assert.equal(result.opcode, WS_OPCODE.BINARY);
  assert.equal(result.payload, data);
});

test('a Buffer (a Uint8Array) is passed through as the very same object', () => {
  const data = Buffer.from('binary');
  const result = encodeSendPayload(data);
  assert.equal(result.opcode, WS_OPCODE.BINARY);
  assert.equal(result.payload, data);
});

test('a DataView is wrapped without a copy: same memory, same window', () => {
  const backing = new ArrayBuffer(16);
  new Uint8Array(backing).set([0, 1, 2, 5, 6, 7, 8, 9]);
  const view = new DataView(backing, 3, 3);
  const { opcode, payload } = encodeSendPayload(view);
  assert.equal(opcode, WS_OPCODE.BINARY);
  assert.ok(payload instanceof Uint8Array);
  assert.equal(payload.buffer, backing);
  assert.equal(payload.byteOffset, 3);
  assert.equal(payload.byteLength, 3);
  assert.deepEqual(Array.from(payload), [5, 6, 7]);
  view.setUint8(0, 0xaa);
  assert.equal(payload[0], 0xaa, 'a write through the view shows in the payload');
});

test('other typed arrays are wrapped as their bytes without a copy', () => {
  const backing = new ArrayBuffer(32);
  const words = new Uint16Array(backing, 8, 3);
  words.set([0x0102, 0x0304, 0x0506]);
  const { opcode, payload } = encodeSendPayload(words);
  assert.equal(opcode, WS_OPCODE.BINARY);
  assert.ok(payload instanceof Uint8Array);
  assert.equal(payload.buffer, backing);
  assert.equal(payload.byteOffset, 8);
  assert.equal(payload.byteLength, 6);
  assert.equal(hex(payload), hex(new Uint8Array(backing, 8, 6)));

  const floats = new Float64Array([1.5]);
  const wrapped = encodeSendPayload(floats).payload;
  assert.equal(wrapped.buffer, floats.buffer);
  assert.equal(wrapped.byteLength, 8);
});

test('an ArrayBuffer is wrapped without a copy', () => {
  const backing = Uint8Array.of(9, 8, 7).buffer;
  const { opcode, payload } = encodeSendPayload(backing);
  assert.equal(opcode, WS_OPCODE.BINARY);
  assert.ok(payload instanceof Uint8Array);
  assert.equal(payload.buffer, backing);
  assert.equal(payload.byteOffset, 0);
  assert.deepEqual(Array.from(payload), [9, 8, 7]);
});

test('an empty ArrayBuffer becomes an empty BINARY payload', () => {
  const { opcode, payload } = encodeSendPayload(new ArrayBuffer(0));
  assert.equal(opcode, WS_OPCODE.BINARY);
  assert.equal(payload.length, 0);
});

test('the result has exactly the fields opcode and payload', () => {
  assert.deepEqual(Object.keys(encodeSendPayload('x')).sort(), ['opcode', 'payload']);
  assert.deepEqual(Object.keys(encodeSendPayload(new Uint8Array(1))).sort(), ['opcode', 'payload']);
});
