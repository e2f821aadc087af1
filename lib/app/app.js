'use strict';

// `App`: an application's WebSocket routes, in DaloyJS's shape (`app.ws(path, handler)`). Serving
// them is the job of the wirings: lib/node/ (serve, attach) and lib/web/ (Bun.serve, Deno.serve).

const { WebSocketRegistry } = require('./registry.js');
const { normalizeWebSocketOptions, checkProductionGuards, resolveEnvironment } = require('./route-options.js');
const { defaultLogger, silentLogger, isLogger } = require('./logger.js');
const { checkTopic, publishPayload } = require('./topics.js');

/** Lets the Node wiring learn about routes registered after `serve`/`attach` was called. */
const kOnRouteAdded = Symbol('daloy-ws-native.onRouteAdded');
/** The topic registries of the servers serving the app, which `app.publish` reaches. */
const kTopicRegistries = Symbol('daloy-ws-native.topicRegistries');

const CALLBACKS = ['beforeUpgrade', 'open', 'message', 'close', 'error', 'drain'];

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
  #routes = new WebSocketRegistry();
  #routeListeners = new Set();
  /** @type {{ error(fields: object, message: string): void }} */
  #log = defaultLogger;
  #environment;
  #decorations = Object.create(null);
  [kTopicRegistries] = new Set();

  /**
   * @param {{ logger?: false | { error(fields: object, message: string): void }, env?: string,
   *   production?: boolean, secureDefaults?: boolean, acknowledgeInsecureDefaults?: boolean }} [options]
   *   Other options of DaloyJS's App are accepted and ignored.
   */
  constructor(options) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError('App: options must be an object');
    }
    this.#environment = resolveEnvironment(options ?? {});
    if (options !== undefined && options.logger !== undefined) this.log = options.logger;
  }

  /** Whether the App runs as production (`env`, else `production`, else `NODE_ENV`). */
  get production() {
    return this.#environment.production;
  }

  /** Whether the production guards of `app.ws()` apply (`secureDefaults` is not `false`). */
  get secureDefaults() {
    return this.#environment.secureDefaults;
  }

  /**
   * Adds `key: value` to the `ctx.state` of every upgrade from now on (a shallow copy per upgrade,
   * as DaloyJS's `decorate` does; routes registered earlier see it too).
   * @param {string} key
   * @param {unknown} value
   * @returns {this}
   */
  decorate(key, value) {
    if (typeof key !== 'string' || key === '__proto__') throw new TypeError('app.decorate(): key must be a string other than "__proto__"');
    this.#decorations[key] = value;
    return this;
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

  /** The registered routes (a WebSocketRegistry): `size`, `find(pathname)`, `list()`, `add()`. */
  get webSocketRoutes() {
    return this.#routes;
  }

  /**
   * Registers a WebSocket route. `:name` segments of `path` become `ctx.params.name`; a final
   * `*name` segment takes the rest of the path (`*` alone: `ctx.params.wildcard`).
   * @param {string} path
   * @param {object} handler
   * @returns {this}
   */
  ws(path, handler) {
    checkHandler(handler);
    const options = normalizeWebSocketOptions(handler, this.#environment);
    checkProductionGuards(path, handler, this.#environment);
    const decorations = this.#decorations;
    this.#routes.add(path, handler, () => ({ ...decorations }), options);
    for (const listener of this.#routeListeners) listener();
    return this;
  }

  /**
   * Publishes to the subscribers of `topic` on every server serving this app (and, with a broker,
   * in every process). Returns how many subscribers in this process it was queued for.
   * @param {string} topic
   * @param {string | ArrayBuffer | ArrayBufferView} data
   * @param {{ binary?: boolean }} [options]
   */
  publish(topic, data, options) {
    checkTopic(topic, 'publish()');
    publishPayload(data, options, 'publish()');
    let count = 0;
    for (const registry of this[kTopicRegistries]) count += registry.publish(topic, data, options, null, 'publish()');
    return count;
  }

  /** @returns {() => void} unsubscribe */
  [kOnRouteAdded](listener) {
    this.#routeListeners.add(listener);
    return () => this.#routeListeners.delete(listener);
  }
}

module.exports = { App, kOnRouteAdded, kTopicRegistries, normalizeWebSocketOptions, WebSocketRegistry };
