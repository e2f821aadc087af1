'use strict';

// The bytes of what `ws`'s methods accept (strings aside): Buffers as they are, ArrayBuffers and
// views without a copy, anything else through Buffer.from (an array of byte values).

const { Buffer } = require('node:buffer');

/** A Buffer over `data`'s bytes, without a copy when `data` already holds bytes. */
function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && data instanceof SharedArrayBuffer)) {
    return Buffer.from(data);
  }
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

module.exports = { toBuffer };
