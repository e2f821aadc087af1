'use strict';

// The millisecond options every server wiring takes (closeTimeout, shutdownTimeout, close()'s
// timeout) and their defaults. Not public constants: lib/primitives/constants.js is exported as is.

/** Milliseconds a started closing handshake may take before the connection is cut off. */
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Grace period of a server's close(), in milliseconds, before the remaining connections go. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** `value` checked as a timer delay (an integer from 0 to 2^31 - 1), or `fallback` when undefined. */
function timeoutOption(name, value, fallback) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 2147483647) {
    throw new RangeError(`${name} must be a non-negative integer number of milliseconds`);
  }
  return value;
}

module.exports = { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, timeoutOption };
