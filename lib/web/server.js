'use strict';

// What the Bun and Deno adapters share around the runtime's own server: options, the set of open
// connections and their graceful shutdown, with the Node wiring's defaults (lib/app/timeouts.js).

const { App, kTopicRegistries } = require('../app/app.js');
const { TopicRegistry } = require('../app/topics.js');
const { WS_CLOSE_CODE } = require('../primitives/constants.js');
const { log, isLogger } = require('../app/logger.js');
const { ConnectionSet } = require('../app/connection-set.js');
const { Buffer } = require('node:buffer');
const { negotiate, isUpgradeRequest, textResponse } = require('./upgrade.js');
const { WebConnection } = require('./connection.js');
const { DEFAULT_CLOSE_TIMEOUT_MS, timeoutOption, shutdownTimeouts } = require('../app/timeouts.js');

/**
 * Checks serve()'s arguments; returns the options with defaults.
 * @param {App} app
 * @param {object} [options]
 */
function serveOptions(app, options) {
  if (!(app instanceof App)) throw new TypeError('serve(): expected an App from daloy-ws-native');
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw new TypeError('serve(): options must be an object');
  const port = options.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('serve(): port must be an integer from 0 to 65535');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError('serve(): fetch must be a function (request) => Response');
  }
  if (options.logger !== undefined && !isLogger(options.logger)) {
    throw new TypeError('serve(): logger must be an object with an error(fields, message) method');
  }
  return {
    port,
    hostname: options.hostname ?? '0.0.0.0',
    fetch: options.fetch,
    logger: options.logger,
    pubsub: options.pubsub,
    handleSignals: options.handleSignals !== false,
    closeTimeout: timeoutOption('closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT_MS),
    ...shutdownTimeouts(options),
  };
}

/** The open connections of one served App (lib/app/connection-set.js), with its options and logger. */
class ConnectionHost {
  #logger;
  // The runtime cannot drop a socket at once: at the end of the grace period, the connections
  // just terminated are forgotten instead of waited for.
  #live = new ConnectionSet({ forgetTerminated: true });

  /**
   * @param {App} app
   * @param {object} options serveOptions()'s
   * @param {object} fanOut how a publish reaches the subscribers on this runtime (lib/app/topics.js)
   */
  constructor(app, options, fanOut) {
    this.app = app;
    this.#logger = options.logger;
    this.closeTimeout = options.closeTimeout;
    this.shutdownTimeout = options.shutdownTimeout;
    this.shutdownCloseTimeout = options.shutdownCloseTimeout;
    /** The topics of this server's connections. */
    this.topics = new TopicRegistry(fanOut, this);
    if (options.pubsub !== undefined) this.topics.useBroker(options.pubsub);
    app[kTopicRegistries].add(this.topics);
  }

  /** Publishes to every subscriber of `topic` here and, with a broker, elsewhere. */
  publish(topic, data, options) {
    return this.topics.publish(topic, data, options, null, 'publish()');
  }

  /** The logger in force: the option, else the App's (read each time, so `app.log = x` applies). */
  get logger() {
    return this.#logger !== undefined ? this.#logger : this.app.log;
  }

  /** Open connections (live view). */
  get connections() {
    return this.#live.connections;
  }

  /** Set once closeAll() started: new upgrades get 503. */
  get shuttingDown() {
    return this.#live.shuttingDown;
  }

  track(conn) {
    this.#live.add(conn);
  }

  untrack(conn) {
    this.#live.delete(conn);
  }

  /**
   * Refuses new upgrades, sends CLOSE 1001 to every connection, waits up to `timeout` ms
   * (default: shutdownCloseTimeout) for their closing handshakes, then terminates what is left.
   * Idempotent.
   */
  closeAll(timeout = this.shutdownCloseTimeout) {
    return this.#live.closeAll(WS_CLOSE_CODE.GOING_AWAY, 'Server shutting down', timeout, this.logger).then(() => {
      this.app[kTopicRegistries].delete(this.topics);
      return this.topics.closeBroker();
    });
  }
}

/**
 * The request handler given to the runtime's server. A plain HTTP request goes to the
 * application's `fetch` (or gets 404); an upgrade request is checked (upgrade.js) and the
 * decision (a rejecting Response, or the route, ctx and protocol) goes to
 * `accept(request, extra, decision)`, where `extra` is the runtime's second argument (Bun's server,
 * Deno's connection info).
 * @param {ConnectionHost} host
 * @param {{ fetch?: Function }} opts
 * @param {(req: Request, extra: unknown, decision: Response | object) => Response | undefined} accept
 */
function requestHandler(host, opts, accept) {
  return (req, extra) => {
    if (!isUpgradeRequest(req)) {
      return opts.fetch !== undefined ? opts.fetch(req, extra) : textResponse(404, 'Not Found');
    }
    let decision;
    try {
      decision = negotiate(host, req);
    } catch (err) {
      log(host.logger, 'error', { err }, 'WebSocket upgrade failed');
      return textResponse(500, 'Internal Server Error');
    }
    if (decision instanceof Promise) {
      return decision.then(
        (d) => accept(req, extra, d),
        (err) => {
          log(host.logger, 'error', { err }, 'WebSocket upgrade failed');
          return textResponse(500, 'Internal Server Error');
        },
      );
    }
    return accept(req, extra, decision);
  };
}

/** The fan-out of a publish in JavaScript: one send per subscriber (lib/web/connection.js). */
const webFanOut = {
  // A string published as binary is sent as its UTF-8 bytes.
  encode: (payload, isBinary) => (isBinary && typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload),
  bytes: (message) => (typeof message === 'string' ? Buffer.from(message, 'utf8') : message),
  decode: (bytes, isBinary) => (isBinary ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')),
  deliver: (topic, subscribers, except, message) => WebConnection.deliverMessage(subscribers, except, message),
};

module.exports = { serveOptions, ConnectionHost, requestHandler, webFanOut };
