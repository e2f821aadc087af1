'use strict';

// permessage-deflate (RFC 7692) for the wirings: the server's negotiation and the compression of
// outgoing messages, over the binding (src/binding/deflate.rs over src/deflate/). Incoming
// compressed messages are inflated by the FrameSink (its `inflate` option), inside the one native
// call per read.
//
// Two ways to compress, as uWebSockets and Bun offer them:
// - shared: the server resets its compressor after every message (server_no_context_takeover), so
//   one compressor per window size and level serves every connection of the thread; and it asks
//   the client to do the same (client_no_context_takeover), so the sink borrows an inflater for one
//   message at a time. An idle connection holds nothing.
// - dedicated: each connection keeps its compression window between messages (better ratios on
//   small similar messages; the deflater holds about 370 KiB at window 15). The deflater is made on
//   the connection's first compressed send, and released again once the connection has sent
//   nothing compressed for IDLE_RELEASE_MS to IDLE_RELEASE_MS * 2: it then keeps only the stream's
//   last bytes (at most its window, 32 KiB at 15), and its next send primes a new compressor with
//   them, so the peer sees one unbroken stream. The client is asked for client_no_context_takeover
//   too (a shared decompressor, as uWebSockets' default), unless the route asks for a dedicated one.

const { Buffer } = require('node:buffer');
const binding = require('./addon.js');

const MIN_WINDOW_BITS = binding.DEFLATE_MIN_WINDOW_BITS;
const MAX_WINDOW_BITS = binding.DEFLATE_MAX_WINDOW_BITS;
const MAX_LEVEL = binding.DEFLATE_MAX_LEVEL;

/** zlib's default level, what `ws` and Node's zlib use: sizes within 1 % of theirs. */
const DEFAULT_LEVEL = 6;
/** Messages below this many bytes go uncompressed (as `ws`'s default `threshold`). */
const DEFAULT_THRESHOLD = 1024;

/**
 * @typedef {object} DeflateConfig a server's configuration of the extension
 * @property {'shared' | 'dedicated'} mode
 * @property {boolean} serverNoContextTakeover
 * @property {boolean} clientNoContextTakeover
 * @property {number | undefined} serverMaxWindowBits
 * @property {number | undefined} clientMaxWindowBits
 * @property {number} level zlib level, 0 to 9
 * @property {number} threshold bytes below which a message is sent uncompressed
 */

/**
 * @typedef {object} DeflateAgreement what a handshake agreed
 * @property {string} response the `Sec-WebSocket-Extensions` value of the 101
 * @property {boolean} serverNoContextTakeover
 * @property {boolean} clientNoContextTakeover
 * @property {number} serverMaxWindowBits
 * @property {number} clientMaxWindowBits
 */

/** Checks a window option: `undefined` or an integer from 8 to 15. `name` is the caller's name for it. */
function windowBitsOption(name, value) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number (got ${typeof value})`);
  if (!Number.isInteger(value) || value < MIN_WINDOW_BITS || value > MAX_WINDOW_BITS) {
    throw new RangeError(`${name} must be an integer from ${MIN_WINDOW_BITS} to ${MAX_WINDOW_BITS} (got ${value})`);
  }
  return value;
}

/** Checks a zlib level option: `undefined` (the default, 6) or an integer from 0 to 9. */
function levelOption(name, value) {
  if (value === undefined) return DEFAULT_LEVEL;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number (got ${typeof value})`);
  if (!Number.isInteger(value) || value < 0 || value > MAX_LEVEL) {
    throw new RangeError(`${name} must be an integer from 0 to ${MAX_LEVEL} (got ${value})`);
  }
  return value;
}

/** Checks a threshold option: `undefined` (1024) or a non-negative number of bytes. */
function thresholdOption(name, value) {
  if (value === undefined) return DEFAULT_THRESHOLD;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number (got ${typeof value})`);
  if (Number.isNaN(value) || value < 0) throw new RangeError(`${name} must be a non-negative number (got ${value})`);
  return value;
}

/**
 * The server's answer to a request's `Sec-WebSocket-Extensions` header (`offer`, possibly
 * undefined): the agreement, or `null` to answer without the extension. Never throws for any offer.
 * @param {DeflateConfig} config
 * @param {string | undefined} offer
 * @returns {DeflateAgreement | null}
 */
function negotiateDeflate(config, offer) {
  if (offer === undefined || offer === '') return null;
  return binding.deflateNegotiate(config, offer);
}

/**
 * The inflate option of a FrameSink for an agreement: how the peer compresses (the client, for a
 * server's sink; the server, for a client's sink).
 * @param {DeflateAgreement} agreement
 * @param {boolean} [isClient] the sink reads a client's connection (server messages)
 */
function inflateOptions(agreement, isClient = false) {
  if (isClient) return { noContextTakeover: agreement.serverNoContextTakeover, windowBits: agreement.serverMaxWindowBits };
  return { noContextTakeover: agreement.clientNoContextTakeover, windowBits: agreement.clientMaxWindowBits };
}

/** How long a dedicated deflater may sit unused before its memory is released (checked this often). */
const IDLE_RELEASE_MS = 5000;

// The dedicated deflaters holding their compressor's memory, each with whether it sent since the
// last sweep. One timer for all of them, unref'd, running only while there are some.
/** @type {Map<MessageDeflater, boolean>} */
const holding = new Map();
let sweeper = null;

function sweep() {
  for (const [deflater, used] of holding) {
    if (used) holding.set(deflater, false);
    else {
      holding.delete(deflater);
      deflater.release();
    }
  }
  if (holding.size === 0) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

function hold(deflater) {
  holding.set(deflater, true);
  if (sweeper === null) {
    sweeper = setInterval(sweep, IDLE_RELEASE_MS);
    sweeper.unref();
  }
}

/** Messages compressed by this process (one per compression, whoever it serves); read by tests. */
const deflateCounters = { messages: 0 };

/**
 * Compresses one connection's outgoing messages as its agreement says.
 */
class MessageDeflater {
  #bits;
  #level;
  /** @type {InstanceType<typeof binding.NativeDeflater> | null} */
  #own = null;
  #shared;

  /**
   * @param {Pick<DeflateConfig, 'mode' | 'level'>} config
   * @param {DeflateAgreement} agreement
   * @param {boolean} [isClient] compress a client's messages (the agreement's client direction)
   */
  constructor(config, agreement, isClient = false) {
    this.#bits = isClient ? agreement.clientMaxWindowBits : agreement.serverMaxWindowBits;
    this.#level = config.level;
    // Without context takeover every message starts afresh: the thread's compressor serves.
    const noContextTakeover = isClient ? agreement.clientNoContextTakeover : agreement.serverNoContextTakeover;
    this.#shared = config.mode === 'shared' || noContextTakeover;
  }

  /**
   * The compressed payload of one whole message (a string is encoded as UTF-8 first).
   * @param {string | Uint8Array} data
   * @returns {Buffer}
   */
  deflate(data) {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    deflateCounters.messages++;
    if (this.#shared) return binding.deflateShared(bytes, this.#bits, this.#level);
    if (this.#own === null) this.#own = new binding.NativeDeflater(this.#bits, false, this.#level);
    hold(this);
    return this.#own.deflate(bytes);
  }

  /**
   * For a compressor without context takeover, a key naming the bytes it makes of a message: every
   * such connection with the same key sends the same compressed message (a publish compresses once
   * per key). `null` for a compressor that keeps its window: its bytes are its own.
   * @returns {string | null}
   */
  get sharedKey() {
    return this.#shared ? `${this.#bits}:${this.#level}` : null;
  }

  /**
   * Lets go of the compressor's memory until the next message (the stream goes on unbroken), and
   * forgets this deflater in the idle sweep: a connection that closed is then no longer referenced.
   */
  release() {
    holding.delete(this);
    if (this.#own !== null) this.#own.release();
  }
}

module.exports = {
  MIN_WINDOW_BITS,
  MAX_WINDOW_BITS,
  DEFAULT_LEVEL,
  DEFAULT_THRESHOLD,
  windowBitsOption,
  levelOption,
  thresholdOption,
  negotiateDeflate,
  inflateOptions,
  MessageDeflater,
  IDLE_RELEASE_MS,
  deflateCounters,
};
