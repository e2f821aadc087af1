'use strict';

// Around the calls of an application's handlers, on every runtime: a returned promise is watched
// for rejection, and a handler's failure is logged (and given to the route's `error()` handler)
// instead of reaching the runtime.

const { log } = require('./logger.js');

function isThenable(value) {
  return value !== null && typeof value === 'object' && typeof value.then === 'function';
}

/**
 * Logs that the handler `name` (open, message, drain, close) threw or rejected. The logger is
 * read from `host` now, so that a logger set on the App meanwhile applies.
 * @param {{ logger: object }} host
 */
function logHandlerFailure(host, path, name, err) {
  log(host.logger, 'error', { err, path }, `WebSocket ${name}() handler failed`);
}

/**
 * Calls the route's `error(conn, err)` handler; what it throws or rejects is logged, and goes no
 * further.
 * @param {object} handler the route's handler object (`this` of the call)
 * @param {Function} onError `handler.error`
 * @param {{ logger: object }} host
 */
function callErrorHandler(handler, onError, conn, err, host, path) {
  try {
    const result = onError.call(handler, conn, err);
    if (isThenable(result)) result.then(undefined, (e) => logHandlerFailure(host, path, 'error', e));
  } catch (e) {
    logHandlerFailure(host, path, 'error', e);
  }
}

module.exports = { isThenable, logHandlerFailure, callErrorHandler };
