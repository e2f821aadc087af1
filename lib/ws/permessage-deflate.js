'use strict';

// permessage-deflate (RFC 7692) on the `ws`-compatible module, with `ws`'s option names: the
// checks of the `perMessageDeflate` option, and one connection's agreement as `ws` keeps it in
// `ws._extensions['permessage-deflate']`. The negotiation, the compression and the inflation are
// the package's own (lib/primitives/deflate.js over src/deflate/): the server answers with
// negotiateDeflate(), the client offers with deflateOffer() and checks the answer with
// deflateAcceptResponse(), received messages are inflated by the FrameSink while it parses.
//
// `ws`'s options and what they do here:
//   serverNoContextTakeover, clientNoContextTakeover  as in `ws`. Both true is this package's
//       "shared" mode (one compressor per thread, nothing held by an idle connection); otherwise
//       each connection keeps its compression window (the "dedicated" mode, as `ws`).
//   serverMaxWindowBits, clientMaxWindowBits  8 to 15, as in `ws`; `true`/`false` are taken as
//       not set (a window the peer asks for is honoured rather than the offer declined).
//   threshold  bytes below which a message is sent uncompressed (default 1024); as in `ws`, it
//       applies only when this side resets its window after each message (no context takeover).
//   zlibDeflateOptions.level  the compression level, 0 to 9 (-1, zlib's default, is 6). The other
//       zlib options (memLevel, strategy, windowBits, chunkSize...) do not apply to this
//       compressor: accepted and ignored. zlibInflateOptions likewise.
//   concurrencyLimit  accepted, no effect: `ws` queues its asynchronous zlib jobs (10 at a time);
//       here a message is compressed synchronously when it is sent and inflated while it is
//       parsed, so nothing waits in a queue.

const { Buffer } = require('node:buffer');
const binding = require('../primitives/addon.js');
const {
  DEFAULT_LEVEL,
  MessageDeflater,
  inflateOptions,
  levelOption,
  negotiateDeflate,
  thresholdOption,
  windowBitsOption,
} = require('../primitives/deflate.js');

const EXTENSION_NAME = 'permessage-deflate';
// RFC 7692 §7.2.1: what a sync flush ends with. A fragment that is not the last of its message
// keeps it, so that the fragments together are one flushed stream.
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * @typedef {object} WsDeflateConfig the `perMessageDeflate` option, checked
 * @property {'dedicated'} mode
 * @property {boolean} serverNoContextTakeover
 * @property {boolean} clientNoContextTakeover
 * @property {number | undefined} serverMaxWindowBits
 * @property {number | undefined} clientMaxWindowBits
 * @property {number} level
 * @property {number} threshold
 */

function booleanOption(name, value) {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean (got ${typeof value})`);
  return value;
}

// `ws` takes a boolean here too (`false`: decline offers that name the parameter); a boolean is
// taken as not set.
function windowOption(name, value) {
  if (typeof value === 'boolean') return undefined;
  return windowBitsOption(name, value);
}

function objectOption(name, value) {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object (got ${value === null ? 'null' : typeof value})`);
  }
  return value;
}

/**
 * The `perMessageDeflate` option of a server or a client: `false` when off (any falsy value, as
 * `ws`), otherwise the checked configuration. Throws a TypeError or RangeError naming the field.
 * @param {unknown} value
 * @param {string} name the option's name in messages
 * @returns {false | WsDeflateConfig}
 */
function deflateConfig(value, name) {
  if (!value) return false;
  if (value === true) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be a boolean or an options object (got ${typeof value})`);
  }
  const options = /** @type {Record<string, any>} */ (value);
  const zlibDeflateOptions = objectOption(`${name}.zlibDeflateOptions`, options.zlibDeflateOptions);
  objectOption(`${name}.zlibInflateOptions`, options.zlibInflateOptions);
  if (options.concurrencyLimit !== undefined && (typeof options.concurrencyLimit !== 'number' || !(options.concurrencyLimit >= 1))) {
    throw new RangeError(`${name}.concurrencyLimit must be a number of at least 1 (got ${options.concurrencyLimit})`);
  }
  const level = zlibDeflateOptions.level === -1 ? DEFAULT_LEVEL : zlibDeflateOptions.level;
  return {
    mode: 'dedicated',
    serverNoContextTakeover: booleanOption(`${name}.serverNoContextTakeover`, options.serverNoContextTakeover),
    clientNoContextTakeover: booleanOption(`${name}.clientNoContextTakeover`, options.clientNoContextTakeover),
    serverMaxWindowBits: windowOption(`${name}.serverMaxWindowBits`, options.serverMaxWindowBits),
    clientMaxWindowBits: windowOption(`${name}.clientMaxWindowBits`, options.clientMaxWindowBits),
    level: levelOption(`${name}.zlibDeflateOptions.level`, level),
    threshold: thresholdOption(`${name}.threshold`, options.threshold),
  };
}

/** A client's `Sec-WebSocket-Extensions` offer for its configuration. */
function clientOffer(config) {
  return binding.deflateOffer(config);
}

/** The agreement's parameters as `ws` names them in its `params` (effective values). */
function paramsOf(agreement) {
  const params = {};
  if (agreement.serverNoContextTakeover) params.server_no_context_takeover = true;
  if (agreement.clientNoContextTakeover) params.client_no_context_takeover = true;
  params.server_max_window_bits = agreement.serverMaxWindowBits;
  params.client_max_window_bits = agreement.clientMaxWindowBits;
  return params;
}

/** One connection's permessage-deflate, as agreed: what `ws._extensions['permessage-deflate']` holds. */
class PerMessageDeflate {
  #agreement;
  /** @type {MessageDeflater | null} */
  #deflater;
  #isServer;
  // `ws`'s rule: the threshold applies only when this side resets its window after each message.
  #thresholdApplies;

  /**
   * @param {WsDeflateConfig} config
   * @param {import('../primitives/deflate.js').DeflateAgreement} agreement
   * @param {boolean} isServer
   */
  constructor(config, agreement, isServer) {
    this.#agreement = agreement;
    this.#isServer = isServer;
    this.#deflater = new MessageDeflater(config, agreement, !isServer);
    this.#thresholdApplies = isServer ? agreement.serverNoContextTakeover : agreement.clientNoContextTakeover;
    this._threshold = config.threshold;
    this.params = paramsOf(agreement);
  }

  static get extensionName() {
    return EXTENSION_NAME;
  }

  /**
   * The server's agreement to a request's offers (`header`: its `Sec-WebSocket-Extensions`), or
   * null to answer without the extension (no offer, or none this configuration can honour).
   * @param {WsDeflateConfig} config
   * @param {string | undefined} header
   */
  static accept(config, header) {
    const agreement = negotiateDeflate(config, header);
    return agreement === null ? null : new PerMessageDeflate(config, agreement, true);
  }

  /**
   * The client's check of the server's answer: the agreement, or an Error with `ws`'s message
   * when the handshake must fail.
   * @param {WsDeflateConfig} config
   * @param {string} header
   * @returns {PerMessageDeflate | Error}
   */
  static acceptResponse(config, header) {
    let agreement;
    try {
      agreement = binding.deflateAcceptResponse(config, header);
    } catch (err) {
      if (err.code === 'ERR_DEFLATE_UNEXPECTED_EXTENSION') return new Error('Server indicated an extension that was not requested');
      if (err.code !== 'ERR_DEFLATE_INVALID_RESPONSE') throw err;
      return new Error('Invalid Sec-WebSocket-Extensions header');
    }
    // A header that names no extension at all.
    if (agreement === null) return new Error('Invalid Sec-WebSocket-Extensions header');
    return new PerMessageDeflate(config, agreement, false);
  }

  /** The `Sec-WebSocket-Extensions` value that states the agreement. */
  get response() {
    return this.#agreement.response;
  }

  /** The FrameSink's `inflate` option: how the peer compresses. */
  get inflate() {
    return inflateOptions(this.#agreement, !this.#isServer);
  }

  /** Whether a message whose first fragment has `length` bytes is sent compressed (`compress`: the caller's wish). */
  compresses(compress, length) {
    return compress && (!this.#thresholdApplies || length >= this._threshold);
  }

  /**
   * Lets go of the compressor once the connection has closed (as `ws` closes its zlib streams), so
   * that a WebSocket kept by the application does not keep a dedicated window alive.
   */
  cleanup() {
    this.#deflater = null;
  }

  /**
   * The compressed payload of one fragment of a compressed message (`fin`: the last); a string
   * is encoded as UTF-8. Throws only on a fault of the compression library.
   * @param {string | Uint8Array} data
   * @param {boolean} fin
   */
  compress(data, fin) {
    if (this.#deflater === null) throw new Error('The connection has closed: nothing more is compressed');
    const out = this.#deflater.deflate(data);
    return fin ? out : Buffer.concat([out, TAIL]);
  }
}

module.exports = { EXTENSION_NAME, PerMessageDeflate, clientOffer, deflateConfig };
