'use strict';

// The `perMessageDeflate` option of an `app.ws` route: `false` (the default, as in DaloyJS),
// `true` (the shared mode), or an object:
//   mode       'shared' (default): no context takeover either way; one compressor per thread,
//              nothing held per idle connection. 'dedicated': each connection keeps its window.
//   windowBits the server's compression window in the dedicated mode, 8 to 15 (default 15).
//   decompressor  in the dedicated mode, 'shared' (default): the client is asked for
//              client_no_context_takeover, so no inflater is held between messages (uWebSockets'
//              SHARED_DECOMPRESSOR); 'dedicated': the client keeps its window too and each
//              connection holds an inflater (about 46 KiB).
//   threshold  messages below this many bytes are sent uncompressed (default 1024).
//   level      zlib level, 0 to 9 (default 6, zlib's and ws's default).

const { windowBitsOption, levelOption, thresholdOption } = require('../primitives/deflate.js');

const KEYS = new Set(['mode', 'windowBits', 'decompressor', 'threshold', 'level']);

// A route's options object (as normalizeWebSocketOptions returns it) -> its deflate configuration,
// worked out once.
/** @type {WeakMap<object, false | import('../primitives/deflate.js').DeflateConfig>} */
const configs = new WeakMap();

/**
 * The deflate configuration of a route, from its normalised options (`perMessageDeflate` as the
 * application gave it: a boolean or an options object, already checked).
 * @param {{ perMessageDeflate?: unknown }} options
 * @returns {false | import('../primitives/deflate.js').DeflateConfig}
 */
function routeDeflate(options) {
  let config = configs.get(options);
  if (config === undefined) {
    config = deflateOption(options.perMessageDeflate);
    configs.set(options, config);
  }
  return config;
}

/**
 * The route's deflate configuration, or `false` when the extension is off.
 * @param {unknown} value the route's `perMessageDeflate`
 * @returns {false | import('../primitives/deflate.js').DeflateConfig}
 */
function deflateOption(value) {
  if (value === undefined || value === false) return false;
  const name = 'app.ws(): perMessageDeflate';
  if (value === true) value = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be a boolean or an options object (got ${value === null ? 'null' : typeof value})`);
  }
  const options = /** @type {Record<string, unknown>} */ (value);
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw new TypeError(`${name}: unknown option ${key}`);
  }
  const mode = options.mode ?? 'shared';
  if (mode !== 'shared' && mode !== 'dedicated') {
    throw new TypeError(`${name}.mode must be "shared" or "dedicated" (got ${String(mode)})`);
  }
  const windowBits = windowBitsOption(`${name}.windowBits`, options.windowBits);
  if (windowBits !== undefined && mode === 'shared') {
    throw new TypeError(`${name}.windowBits applies to the dedicated mode only`);
  }
  const decompressor = options.decompressor ?? 'shared';
  if (decompressor !== 'shared' && decompressor !== 'dedicated') {
    throw new TypeError(`${name}.decompressor must be "shared" or "dedicated" (got ${String(decompressor)})`);
  }
  if (decompressor === 'dedicated' && mode === 'shared') {
    throw new TypeError(`${name}.decompressor "dedicated" applies to the dedicated mode only`);
  }
  const shared = mode === 'shared';
  return {
    mode,
    serverNoContextTakeover: shared,
    clientNoContextTakeover: decompressor === 'shared',
    serverMaxWindowBits: windowBits,
    clientMaxWindowBits: undefined,
    level: levelOption(`${name}.level`, options.level),
    threshold: thresholdOption(`${name}.threshold`, options.threshold),
  };
}

module.exports = { deflateOption, routeDeflate };
