'use strict';

// `App`: an application's WebSocket routes, in DaloyJS's shape (`app.ws(path, handler)`). Serving
// them is the job of the wirings: lib/node/ (serve, attach) and lib/web/ (Bun.serve, Deno.serve).

const {
  DEFAULT_WS_BACKPRESSURE_LIMIT,
  DEFAULT_WS_MAX_PAYLOAD_LENGTH,
  DEFAULT_WS_IDLE_TIMEOUT_SECONDS,
  DEFAULT_WS_MAX_FRAGMENTS,
} = require('../primitives/constants.js');
const { RouteTable } = require('./router.js');
const { defaultLogger, silentLogger, isLogger } = require('./logger.js');

/** Lets the Node wiring learn about routes registered after `serve`/`attach` was called. */
const kOnRouteAdded = Symbol('daloy-ws-native.onRouteAdded');

const CALLBACKS = ['beforeUpgrade', 'open', 'message', 'close', 'error', 'drain'];

function positiveInteger(name, value) {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`app.ws(): ${name} must be a positive integer (got ${String(value)})`);
  }
  return value;
}

function boolean(name, value) {
  if (typeof value !== 'boolean') throw new TypeError(`app.ws(): ${name} must be a boolean (got ${typeof value})`);
  return value;
}

function checkOriginPolicy(policy) {
  if (policy === undefined || policy === 'same-origin' || typeof policy === 'function') return;
  if (!Array.isArray(policy)) {
    throw new TypeError('app.ws(): allowedOrigins must be "same-origin", an array of origins or a function');
  }
  for (const origin of policy) {
    if (typeof origin !== 'string' || origin.length === 0) {
      throw new TypeError('app.ws(): allowedOrigins entries must be non-empty strings');
    }
  }
}

/**
 * A route's limits with DaloyJS's defaults applied; throws on values DaloyJS refuses.
 * `maxFragments` (most frames per message) is an addition of this package.
 * @param {object} handler
 */
function normalizeWebSocketOptions(handler) {
  const options = {
    maxPayloadLength: positiveInteger('maxPayloadLength', handler.maxPayloadLength ?? DEFAULT_WS_MAX_PAYLOAD_LENGTH),
    idleTimeout: positiveInteger('idleTimeout', handler.idleTimeout ?? DEFAULT_WS_IDLE_TIMEOUT_SECONDS),
    backpressureLimit: positiveInteger('backpressureLimit', handler.backpressureLimit ?? DEFAULT_WS_BACKPRESSURE_LIMIT),
    closeOnBackpressureLimit: boolean('closeOnBackpressureLimit', handler.closeOnBackpressureLimit ?? true),
    // Accepted for handler compatibility with Bun; the Node wiring negotiates no extension, so
    // clients that offer permessage-deflate fall back to uncompressed frames.
    perMessageDeflate: boolean('perMessageDeflate', handler.perMessageDeflate ?? false),
    maxFragments: positiveInteger('maxFragments', handler.maxFragments ?? DEFAULT_WS_MAX_FRAGMENTS),
  };
  // setTimeout's ceiling: a longer idle timeout would fire at once.
  if (options.idleTimeout > 2147483) throw new RangeError('app.ws(): idleTimeout must be at most 2147483 seconds');
  checkOriginPolicy(handler.allowedOrigins);
  return options;
}

function checkHandler(handler) {
  if (handler === null || typeof handler !== 'object') {
    throw new TypeError('app.ws(): handler must be an object of callbacks (open, message, close, ...)');
  }
  for (const name of CALLBACKS) {
    if (handler[name] !== undefined && typeof handler[name] !== 'function') {
      throw new TypeError(`app.ws(): ${name} must be a function`);
    }
  }
}

/** An application's WebSocket routes, served on Node by `serve` or `attach` from `daloy-ws-native/node`. */
class App {
  #routes = new RouteTable();
  #routeListeners = new Set();
  /** @type {{ error(fields: object, message: string): void }} */
  #log = defaultLogger;

  /**
   * @param {{ logger?: false | { error(fields: object, message: string): void } }} [options]
   *   Other options of DaloyJS's App are accepted and ignored.
   */
  constructor(options) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError('App: options must be an object');
    }
    if (options !== undefined && options.logger !== undefined) this.log = options.logger;
  }

  /** Where handler errors are logged (pino's `error(fields, message)` convention). */
  get log() {
    return this.#log;
  }

  /**
   * A logger, or `false` to log nothing.
   * @param {false | { error(fields: object, message: string): void }} logger
   */
  set log(logger) {
    if (logger === false) logger = silentLogger;
    if (!isLogger(logger)) throw new TypeError('App: logger must be false or an object with an error(fields, message) method');
    this.#log = logger;
  }

  /** The registered routes: `size`, `find(pathname)` and `list()`. */
  get webSocketRoutes() {
    return this.#routes;
  }

  /**
   * Registers a WebSocket route. `:name` segments of `path` become `ctx.params.name`.
   * @param {string} path
   * @param {object} handler
   * @returns {this}
   */
  ws(path, handler) {
    checkHandler(handler);
    const options = normalizeWebSocketOptions(handler);
    this.#routes.add(path, { path, handler, options });
    for (const listener of this.#routeListeners) listener();
    return this;
  }

  /** @returns {() => void} unsubscribe */
  [kOnRouteAdded](listener) {
    this.#routeListeners.add(listener);
    return () => this.#routeListeners.delete(listener);
  }
}

module.exports = { App, kOnRouteAdded, normalizeWebSocketOptions };
