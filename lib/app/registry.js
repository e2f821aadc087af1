'use strict';

// WebSocketRegistry: an App's WebSocket routes (`app.webSocketRoutes`), in the shape of DaloyJS's
// registry: `add(path, handler, createState?, options?)`, `find(pathname)` giving
// `{ handler: { path, handler, createState, options }, params }` or `undefined`, `list()`, `size`,
// and `runtimeOptions()` for a runtime that takes one WebSocket configuration for every route.

const { RouteTable } = require('./router.js');
const { normalizeWebSocketOptions } = require('./route-options.js');

function emptyState() {
  return {};
}

class WebSocketRegistry {
  #table = new RouteTable();

  /**
   * Registers a route. `createState()` gives each upgrade its fresh `ctx.state`; `options` are the
   * route's resolved limits (default: `handler` normalized for development with secureDefaults).
   * @param {string} path `:name` segments and a final `*name` segment are parameters
   * @param {object} handler
   * @param {() => object} [createState]
   * @param {object} [options]
   */
  add(path, handler, createState = emptyState, options = normalizeWebSocketOptions(handler, { production: false, secureDefaults: true })) {
    if (typeof createState !== 'function') throw new TypeError('WebSocketRegistry.add(): createState must be a function');
    if (options === null || typeof options !== 'object') throw new TypeError('WebSocketRegistry.add(): options must be an object');
    this.#table.add(path, { path, handler, createState, options });
  }

  /**
   * Matches a request path (without its query string).
   * @param {string} pathname
   * @returns {{ handler: { path: string, handler: object, createState: () => object, options: object },
   *   params: Record<string, string> } | undefined}
   */
  find(pathname) {
    return this.#table.find(pathname);
  }

  /** The route entries in registration order (a copy). */
  list() {
    return this.#table.list();
  }

  /** Number of routes. */
  get size() {
    return this.#table.size;
  }

  /**
   * One set of options covering every route, for a runtime whose WebSocket configuration is
   * server-wide (Bun), as DaloyJS merges them: closeOnBackpressureLimit only if every route has it,
   * the largest backpressureLimit, maxPayloadLength and maxFragments, the smallest idleTimeout,
   * perMessageDeflate if any route enables it. The defaults without routes. Each route's own
   * limits are still enforced per connection.
   */
  runtimeOptions() {
    const entries = this.#table.list();
    if (entries.length === 0) return normalizeWebSocketOptions({});
    const all = entries.map((entry) => entry.options);
    const max = (name) => Math.max(...all.map((o) => o[name]));
    return {
      closeOnBackpressureLimit: all.every((o) => o.closeOnBackpressureLimit),
      backpressureLimit: max('backpressureLimit'),
      perMessageDeflate: all.some((o) => o.perMessageDeflate),
      idleTimeout: Math.min(...all.map((o) => o.idleTimeout)),
      maxPayloadLength: max('maxPayloadLength'),
      maxFragments: max('maxFragments'),
      maxTopicsPerConnection: max('maxTopicsPerConnection'),
    };
  }
}

module.exports = { WebSocketRegistry };
