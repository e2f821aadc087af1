'use strict';

// The opening handshake (RFC 6455 §4.2) for servers that hand over a WHATWG `Request` (Bun.serve,
// Deno.serve), in the order the Node wiring uses: route match, method, handshake headers,
// allowedOrigins, beforeUpgrade. The runtime then answers 101 itself (server.upgrade,
// Deno.upgradeWebSocket). Rejections come back as `Response` objects.

const { WebSocketProtocolError } = require('../primitives/errors.js');
const { validateUpgradeSync, validateSelectedSubprotocol, checkWebSocketOrigin } = require('../primitives/handshake.js');
const { log } = require('../app/logger.js');
const { isThenable } = require('../app/handler-calls.js');

function textResponse(status, body, headers) {
  const init = { status, headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close', ...headers } };
  return new Response(body, init);
}

/**
 * Whether the request asks for a protocol switch, by the rule Node's HTTP parser applies before it
 * emits `upgrade`: an `Upgrade` header and the `upgrade` token in `Connection`. Other requests
 * are plain HTTP and go to the application's request handler.
 * @param {Request} req
 */
function isUpgradeRequest(req) {
  if (!req.headers.has('upgrade')) return false;
  const connection = req.headers.get('connection');
  if (connection === null) return false;
  for (const token of connection.split(',')) {
    if (token.trim().toLowerCase() === 'upgrade') return true;
  }
  return false;
}

function isResponse(value) {
  return typeof Response === 'function' && value instanceof Response;
}

/** ctx for beforeUpgrade and open: the same fields as on Node, `request` being the runtime's own. */
function createContext(req, url, params, protocols) {
  const headers = {};
  req.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    request: req,
    params,
    query: url.search.length > 1 ? Object.fromEntries(url.searchParams) : {},
    headers,
    state: {},
    protocols,
  };
}

/**
 * Checks an upgrade request against the app's routes.
 * Returns a `Response` (rejection), or `{ route, ctx, protocol }` for the runtime to upgrade, or
 * a Promise of either when beforeUpgrade is asynchronous.
 * @param {{ app: object, logger: object, shuttingDown: boolean }} host
 * @param {Request} req
 */
function negotiate(host, req) {
  const url = new URL(req.url);
  const match = host.app.webSocketRoutes.find(url.pathname);
  if (match === undefined) return textResponse(404, 'Not Found');
  const route = match.route;
  if (host.shuttingDown) return textResponse(503, 'Server is shutting down');
  // RFC 6455 §4.1: the opening handshake is an HTTP/1.1 GET.
  if (req.method !== 'GET') return textResponse(405, 'WebSocket upgrade requires GET', { allow: 'GET' });
  const result = validateUpgradeSync(req.headers);
  if (!result.ok) {
    // RFC 6455 §4.4: a version mismatch is answered with the versions this server speaks.
    return textResponse(result.status, result.reason, result.status === 426 ? { 'sec-websocket-version': '13' } : {});
  }
  const ctx = createContext(req, url, match.params, result.protocols);
  const handler = route.handler;
  if (handler.allowedOrigins !== undefined) {
    const verdict = checkWebSocketOrigin(req, handler.allowedOrigins);
    if (!verdict.ok) return textResponse(403, verdict.reason);
  }
  if (handler.beforeUpgrade === undefined) return { route, ctx, protocol: '' };
  let decision;
  try {
    decision = handler.beforeUpgrade(req, ctx);
  } catch (err) {
    return beforeUpgradeFailed(host, route, err);
  }
  if (isThenable(decision) && !isResponse(decision)) {
    return Promise.resolve(decision).then(
      (value) => decide(host, route, ctx, result.protocols, value),
      (err) => beforeUpgradeFailed(host, route, err),
    );
  }
  return decide(host, route, ctx, result.protocols, decision);
}

function decide(host, route, ctx, offered, decision) {
  if (host.shuttingDown) return textResponse(503, 'Server is shutting down');
  if (isResponse(decision)) return decision;
  let protocol = '';
  if (typeof decision === 'string') {
    try {
      protocol = validateSelectedSubprotocol(decision, offered);
    } catch (err) {
      return beforeUpgradeFailed(host, route, err);
    }
  }
  return { route, ctx, protocol };
}

function beforeUpgradeFailed(host, route, err) {
  if (err instanceof WebSocketProtocolError) return textResponse(400, err.message);
  log(host.logger, 'error', { err, path: route.path }, 'WebSocket beforeUpgrade() failed');
  return textResponse(500, 'Internal Server Error');
}

module.exports = { negotiate, isUpgradeRequest, isResponse, textResponse };
