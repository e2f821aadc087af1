'use strict';

// The opening handshake's decision (RFC 6455 §4.2), the same on every runtime, in DaloyJS's
// order after the route match: shutdown, method, handshake headers, request URL, allowedOrigins,
// beforeUpgrade. It returns data; the Node wiring (lib/node/upgrade.js) writes it to a socket, the
// Bun/Deno wiring (lib/web/upgrade.js) turns it into the runtime's upgrade or a `Response`.

const { WebSocketProtocolError } = require('../primitives/errors.js');
const {
  validateUpgradeSync,
  validateSelectedSubprotocol,
  checkWebSocketOrigin,
} = require('../primitives/handshake.js');
const { log } = require('./logger.js');
const { isThenable } = require('./handler-calls.js');

/**
 * What a wiring knows of an upgrade request.
 * @typedef {object} UpgradeRequest
 * @property {string} method
 * @property {string} pathname
 * @property {string} search `""` or `"?..."`
 * @property {string} href the URL as the client sees it (on Node, built from the Host header)
 * @property {Headers | Record<string, string | string[] | undefined>} headers as the runtime gives them
 * @property {Record<string, string>} headerFields `ctx.headers`: one string per header name
 * @property {Request} request `ctx.request`, what beforeUpgrade and a function origin policy receive
 */

/**
 * Accept: the route, the ctx of beforeUpgrade and open, the selected subprotocol ("" for none) and
 * the Sec-WebSocket-Accept value.
 * @typedef {{ accept: true, route: { path: string, handler: object, options: object }, ctx: object,
 *   protocol: string, acceptKey: string }} Accept
 */

/**
 * Reject with a plain-text answer (`headers`: extra response headers), or with
 * the `Response` beforeUpgrade returned (`response`, its status, headers and body reach the client).
 * @typedef {{ accept: false, status: number, reason: string, headers: Record<string, string>,
 *   response?: undefined } | { accept: false, response: Response }} Reject
 */

/** @param {number} status @param {string} reason @param {Record<string, string>} [headers] @returns {Reject} */
function rejection(status, reason, headers) {
  return { accept: false, status, reason, headers: headers === undefined ? {} : headers };
}

const SHUTTING_DOWN = rejection(503, 'Server is shutting down');

/** Whether `value` is a fetch `Response`, this runtime's or another implementation's (undici's). */
function isResponse(value) {
  if (typeof Response === 'function' && value instanceof Response) return true;
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.status === 'number' &&
    typeof value.arrayBuffer === 'function' &&
    value.headers !== null &&
    typeof value.headers === 'object' &&
    typeof value.headers.forEach === 'function'
  );
}

/**
 * Decides an upgrade request for the route that owns its path (`match`, from
 * `app.webSocketRoutes.find(pathname)`: what a path no route owns means is the wiring's choice).
 * Returns the decision, or a Promise of it when beforeUpgrade is asynchronous. Only a fault of this
 * code (never one of the application's) throws or rejects.
 * @param {{ logger: object, shuttingDown: boolean }} host
 * @param {{ route: { path: string, handler: any, options: object }, params: Record<string, string> }} match
 * @param {UpgradeRequest} req
 * @returns {Accept | Reject | Promise<Accept | Reject>}
 */
function decideUpgrade(host, match, req) {
  const route = match.route;
  if (host.shuttingDown) return SHUTTING_DOWN;
  // RFC 6455 §4.1: the opening handshake is an HTTP/1.1 GET.
  if (req.method !== 'GET') return rejection(405, 'WebSocket upgrade requires GET', { Allow: 'GET' });
  const result = validateUpgradeSync(req.headers);
  if (!result.ok) {
    // RFC 6455 §4.4: a version mismatch is answered with the versions this server speaks.
    return rejection(result.status, result.reason, result.status === 426 ? { 'Sec-WebSocket-Version': '13' } : {});
  }
  // A runtime's own server parses the URL before this runs; on Node it is built from the Host header.
  if (!URL.canParse(req.href)) return rejection(400, 'Invalid Host header or request target');
  const ctx = {
    request: req.request,
    params: match.params,
    query: req.search.length > 1 ? Object.fromEntries(new URLSearchParams(req.search)) : {},
    headers: req.headerFields,
    state: {},
    protocols: result.protocols,
  };
  const handler = route.handler;
  const policy = handler.allowedOrigins;
  if (policy !== undefined) {
    // A function policy receives the request; the others need only the URL and the Origin header.
    const subject = typeof policy === 'function' ? req.request : { url: req.href, headers: req.headers };
    const verdict = checkWebSocketOrigin(subject, policy);
    if (!verdict.ok) return rejection(403, verdict.reason);
  }
  if (handler.beforeUpgrade === undefined) return accepted(route, ctx, '', result.acceptKey);
  let decision;
  try {
    decision = handler.beforeUpgrade(req.request, ctx);
  } catch (err) {
    return beforeUpgradeFailed(host, route, err);
  }
  if (isThenable(decision) && !isResponse(decision)) {
    return Promise.resolve(decision).then(
      (value) => decide(host, route, ctx, result, value),
      (err) => beforeUpgradeFailed(host, route, err),
    );
  }
  return decide(host, route, ctx, result, decision);
}

/** @returns {Accept} */
function accepted(route, ctx, protocol, acceptKey) {
  return { accept: true, route, ctx, protocol, acceptKey };
}

// beforeUpgrade's answer: a Response rejects; a string selects a subprotocol; anything else accepts.
function decide(host, route, ctx, result, decision) {
  if (host.shuttingDown) return SHUTTING_DOWN;
  if (isResponse(decision)) return /** @type {Reject} */ ({ accept: false, response: decision });
  let protocol = '';
  if (typeof decision === 'string') {
    try {
      protocol = validateSelectedSubprotocol(decision, result.protocols);
    } catch (err) {
      return beforeUpgradeFailed(host, route, err);
    }
  }
  return accepted(route, ctx, protocol, result.acceptKey);
}

// A WebSocketProtocolError is the application's way to answer 400 with its message; anything
// else is a fault: logged, and answered 500.
function beforeUpgradeFailed(host, route, err) {
  if (err instanceof WebSocketProtocolError) return rejection(400, err.message);
  log(host.logger, 'error', { err, path: route.path }, 'WebSocket beforeUpgrade() failed');
  return rejection(500, 'Internal Server Error');
}

module.exports = { decideUpgrade };
