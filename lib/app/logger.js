'use strict';

// Logging of the Node wiring. A logger is any object with pino's calling convention,
// `logger.error(fields, message)` (pino, DaloyJS's `app.log` and `console` all accept it);
// `new App({ logger })`, `app.log = logger` or the `logger` option of serve/attach replace the
// default, which writes one line per event to stderr; `logger: false` logs nothing.

const defaultLogger = {
  error(fields, message) {
    print('error', fields, message);
  },
  warn(fields, message) {
    print('warn', fields, message);
  },
  info(fields, message) {
    print('info', fields, message);
  },
};

function print(level, fields, message) {
  const err = fields && fields.err;
  const detail = err instanceof Error ? `\n${err.stack || err.message}` : err !== undefined ? ` ${String(err)}` : '';
  const where = fields && fields.path ? ` (${fields.path})` : '';
  process.stderr.write(`[daloy-ws-native] ${level}: ${message}${where}${detail}\n`);
}

/** What `logger: false` selects (as DaloyJS's App accepts it): nothing is logged. */
const silentLogger = {
  error() {},
  warn() {},
  info() {},
};

/**
 * Calls `logger[level](fields, message)`; a logger that is missing the level or throws is ignored,
 * since logging must never take the server down.
 */
function log(logger, level, fields, message) {
  try {
    const fn = logger && logger[level];
    if (typeof fn === 'function') fn.call(logger, fields, message);
  } catch {
    // A broken logger: nothing sensible left to report to.
  }
}

/** Whether `value` can serve as a logger. */
function isLogger(value) {
  return value !== null && typeof value === 'object' && typeof value.error === 'function';
}

module.exports = { defaultLogger, silentLogger, log, isLogger };
