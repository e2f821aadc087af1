import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  WS_GUID,
  WebSocketProtocolError,
  computeAcceptKey,
  computeAcceptKeySync,
  parseSubprotocols,
  validateSelectedSubprotocol,
  validateUpgrade,
  validateUpgradeSync,
} from '../index.mjs';
import { prng } from './helpers/frames.mjs';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const reference = (key) => createHash('sha1').update(key + WS_GUID).digest('base64');

const GOOD = Object.freeze({
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-version': '13',
  'sec-websocket-key': RFC_KEY,
});

const BAD_UPGRADE = { ok: false, status: 400, reason: 'Missing or invalid Upgrade header' };
const BAD_CONNECTION = { ok: false, status: 400, reason: 'Missing or invalid Connection header' };
const BAD_VERSION = { ok: false, status: 426, reason: 'Unsupported Sec-WebSocket-Version' };
const BAD_KEY = { ok: false, status: 400, reason: 'Missing or invalid Sec-WebSocket-Key' };

/** The request headers as a WHATWG Headers object, with `changes` applied (undefined deletes). */
function headers(changes = {}) {
  const h = new Headers(GOOD);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) h.delete(name);
    else h.set(name, value);
  }
  return h;
}

/** The same headers as Node's IncomingHttpHeaders: a plain object with lower-case keys. */
function plain(changes = {}) {
  const h = { ...GOOD };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete h[name];
    else h[name] = value;
  }
  return h;
}

const b64 = (length, fill = 7) => Buffer.alloc(length, fill).toString('base64');

// ---------------------------------------------------------------- accept key

test('computeAcceptKey gives the RFC 6455 §1.3 example value', async () => {
  assert.equal(await computeAcceptKey(RFC_KEY), RFC_ACCEPT);
});

test('computeAcceptKey returns a Promise, as DaloyJS does', async () => {
  const result = computeAcceptKey(RFC_KEY);
  assert.ok(result instanceof Promise);
  assert.equal(await result, RFC_ACCEPT);
});

test('computeAcceptKeySync returns the accept key directly', () => {
  const result = computeAcceptKeySync(RFC_KEY);
  assert.equal(typeof result, 'string');
  assert.equal(result, RFC_ACCEPT);
});

test('computeAcceptKey is base64(SHA-1(key + GUID)) for any key, non-ASCII included', async () => {
  const rng = prng(0x5eed01);
  const keys = ['', 'x', 'clé-ünïcode ✓', ' padded '];
  for (let i = 0; i < 32; i++) keys.push(Buffer.from(rng.bytes(16)).toString('base64'));
  for (const key of keys) {
    assert.equal(await computeAcceptKey(key), reference(key), `key ${JSON.stringify(key)}`);
    assert.equal(computeAcceptKeySync(key), reference(key), `key ${JSON.stringify(key)}`);
  }
});

// ---------------------------------------------------------------- validateUpgrade

test('validateUpgrade accepts a well-formed handshake and computes the accept key', async () => {
  const result = await validateUpgrade(
    headers({ connection: 'keep-alive, Upgrade', 'sec-websocket-protocol': 'chat, superchat' }),
  );
  assert.deepEqual(result, { ok: true, acceptKey: RFC_ACCEPT, protocols: ['chat', 'superchat'] });
});

test('validateUpgrade returns a Promise, also for a rejection', async () => {
  const accepted = validateUpgrade(headers());
  const rejected = validateUpgrade(headers({ upgrade: undefined }));
  assert.ok(accepted instanceof Promise);
  assert.ok(rejected instanceof Promise);
  assert.equal((await accepted).ok, true);
  assert.deepEqual(await rejected, BAD_UPGRADE);
});

test('validateUpgrade gives an empty protocol list when none is offered', async () => {
  assert.deepEqual(await validateUpgrade(headers()), { ok: true, acceptKey: RFC_ACCEPT, protocols: [] });
});

test('validateUpgrade accepts a plain IncomingHttpHeaders object', async () => {
  const result = await validateUpgrade(plain({ 'sec-websocket-protocol': 'a, b ,c' }));
  assert.deepEqual(result, { ok: true, acceptKey: RFC_ACCEPT, protocols: ['a', 'b', 'c'] });
});

test('validateUpgradeSync gives the same verdicts synchronously', () => {
  assert.deepEqual(validateUpgradeSync(headers()), { ok: true, acceptKey: RFC_ACCEPT, protocols: [] });
  assert.deepEqual(validateUpgradeSync(plain({ 'sec-websocket-version': '8' })), BAD_VERSION);
  assert.deepEqual(validateUpgradeSync(headers({ 'sec-websocket-key': b64(15) })), BAD_KEY);
});

test('Upgrade: "websocket" matches case-insensitively', async () => {
  for (const upgrade of ['websocket', 'WebSocket', 'WEBSOCKET']) {
    assert.equal((await validateUpgrade(headers({ upgrade }))).ok, true, upgrade);
    assert.equal((await validateUpgrade(plain({ upgrade }))).ok, true, upgrade);
  }
});

test('Upgrade: missing or another protocol is 400 "Missing or invalid Upgrade header"', async () => {
  for (const upgrade of [undefined, '', 'h2c', 'websockets', 'web socket']) {
    assert.deepEqual(await validateUpgrade(headers({ upgrade })), BAD_UPGRADE, `Headers ${upgrade}`);
    assert.deepEqual(await validateUpgrade(plain({ upgrade })), BAD_UPGRADE, `plain ${upgrade}`);
  }
});

test('Connection: the token "upgrade" may appear anywhere in the list, in any case', async () => {
  for (const connection of ['Upgrade', 'upgrade', 'keep-alive, Upgrade', 'Upgrade, keep-alive', 'keep-alive,upgrade']) {
    assert.equal((await validateUpgrade(headers({ connection }))).ok, true, connection);
    assert.equal((await validateUpgrade(plain({ connection }))).ok, true, connection);
  }
});

test('Connection: missing or without "upgrade" is 400 "Missing or invalid Connection header"', async () => {
  for (const connection of [undefined, '', 'keep-alive', 'close', 'upgraded']) {
    assert.deepEqual(await validateUpgrade(headers({ connection })), BAD_CONNECTION, `Headers ${connection}`);
    assert.deepEqual(await validateUpgrade(plain({ connection })), BAD_CONNECTION, `plain ${connection}`);
  }
});

test('Sec-WebSocket-Version: anything but exactly "13" is 426 "Unsupported Sec-WebSocket-Version"', async () => {
  for (const version of [undefined, '', '8', '12', '14', '13, 8', '013']) {
    assert.deepEqual(await validateUpgrade(headers({ 'sec-websocket-version': version })), BAD_VERSION, `Headers ${version}`);
    assert.deepEqual(await validateUpgrade(plain({ 'sec-websocket-version': version })), BAD_VERSION, `plain ${version}`);
  }
});

test('Sec-WebSocket-Key: base64 of exactly 16 bytes is accepted', async () => {
  const rng = prng(0x5eed02);
  for (let i = 0; i < 16; i++) {
    const key = Buffer.from(rng.bytes(16)).toString('base64');
    assert.deepEqual(await validateUpgrade(plain({ 'sec-websocket-key': key })), {
      ok: true,
      acceptKey: reference(key),
      protocols: [],
    });
  }
});

test('Sec-WebSocket-Key: a 15- or 17-byte nonce is 400 "Missing or invalid Sec-WebSocket-Key"', async () => {
  for (const key of [b64(15), b64(17), b64(1), b64(32)]) {
    assert.deepEqual(await validateUpgrade(headers({ 'sec-websocket-key': key })), BAD_KEY, key);
    assert.deepEqual(await validateUpgrade(plain({ 'sec-websocket-key': key })), BAD_KEY, key);
  }
});

test('Sec-WebSocket-Key: only canonical base64 counts (24 characters ending in ==), where atob would forgive', async () => {
  // atob, which DaloyJS uses, accepts each of these as 16 bytes.
  for (const key of ['dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZR==', ' dGhlIHNhbXBsZSBub25jZQ==', 'dGhl IHNhbXBsZSBub25jZQ==']) {
    assert.equal(atob(key.trim()).length >= 15, true, key);
    assert.deepEqual(await validateUpgrade(plain({ 'sec-websocket-key': key })), BAD_KEY, key);
  }
});

test('Sec-WebSocket-Key: missing, empty or not base64 is 400 "Missing or invalid Sec-WebSocket-Key"', async () => {
  for (const key of [undefined, '', 'not-base64', '!!!!!!!!!!!!!!!!!!!!!!!!', 'dGhlIHNhbXBsZSBub25jZQ=!']) {
    assert.deepEqual(await validateUpgrade(headers({ 'sec-websocket-key': key })), BAD_KEY, `Headers ${key}`);
    assert.deepEqual(await validateUpgrade(plain({ 'sec-websocket-key': key })), BAD_KEY, `plain ${key}`);
  }
});

test('checks run in order: Upgrade, Connection, Version, Key', async () => {
  const allBad = { upgrade: 'h2c', connection: 'close', 'sec-websocket-version': '8', 'sec-websocket-key': 'x' };
  assert.deepEqual(await validateUpgrade(headers(allBad)), BAD_UPGRADE);
  assert.deepEqual(await validateUpgrade(headers({ ...allBad, upgrade: 'websocket' })), BAD_CONNECTION);
  assert.deepEqual(
    await validateUpgrade(headers({ ...allBad, upgrade: 'websocket', connection: 'Upgrade' })),
    BAD_VERSION,
  );
  assert.deepEqual(
    await validateUpgrade(
      headers({ ...allBad, upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13' }),
    ),
    BAD_KEY,
  );
  assert.deepEqual(validateUpgradeSync(plain(allBad)), BAD_UPGRADE);
  assert.deepEqual(validateUpgradeSync(plain({ ...allBad, upgrade: 'websocket' })), BAD_CONNECTION);
});

test('validateUpgrade reads any Headers-like object through get(name), with lower-case names', async () => {
  const asked = [];
  const values = new Map(Object.entries({ ...GOOD, 'sec-websocket-protocol': 'p1' }));
  const result = await validateUpgrade({
    get(name) {
      asked.push(name);
      return values.get(name) ?? null;
    },
  });
  assert.deepEqual(result, { ok: true, acceptKey: RFC_ACCEPT, protocols: ['p1'] });
  for (const name of asked) assert.equal(name, name.toLowerCase());
  assert.ok(asked.includes('sec-websocket-key'));
});

// ---------------------------------------------------------------- subprotocols

test('parseSubprotocols: null, undefined and empty give no protocols', () => {
  assert.deepEqual(parseSubprotocols(null), []);
  assert.deepEqual(parseSubprotocols(undefined), []);
  assert.deepEqual(parseSubprotocols(''), []);
  assert.deepEqual(parseSubprotocols(' , ,, '), []);
});

test('parseSubprotocols splits on commas, trims, drops empties and keeps the client order', () => {
  assert.deepEqual(parseSubprotocols('chat'), ['chat']);
  assert.deepEqual(parseSubprotocols(' chat ,  superchat , '), ['chat', 'superchat']);
  assert.deepEqual(parseSubprotocols('b,a,c'), ['b', 'a', 'c']);
  assert.deepEqual(parseSubprotocols('a, a'), ['a', 'a']);
  assert.deepEqual(parseSubprotocols('\tv1.json,\tv2.json\t'), ['v1.json', 'v2.json']);
});

test('validateSelectedSubprotocol returns an offered token unchanged', () => {
  assert.equal(validateSelectedSubprotocol('chat.v1', ['chat.v1', 'chat.v2']), 'chat.v1');
  const every = "!#$%&'*+-.^_`|~0123456789abcXYZ";
  assert.equal(validateSelectedSubprotocol(every, ['x', every]), every);
});

function assertSubprotocolError(fn, message) {
  let thrown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof WebSocketProtocolError, `expected a WebSocketProtocolError: ${message}`);
  assert.equal(thrown.name, 'WebSocketProtocolError');
  assert.equal(thrown.message, message);
  assert.match(thrown.code, /^WS_ERR_[A-Z0-9_]+$/);
  assert.equal(typeof thrown.closeCode, 'number');
}

test('validateSelectedSubprotocol rejects a protocol the client did not offer', () => {
  const message = 'Selected WebSocket subprotocol was not offered by the client';
  assertSubprotocolError(() => validateSelectedSubprotocol('chat.v3', ['chat.v1']), message);
  assertSubprotocolError(() => validateSelectedSubprotocol('chat', []), message);
  assertSubprotocolError(() => validateSelectedSubprotocol('Chat', ['chat']), message);
});

test('validateSelectedSubprotocol rejects a value that is not an HTTP token, even if offered', () => {
  const message = 'Selected WebSocket subprotocol must be a valid HTTP token';
  for (const bad of ['', 'bad\r\nheader', 'a b', 'a,b', 'a/b', 'a:b', '(x)', '"x"', 'é', 'a\tb', 'a;b', 'a=b', '{x}']) {
    assertSubprotocolError(() => validateSelectedSubprotocol(bad, [bad]), message);
  }
});

test('validateSelectedSubprotocol checks the token before the offer', () => {
  assertSubprotocolError(
    () => validateSelectedSubprotocol('not offered\r\n', ['chat']),
    'Selected WebSocket subprotocol must be a valid HTTP token',
  );
});
