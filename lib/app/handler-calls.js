'use strict';

// The one policy around the calls of an application's handlers, on every runtime: a handler runs
// with its route's handler object as `this`; what it throws, or the promise it returns rejects
// with, is logged and given to the route's `error()` handler instead of reaching the runtime.

const { log } = require('./logger.js');

function isThenable(value) {
  return value !== null && typeof value === 'object' && typeof value.then === 'function';
}

// How many arguments after `conn` each handler receives, as DaloyJS calls them.
const ARITY = { open: 1, message: 2, drain: 0, close: 2, error: 1 };

/**
 * Calls the handler `name` (`fn`, the route's `handler[name]`) with `(conn, a, b)`, as many of
 * `a`, `b` as that handler takes. A throw, or a rejection of the promise it returns, goes to
 * `failed.call(conn, name, err)`.
 * @param {Function} fn
 * @param {object} handler the route's handler object (`this` of the call)
 * @param {object} conn
 * @param {'open' | 'message' | 'drain' | 'close' | 'error'} name
 * @param {(this: any, name: string, err: unknown) => void} failed
 * @param {unknown} [a]
 * @param {unknown} [b]
 */
function callHandler(fn, handler, conn, name, failed, a, b) {
  try {
    const arity = ARITY[name];
    const result = arity === 2 ? fn.call(handler, conn, a, b) : arity === 1 ? fn.call(handler, conn, a) : fn.call(handler, conn);
    if (result !== undefined && isThenable(result)) result.then(undefined, (err) => failed.call(conn, name, err));
  } catch (err) {
    failed.call(conn, name, err);
  }
}

/**
 * Logs that the handler `name` threw or rejected. The logger is read from `host` now, so that a
 * logger set on the App meanwhile applies.
 * @param {{ logger: object }} host
 * @param {string} path
 * @param {string} name
 * @param {unknown} err
 */
function logHandlerFailure(host, path, name, err) {
  log(host.logger, 'error', { err, path }, `WebSocket ${name}() handler failed`);
}

/**
 * Gives `err` to the route's `error(conn, err)` handler, if it has one; what that throws or
 * rejects is logged, and goes no further.
 * @param {object} handler the route's handler object
 * @param {object} conn
 * @param {unknown} err
 * @param {{ logger: object }} host
 * @param {string} path
 */
function reportError(handler, conn, err, host, path) {
  const onError = handler.error;
  if (onError === undefined) return;
  callHandler(onError, handler, conn, 'error', (_name, e) => logHandlerFailure(host, path, 'error', e), err);
}

module.exports = { isThenable, callHandler, logHandlerFailure, reportError };
