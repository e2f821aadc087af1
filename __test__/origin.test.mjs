import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWebSocketOrigin } from '../index.mjs';

const URL_ = 'http://app.example:8080/chat/lobby?x=1';
const OWN = 'http://app.example:8080';

const request = (origin, url = URL_) =>
  new Request(url, { headers: origin === undefined ? {} : { origin, upgrade: 'websocket' } });

const OK = { ok: true };
const BY_POLICY = { ok: false, reason: 'WebSocket upgrade rejected by origin policy' };
const FAILED = { ok: false, reason: 'WebSocket origin check failed' };
const CROSS = { ok: false, reason: 'WebSocket upgrade rejected: cross-origin handshake' };
const NOT_LISTED = { ok: false, reason: 'WebSocket upgrade rejected: origin not allowlisted' };
const INVALID = { ok: false, reason: 'WebSocket origin policy is invalid' };

test('an undefined policy allows every origin', () => {
  assert.deepEqual(checkWebSocketOrigin(request('https://evil.example'), undefined), OK);
  assert.deepEqual(checkWebSocketOrigin(request(undefined), undefined), OK);
});

test('a function policy decides, and receives the Origin and the request', () => {
  const calls = [];
  const req = request('https://friend.example');
  const policy = (origin, r) => {
    calls.push([origin, r]);
    return origin === 'https://friend.example';
  };
  assert.deepEqual(checkWebSocketOrigin(req, policy), OK);
  assert.equal(calls.length, 1);
  assert.equal(calls[0][0], 'https://friend.example');
  assert.equal(calls[0][1], req);
  assert.deepEqual(checkWebSocketOrigin(request('https://evil.example'), policy), BY_POLICY);
});

test('a function policy gets null for a missing Origin', () => {
  let seen = 'not called';
  const result = checkWebSocketOrigin(request(undefined), (origin) => {
    seen = origin;
    return false;
  });
  assert.equal(seen, null);
  assert.deepEqual(result, BY_POLICY);
});

test('a function policy must return exactly true to allow', () => {
  for (const value of [1, 'yes', {}, undefined, null, false]) {
    assert.deepEqual(checkWebSocketOrigin(request(OWN), () => value), BY_POLICY, String(value));
  }
});

test('a function policy that throws rejects the upgrade', () => {
  const result = checkWebSocketOrigin(request(OWN), () => {
    throw new Error('database down');
  });
  assert.deepEqual(result, FAILED);
});

test('"same-origin" allows the request URL\'s own origin', () => {
  assert.deepEqual(checkWebSocketOrigin(request(OWN), 'same-origin'), OK);
  assert.deepEqual(checkWebSocketOrigin(request('https://secure.example', 'https://secure.example/ws'), 'same-origin'), OK);
});

test('"same-origin" rejects another scheme, host or port', () => {
  for (const origin of ['https://app.example:8080', 'http://app.example', 'http://app.example:8081', 'http://evil.example:8080', 'null']) {
    assert.deepEqual(checkWebSocketOrigin(request(origin), 'same-origin'), CROSS, origin);
  }
});

test('"same-origin" allows a request without Origin (not a browser)', () => {
  assert.deepEqual(checkWebSocketOrigin(request(undefined), 'same-origin'), OK);
});

test('an allow-list admits exactly the listed origins', () => {
  const list = ['https://a.example', 'https://b.example:8443'];
  assert.deepEqual(checkWebSocketOrigin(request('https://a.example'), list), OK);
  assert.deepEqual(checkWebSocketOrigin(request('https://b.example:8443'), list), OK);
  for (const origin of ['https://c.example', 'https://a.example/', 'HTTPS://A.EXAMPLE', 'https://b.example', 'http://a.example']) {
    assert.deepEqual(checkWebSocketOrigin(request(origin), list), NOT_LISTED, origin);
  }
});

test('an empty allow-list rejects every browser origin', () => {
  assert.deepEqual(checkWebSocketOrigin(request(OWN), []), NOT_LISTED);
});

test('an allow-list allows a request without Origin (not a browser)', () => {
  assert.deepEqual(checkWebSocketOrigin(request(undefined), ['https://a.example']), OK);
  assert.deepEqual(checkWebSocketOrigin(request(undefined), []), OK);
});

test('a policy of another shape rejects a browser origin as invalid', () => {
  assert.deepEqual(checkWebSocketOrigin(request(OWN), '*'), INVALID);
  assert.deepEqual(checkWebSocketOrigin(request(OWN), 42), INVALID);
});
