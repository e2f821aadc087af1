import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WebSocketProtocolError,
  WebSocketPayloadTooLargeError,
  parseFrame,
  decodeClosePayload,
} from '../index.mjs';

test('WebSocketProtocolError is an Error named WebSocketProtocolError', () => {
  const err = new WebSocketProtocolError('boom');
  assert.ok(err instanceof Error);
  assert.ok(err instanceof WebSocketProtocolError);
  assert.equal(err.name, 'WebSocketProtocolError');
  assert.equal(err.message, 'boom');
  assert.equal(typeof err.stack, 'string');
  assert.equal(Object.getPrototypeOf(WebSocketProtocolError.prototype), Error.prototype);
});

test('WebSocketPayloadTooLargeError extends WebSocketProtocolError with limit and actual', () => {
  const err = new WebSocketPayloadTooLargeError(16, 17);
  assert.ok(err instanceof WebSocketPayloadTooLargeError);
  assert.ok(err instanceof WebSocketProtocolError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'WebSocketPayloadTooLargeError');
  assert.equal(err.message, 'WebSocket message exceeds maxPayloadLength (17 > 16)');
  assert.equal(err.limit, 16);
  assert.equal(err.actual, 17);
  assert.equal(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  assert.equal(err.closeCode, 1009);
});

test('WebSocketPayloadTooLargeError limit and actual are read-only', () => {
  const err = new WebSocketPayloadTooLargeError(16, 17);
  try {
    err.limit = 1;
  } catch {
    // a strict-mode write to a read-only property throws; either way the value must stay
  }
  try {
    err.actual = 1;
  } catch {
    // as above
  }
  assert.equal(err.limit, 16);
  assert.equal(err.actual, 17);
});

test('errors raised in native code are instances of the exported classes', () => {
  let thrown;
  try {
    parseFrame(new Uint8Array([0xc1, 0x00]));
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof WebSocketProtocolError);
  assert.equal(thrown.constructor, WebSocketProtocolError);
  assert.equal(thrown.name, 'WebSocketProtocolError');

  try {
    parseFrame(new Uint8Array([0x82, 0x7e, 0x01, 0x00]), { maxPayload: 10 });
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof WebSocketPayloadTooLargeError);
  assert.equal(thrown.constructor, WebSocketPayloadTooLargeError);
});

test('protocol errors carry a WS_ERR_* code and a close code', () => {
  let thrown;
  try {
    decodeClosePayload(new Uint8Array([0x03, 0xe8, 0xff]));
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof WebSocketProtocolError);
  assert.equal(thrown.code, 'WS_ERR_INVALID_UTF8');
  assert.equal(thrown.closeCode, 1007);
});
