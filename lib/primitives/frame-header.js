'use strict';

// RFC 6455 §5.2 frame headers written in JavaScript, by encodeFrame (frames.js) and by the Node
// writer (lib/node/frame-writer.js): for a header of 2-10 bytes a call into the addon costs
// more than writing it. The mask key, when there is one, follows the header; its writer adds it.

/** Size of the header for a payload of `length` bytes, without a mask key (minimal length encoding). */
function frameHeaderLength(length) {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/**
 * Writes the header of a frame with a `length`-byte payload at `buf[at..]`, with the MASK bit set
 * when `masked` (the key itself is not written). Works on any Uint8Array. Returns the header's size.
 */
function writeFrameHeader(buf, at, fin, opcode, masked, length) {
  buf[at] = (fin ? 0x80 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) {
    buf[at + 1] = maskBit | length;
    return 2;
  }
  if (length < 65536) {
    buf[at + 1] = maskBit | 126;
    buf[at + 2] = length >>> 8;
    buf[at + 3] = length & 0xff;
    return 4;
  }
  // 64-bit big-endian length; a typed array's length is below 2^53.
  const high = Math.floor(length / 0x100000000);
  const low = length >>> 0;
  buf[at + 1] = maskBit | 127;
  buf[at + 2] = high >>> 24;
  buf[at + 3] = (high >>> 16) & 0xff;
  buf[at + 4] = (high >>> 8) & 0xff;
  buf[at + 5] = high & 0xff;
  buf[at + 6] = low >>> 24;
  buf[at + 7] = (low >>> 16) & 0xff;
  buf[at + 8] = (low >>> 8) & 0xff;
  buf[at + 9] = low & 0xff;
  return 10;
}

module.exports = { frameHeaderLength, writeFrameHeader };
