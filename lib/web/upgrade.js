'use strict';

// The opening handshake (RFC 6455 §4.2) for servers that hand over a WHATWG `Request` (Bun.serve,
// Deno.serve): the decision (lib/app/upgrade-decision.js) translated for the runtime, which answers
// 101 itself (server.upgrade, Deno.upgradeWebSocket). Rejections become `Response` objects.

const { decideUpgrade } = require('../app/upgrade-decision.js');

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

// What the upgrade decision (lib/app/upgrade-decision.js) reads of a WHATWG upgrade request.
function upgradeRequest(req, url) {
  /** @type {Record<string, string>} */
  const headerFields = {};
  req.headers.forEach((value, name) => {
    headerFields[name] = value;
  });
  return {
    method: req.method,
    pathname: url.pathname,
    search: url.search,
    href: req.url,
    headers: req.headers,
    headerFields,
    request: req,
  };
}

/**
 * Checks an upgrade request against the app's routes.
 * Returns a `Response` (rejection), or `{ route, ctx, protocol }` for the runtime to upgrade, or
 * a Promise of either when beforeUpgrade is asynchronous.
 * @param {{ app: import('../app/app.js').App, logger: object, shuttingDown: boolean }} host
 * @param {Request} req
 */
function negotiate(host, req) {
  const url = new URL(req.url);
  const match = host.app.webSocketRoutes.find(url.pathname);
  if (match === undefined) return textResponse(404, 'Not Found');
  const decision = decideUpgrade(host, match, upgradeRequest(req, url));
  return decision instanceof Promise ? decision.then(toWeb) : toWeb(decision);
}

// The decision as the runtime takes it: the data of an acceptance (the runtime writes the 101), or a
// Response.
function toWeb(decision) {
  if (decision.accept) return decision;
  if (decision.response === undefined) return textResponse(decision.status, decision.reason, decision.headers);
  const response = decision.response;
  if (response instanceof Response) return response;
  // A Response of another fetch implementation (the undici package): rebuilt as the runtime's own.
  const headers = new Headers();
  response.headers.forEach((value, name) => {
    headers.append(name, value);
  });
  const init = { status: response.status, statusText: response.statusText, headers };
  if (response.body === null || response.body === undefined) return new Response(null, init);
  return response.arrayBuffer().then(
    (body) => new Response(body, init),
    () => new Response(null, init),
  );
}

module.exports = { negotiate, isUpgradeRequest, textResponse };
