'use strict';

// The bytes of what `ws`'s methods accept (strings aside): Buffers as they are, ArrayBuffers and
// views without a copy, anything else through Buffer.from (an array of byte values); and binary
// messages in the form `binaryType` asks for.

const { Buffer } = require('node:buffer');
const { toArrayBuffer } = require('../app/payload.js');

/** A Buffer over `data`'s bytes, without a copy when `data` already holds bytes. */
function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && data instanceof SharedArrayBuffer)) {
    return Buffer.from(data);
  }
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** A binary message as `binaryType` asks: a Buffer, an ArrayBuffer, [Buffer] or a Blob. */
function binaryAs(binaryType, data) {
  if (binaryType === 'nodebuffer') return data;
  if (binaryType === 'arraybuffer') return toArrayBuffer(data);
  if (binaryType === 'fragments') return [data];
  return new Blob([data]);
}

module.exports = { toBuffer, binaryAs };
