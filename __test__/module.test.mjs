import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as esm from '../index.mjs';

const require = createRequire(import.meta.url);
const cjs = require('../index.js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

// Every runtime export of `@daloyjs/core/websocket` named in the spec, and this package's additions.
const DALOY_VALUES = {
  WS_GUID: 'string',
  WS_READY_STATE: 'object',
  WS_OPCODE: 'object',
  WS_CLOSE_CODE: 'object',
  WS_MAX_CONTROL_PAYLOAD: 'number',
  DEFAULT_WS_BACKPRESSURE_LIMIT: 'number',
  DEFAULT_WS_MAX_PAYLOAD_LENGTH: 'number',
  DEFAULT_WS_IDLE_TIMEOUT_SECONDS: 'number',
  FRAME_INCOMPLETE: 'symbol',
  WebSocketProtocolError: 'function',
  WebSocketPayloadTooLargeError: 'function',
  computeAcceptKey: 'function',
  parseSubprotocols: 'function',
  validateSelectedSubprotocol: 'function',
  validateUpgrade: 'function',
  checkWebSocketOrigin: 'function',
  parseFrame: 'function',
  encodeFrame: 'function',
  isValidWireCloseCode: 'function',
  encodeClosePayload: 'function',
  decodeClosePayload: 'function',
  encodeSendPayload: 'function',
  defineWebSocket: 'function',
  FrameSink: 'function',
  normalizeWebSocketOptions: 'function',
  WebSocketRegistry: 'function',
};
const PACKAGE_VALUES = {
  DEFAULT_WS_MAX_FRAGMENTS: 'number',
  computeAcceptKeySync: 'function',
  validateUpgradeSync: 'function',
};

test('every export of the spec exists with the right kind (ESM)', () => {
  for (const [name, kind] of Object.entries({ ...DALOY_VALUES, ...PACKAGE_VALUES })) {
    assert.ok(name in esm, `missing ESM export ${name}`);
    assert.equal(typeof esm[name], kind, `ESM export ${name}`);
  }
});

test('every export of the spec exists with the right kind (CommonJS)', () => {
  for (const [name, kind] of Object.entries({ ...DALOY_VALUES, ...PACKAGE_VALUES })) {
    assert.ok(name in cjs, `missing CommonJS export ${name}`);
    assert.equal(typeof cjs[name], kind, `CommonJS export ${name}`);
  }
});

test('ESM and CommonJS expose the same names', () => {
  const esmNames = Object.keys(esm)
    .filter((name) => name !== 'default')
    .sort();
  assert.deepEqual(esmNames, Object.keys(cjs).sort());
});

test('ESM and CommonJS expose the same objects (one module instance)', () => {
  for (const name of Object.keys(cjs)) {
    assert.equal(esm[name], cjs[name], `${name} differs between ESM and CommonJS`);
  }
  assert.equal(esm.FRAME_INCOMPLETE, cjs.FRAME_INCOMPLETE);
});

test('an error thrown through the ESM entry is an instance of the CommonJS class', () => {
  assert.throws(() => esm.parseFrame(new Uint8Array([0x83, 0x00])), cjs.WebSocketProtocolError);
  assert.equal(cjs.parseFrame(new Uint8Array([0x81])), esm.FRAME_INCOMPLETE);
});

test('constructors are classes (callable only with new)', () => {
  assert.throws(() => esm.FrameSink({}), TypeError);
  assert.throws(() => esm.WebSocketProtocolError('x'), TypeError);
});

test('package.json maps "." and "./websocket" to the same entry files', () => {
  assert.equal(pkg.name, 'daloy-ws-native');
  const main = pkg.exports['.'];
  const websocket = pkg.exports['./websocket'];
  assert.deepEqual(websocket, main);
  assert.equal(main.types, './index.d.ts');
  assert.equal(main.import, './index.mjs');
  assert.equal(main.require, './index.js');
  // "types" must come first for TypeScript's conditional resolution.
  assert.equal(Object.keys(main)[0], 'types');
  assert.equal(pkg.main, 'index.js');
  assert.equal(pkg.types, 'index.d.ts');
  for (const file of Object.values(main)) assert.ok(existsSync(path.join(root, file)), `${file} exists`);
});

test('package.json maps "./node" to the Node wiring entry', () => {
  const node = pkg.exports['./node'];
  assert.ok(node, 'exports["./node"]');
  assert.equal(node.types, './node.d.ts');
  assert.equal(node.import, './node.mjs');
  assert.equal(node.require, './node.js');
});

test('package.json maps "./ws" to the ws-compatible module; ESM and CommonJS give the same objects', async () => {
  const ws = pkg.exports['./ws'];
  assert.deepEqual(ws, { types: './ws.d.ts', import: './ws.mjs', require: './ws.js' });
  for (const file of Object.values(ws)) assert.ok(existsSync(path.join(root, file)), `${file} exists`);
  for (const file of Object.values(ws)) assert.ok(pkg.files.includes(file.slice(2)), `${file} is in files`);
  const fromCjs = require('../ws.js');
  const fromEsm = await import('../ws.mjs');
  // Through the package's own name as well, where the runtime resolves a self-reference by the
  // exports conditions (Deno's import of a subpath of the package itself takes the CommonJS file).
  if (process.versions.deno === undefined) {
    assert.equal(require('daloy-ws-native/ws'), fromCjs);
    assert.equal((await import('daloy-ws-native/ws')).default, fromCjs);
  }
  assert.equal(fromEsm.default, fromCjs);
  assert.equal(fromEsm.WebSocket, fromCjs);
  for (const name of ['WebSocketServer', 'createWebSocketStream', 'Sender', 'Receiver']) {
    assert.equal(fromEsm[name], fromCjs[name], name);
    assert.equal(typeof fromCjs[name], 'function', name);
  }
  assert.equal(fromCjs.Server, fromCjs.WebSocketServer);
});

test('the package name resolves through its exports map (ESM self-reference)', async () => {
  const byName = await import('daloy-ws-native');
  const bySubpath = await import('daloy-ws-native/websocket');
  assert.equal(byName.FrameSink, esm.FrameSink);
  assert.equal(bySubpath.FrameSink, esm.FrameSink);
  assert.equal(bySubpath.FRAME_INCOMPLETE, esm.FRAME_INCOMPLETE);
});

test('the package name resolves through its exports map (CommonJS self-reference)', () => {
  assert.equal(require.resolve('daloy-ws-native'), path.join(root, 'index.js'));
  assert.equal(require.resolve('daloy-ws-native/websocket'), path.join(root, 'index.js'));
  assert.equal(require('daloy-ws-native/websocket'), cjs);
});

test('defineWebSocket returns its argument unchanged', () => {
  const handler = { open() {}, message() {} };
  assert.equal(esm.defineWebSocket(handler), handler);
  assert.deepEqual(Object.keys(handler), ['open', 'message']);
});
