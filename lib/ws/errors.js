'use strict';

// Protocol errors as `ws` reports them: a RangeError (an Error for invalid UTF-8) with its
// `WS_ERR_*` `code`, plus this package's `closeCode`. The message is this package's.

/** The `ws`-shaped twin of a WebSocketProtocolError from the FrameSink. */
function wsProtocolError(err) {
  const Ctor = err.code === 'WS_ERR_INVALID_UTF8' ? Error : RangeError;
  return Object.assign(new Ctor(err.message), { code: err.code, closeCode: err.closeCode });
}

module.exports = { wsProtocolError };
