'use strict';

// The millisecond options every server wiring takes (closeTimeout, shutdownTimeout, close()'s
// timeout) and their defaults. Not public constants: lib/primitives/constants.js is exported as is.

/** Milliseconds a started closing handshake may take before the connection is cut off. */
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Grace period of a server's close(), in milliseconds, before the remaining connections go. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/**
 * Milliseconds a WebSocket connection has, during a shutdown, to answer the server's 1001 before it
 * is cut off. DaloyJS destroys its sockets at once so that a SIGTERM ends the process promptly; the
 * 1001 is kept here (a peer learns why), but a peer that does not answer costs at most this.
 */
const DEFAULT_SHUTDOWN_CLOSE_TIMEOUT_MS = 1000;

/** `value` checked as a timer delay (an integer from 0 to 2^31 - 1), or `fallback` when undefined. */
function timeoutOption(name, value, fallback) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 2147483647) {
    throw new RangeError(`${name} must be a non-negative integer number of milliseconds`);
  }
  return value;
}

/**
 * A server's shutdown timings from its options: `shutdownTimeout` (or DaloyJS's name,
 * `shutdownTimeoutMs`) bounds the whole shutdown; `shutdownCloseTimeout` bounds each WebSocket
 * connection's answer to the 1001, and never exceeds the whole.
 * @param {{ shutdownTimeout?: number, shutdownTimeoutMs?: number, shutdownCloseTimeout?: number }} options
 * @returns {{ shutdownTimeout: number, shutdownCloseTimeout: number }}
 */
function shutdownTimeouts(options) {
  const own = timeoutOption('shutdownTimeout', options.shutdownTimeout, undefined);
  const daloy = timeoutOption('shutdownTimeoutMs', options.shutdownTimeoutMs, undefined);
  if (own !== undefined && daloy !== undefined && own !== daloy) {
    throw new RangeError('shutdownTimeout and shutdownTimeoutMs name the same option: give one, or the same value');
  }
  const shutdownTimeout = own ?? daloy ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const closeWait = timeoutOption('shutdownCloseTimeout', options.shutdownCloseTimeout, DEFAULT_SHUTDOWN_CLOSE_TIMEOUT_MS);
  return { shutdownTimeout, shutdownCloseTimeout: Math.min(closeWait, shutdownTimeout) };
}

module.exports = { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, timeoutOption, shutdownTimeouts };
