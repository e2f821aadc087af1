'use strict';

// The client side of `ws`'s WebSocket: the opening handshake (RFC 6455 §4.1) over node:http or
// node:https, redirects, and the checks of the server's 101, as `ws` 8.x documents them. Once the
// 101 is checked the socket is handed to WebSocket#setSocket, which reads it through the native
// FrameSink and sends masked frames.

const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const tls = require('node:tls');
const { randomBytes } = require('node:crypto');
const { Buffer } = require('node:buffer');
const binding = require('../primitives/addon.js');
const { computeAcceptKeySync } = require('../primitives/handshake.js');
const { CLOSE_TIMEOUT, DEFAULT_MAX_PAYLOAD } = require('./constants.js');
const { EXTENSION_NAME, PerMessageDeflate, clientOffer, deflateConfig } = require('./permessage-deflate.js');

const PROTOCOL_VERSIONS = [8, 13];
// A request aborted here: its late `error` is not reported again.
const kAborted = Symbol('daloy-ws-native.ws.aborted');

/**
 * Starts the handshake of a new client WebSocket; returns the options in force.
 * @param {any} websocket the WebSocket (its handshake state lives in `_`-prefixed fields, as in `ws`)
 * @param {string | URL} address
 * @param {string[]} protocols
 * @param {object} [options]
 */
function initAsClient(websocket, address, protocols, options) {
  const opts = {
    allowSynchronousEvents: true,
    autoPong: true,
    closeTimeout: CLOSE_TIMEOUT,
    maxBufferedChunks: 256 * 1024,
    maxFragments: 16 * 1024,
    maxPendingAutoPongs: 60,
    protocolVersion: PROTOCOL_VERSIONS[1],
    maxPayload: DEFAULT_MAX_PAYLOAD,
    skipUTF8Validation: false,
    perMessageDeflate: true,
    followRedirects: false,
    maxRedirects: 10,
    ...options,
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
    timeout: undefined,
    method: 'GET',
    host: undefined,
    path: undefined,
    port: undefined,
  };
  // permessage-deflate is offered by default, as by `ws`'s client.
  const deflate = deflateConfig(opts.perMessageDeflate, 'perMessageDeflate');
  if (!PROTOCOL_VERSIONS.includes(opts.protocolVersion)) {
    throw new RangeError(`Unsupported protocol version: ${opts.protocolVersion} (supported versions: ${PROTOCOL_VERSIONS.join(', ')})`);
  }

  let url;
  if (address instanceof URL) {
    url = address;
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  websocket._url = url.href;

  const isSecure = url.protocol === 'wss:';
  const isIpc = url.protocol === 'ws+unix:';
  let invalid;
  if (url.protocol !== 'ws:' && !isSecure && !isIpc) {
    invalid = 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
  } else if (isIpc && !url.pathname) {
    invalid = "The URL's pathname is empty";
  } else if (url.hash) {
    invalid = 'The URL contains a fragment identifier';
  }
  if (invalid !== undefined) {
    const err = new SyntaxError(invalid);
    // The first URL is the caller's mistake; a redirect's is the server's.
    if (websocket._redirects === 0) throw err;
    websocket._failHandshake(err);
    return opts;
  }

  const defaultPort = isSecure ? 443 : 80;
  const key = randomBytes(16).toString('base64');
  const request = isSecure ? https.request : http.request;
  const offered = new Set();
  opts.createConnection = opts.createConnection || (isSecure ? tlsConnect : netConnect);
  opts.defaultPort = opts.defaultPort || defaultPort;
  opts.port = url.port || defaultPort;
  opts.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  opts.headers = {
    ...opts.headers,
    'Sec-WebSocket-Version': opts.protocolVersion,
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  opts.path = url.pathname + url.search;
  opts.timeout = opts.handshakeTimeout;
  if (deflate) opts.headers['Sec-WebSocket-Extensions'] = clientOffer(deflate);
  if (protocols.length) {
    for (const protocol of protocols) {
      if (typeof protocol !== 'string' || !binding.isHttpToken(protocol) || offered.has(protocol)) {
        throw new SyntaxError('An invalid or duplicated subprotocol was specified');
      }
      offered.add(protocol);
    }
    opts.headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  }
  if (opts.origin) {
    if (opts.protocolVersion < 13) opts.headers['Sec-WebSocket-Origin'] = opts.origin;
    else opts.headers.Origin = opts.origin;
  }
  if (url.username || url.password) opts.auth = `${url.username}:${url.password}`;
  if (isIpc) {
    const parts = opts.path.split(':');
    opts.socketPath = parts[0];
    opts.path = parts[1];
  }

  let req;
  if (opts.followRedirects) {
    if (websocket._redirects === 0) {
      websocket._originalIpc = isIpc;
      websocket._originalSecure = isSecure;
      websocket._originalHostOrSocketPath = isIpc ? opts.socketPath : url.host;
      // Header names in lower case, so that credentials can be dropped on a redirect below.
      const headers = options && options.headers;
      options = { ...options, headers: {} };
      if (headers) for (const [name, value] of Object.entries(headers)) options.headers[name.toLowerCase()] = value;
    } else if (websocket.listenerCount('redirect') === 0) {
      // Credentials do not follow a redirect to another host, or from wss: to ws:. With a
      // `redirect` listener, that listener decides.
      const sameHost = isIpc
        ? websocket._originalIpc && opts.socketPath === websocket._originalHostOrSocketPath
        : !websocket._originalIpc && url.host === websocket._originalHostOrSocketPath;
      if (!sameHost || (websocket._originalSecure && !isSecure)) {
        delete opts.headers.authorization;
        delete opts.headers.cookie;
        if (!sameHost) delete opts.headers.host;
        opts.auth = undefined;
      }
    }
    if (opts.auth && !options.headers.authorization) {
      options.headers.authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
    }
    req = websocket._req = request(opts);
    if (websocket._redirects) websocket.emit('redirect', websocket.url, req);
  } else {
    req = websocket._req = request(opts);
  }

  if (opts.timeout) {
    req.on('timeout', () => abortHandshake(websocket, req, 'Opening handshake has timed out'));
  }
  req.on('error', (err) => {
    if (req === null || req[kAborted]) return;
    req = websocket._req = null;
    websocket._failHandshake(err);
  });
  req.on('response', (res) => {
    const location = res.headers.location;
    const status = res.statusCode;
    if (location && opts.followRedirects && status >= 300 && status < 400) {
      if (++websocket._redirects > opts.maxRedirects) {
        abortHandshake(websocket, req, 'Maximum redirects exceeded');
        return;
      }
      req.abort();
      let next;
      try {
        next = new URL(location, address);
      } catch {
        websocket._failHandshake(new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      initAsClient(websocket, next, protocols, options);
    } else if (!websocket.emit('unexpected-response', req, res)) {
      abortHandshake(websocket, req, `Unexpected server response: ${res.statusCode}`);
    }
  });
  req.on('upgrade', (res, socket, head) => {
    websocket.emit('upgrade', res);
    // An `upgrade` listener may have closed it.
    if (websocket.readyState !== 0) return;
    req = websocket._req = null;
    const upgrade = res.headers.upgrade;
    if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
      abortHandshake(websocket, socket, 'Invalid Upgrade header');
      return;
    }
    if (res.headers['sec-websocket-accept'] !== computeAcceptKeySync(key)) {
      abortHandshake(websocket, socket, 'Invalid Sec-WebSocket-Accept header');
      return;
    }
    const selected = res.headers['sec-websocket-protocol'];
    let protocolError;
    if (selected !== undefined) {
      if (!offered.size) protocolError = 'Server sent a subprotocol but none was requested';
      else if (!offered.has(selected)) protocolError = 'Server sent an invalid subprotocol';
    } else if (offered.size) {
      protocolError = 'Server sent no subprotocol';
    }
    if (protocolError !== undefined) {
      abortHandshake(websocket, socket, protocolError);
      return;
    }
    if (selected) websocket._protocol = selected;
    const extensions = res.headers['sec-websocket-extensions'];
    if (extensions !== undefined) {
      if (!deflate) {
        abortHandshake(websocket, socket, 'Server sent a Sec-WebSocket-Extensions header but no extension was requested');
        return;
      }
      const agreed = PerMessageDeflate.acceptResponse(deflate, extensions);
      if (agreed instanceof Error) {
        abortHandshake(websocket, socket, agreed.message);
        return;
      }
      websocket._extensions[EXTENSION_NAME] = agreed;
    }
    websocket.setSocket(socket, head, {
      allowSynchronousEvents: opts.allowSynchronousEvents,
      maxFragments: opts.maxFragments,
      maxPayload: opts.maxPayload,
      skipUTF8Validation: opts.skipUTF8Validation,
    });
  });

  if (opts.finishRequest) opts.finishRequest(req, websocket);
  else req.end();
  return opts;
}

function netConnect(options) {
  options.path = options.socketPath;
  return net.connect(options);
}

function tlsConnect(options) {
  options.path = undefined;
  if (!options.servername && options.servername !== '') {
    options.servername = net.isIP(options.host) ? '' : options.host;
  }
  return tls.connect(options);
}

/**
 * Abandons a client handshake: the request (or the upgraded socket) is destroyed, then `error`
 * with `message` and `close` (1006) are emitted.
 */
function abortHandshake(websocket, stream, message) {
  if (typeof stream === 'string') {
    message = stream;
    stream = websocket._req;
  }
  websocket._setClosing();
  const err = new Error(message);
  Error.captureStackTrace(err, abortHandshake);
  if (typeof stream.setHeader === 'function') {
    stream[kAborted] = true;
    stream.abort();
    if (stream.socket && !stream.socket.destroyed) stream.socket.destroy();
    process.nextTick(() => websocket._failHandshake(err));
  } else {
    stream.destroy(err);
    stream.once('error', (error) => websocket._reportError(error));
    stream.once('close', () => websocket.emitClose());
  }
}

module.exports = { initAsClient, abortHandshake };
