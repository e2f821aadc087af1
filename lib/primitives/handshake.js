'use strict';

// The opening handshake (RFC 6455 §4.2): the accept key, the offered and the selected subprotocol,
// the checks of the request headers, and a route's Origin policy. The checks run in Rust
// (src/handshake.rs); this file shapes the arguments and the results.

const binding = require('./addon.js');
const { WebSocketProtocolError } = require('./errors.js');
const { headerValue } = require('./header-value.js');

/** `base64(SHA-1(key + WS_GUID))` (RFC 6455 §4.2.2), synchronously. */
function computeAcceptKeySync(key) {
  if (typeof key !== 'string') throw new TypeError('computeAcceptKey: key must be a string');
  return binding.computeAcceptKey(key);
}

/** `base64(SHA-1(key + WS_GUID))` (RFC 6455 §4.2.2). A Promise, as DaloyJS returns. */
async function computeAcceptKey(key) {
  return computeAcceptKeySync(key);
}

// In Unicode mode a surrogate pair is one code point: this matches only a surrogate left alone.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Offered subprotocols: split on `,`, trimmed, empties dropped, client order kept. */
function parseSubprotocols(header) {
  if (header === null || header === undefined || header === '') return [];
  if (typeof header !== 'string') throw new TypeError('parseSubprotocols: header must be a string, null or undefined');
  // A lone surrogate (never in a header read from the network) would cross into Rust as U+FFFD:
  // such a string is split here, so the tokens come back as given.
  if (LONE_SURROGATE.test(header)) return header.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return binding.parseSubprotocols(header);
}

function subprotocolError(message) {
  return new WebSocketProtocolError(message, { code: 'WS_ERR_INVALID_SUBPROTOCOL', closeCode: 1002 });
}

/** Returns `protocol` if it is an HTTP token the client offered; throws otherwise. */
function validateSelectedSubprotocol(protocol, offered) {
  if (typeof protocol !== 'string' || !binding.isHttpToken(protocol)) {
    throw subprotocolError('Selected WebSocket subprotocol must be a valid HTTP token');
  }
  if (!Array.isArray(offered) || !offered.includes(protocol)) {
    throw subprotocolError('Selected WebSocket subprotocol was not offered by the client');
  }
  return protocol;
}


/** Checks the opening handshake (RFC 6455 §4.2.1) and computes the accept key, synchronously. */
function validateUpgradeSync(headers) {
  if (headers === null || typeof headers !== 'object') {
    throw new TypeError('validateUpgrade: headers must be a Headers object or a Node headers object');
  }
  // The accept key (a string) when the headers pass, else `{ status, reason }`.
  const verdict = binding.validateUpgradeHeaders(
    headerValue(headers, 'upgrade'),
    headerValue(headers, 'connection'),
    headerValue(headers, 'sec-websocket-version'),
    headerValue(headers, 'sec-websocket-key'),
  );
  if (typeof verdict === 'string') {
    return { ok: true, acceptKey: verdict, protocols: parseSubprotocols(headerValue(headers, 'sec-websocket-protocol')) };
  }
  return { ok: false, status: verdict.status, reason: verdict.reason };
}

/** Checks the opening handshake (RFC 6455 §4.2.1) and computes the accept key. */
async function validateUpgrade(headers) {
  return validateUpgradeSync(headers);
}

/**
 * Applies a route's `allowedOrigins` policy to an upgrade request (Cross-Site WebSocket Hijacking
 * defence): `undefined` allows all; a function decides (a throw rejects); `"same-origin"` and
 * allow-lists admit requests without an Origin header (not a browser).
 */
function checkWebSocketOrigin(request, policy) {
  if (policy === undefined) return { ok: true };
  const origin = headerValue(request && request.headers, 'origin') ?? null;
  if (typeof policy === 'function') {
    let allowed;
    try {
      allowed = policy(origin, request) === true;
    } catch {
      return { ok: false, reason: 'WebSocket origin check failed' };
    }
    return allowed ? { ok: true } : { ok: false, reason: 'WebSocket upgrade rejected by origin policy' };
  }
  if (origin === null) return { ok: true };
  if (policy === 'same-origin') {
    let own;
    try {
      own = new URL(request.url).origin;
    } catch {
      return { ok: false, reason: 'WebSocket origin check failed' };
    }
    return origin === own
      ? { ok: true }
      : { ok: false, reason: 'WebSocket upgrade rejected: cross-origin handshake' };
  }
  if (!Array.isArray(policy)) return { ok: false, reason: 'WebSocket origin policy is invalid' };
  return policy.includes(origin)
    ? { ok: true }
    : { ok: false, reason: 'WebSocket upgrade rejected: origin not allowlisted' };
}

module.exports = {
  computeAcceptKey,
  computeAcceptKeySync,
  parseSubprotocols,
  validateSelectedSubprotocol,
  validateUpgrade,
  validateUpgradeSync,
  checkWebSocketOrigin,
};
