// Deterministic inputs for the benchmarks: payloads of an exact byte size (mixed UTF-8 text, pure
// ASCII text, binary), client-masked frames, and streams of frames cut into reads. Everything is
// built before any timing starts.

import { Buffer } from 'node:buffer';

/** xorshift32: fast, seeded, good enough to pick words and mask keys. */
export function rng(seed = 0x9e3779b9) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

// Chat-like vocabulary. The non-ASCII tokens (Latin-1 accents, Cyrillic, CJK, symbols, emoji)
// are drawn so that about a tenth of the bytes of a mixed payload are non-ASCII.
const ASCII_WORDS = (
  'the a to of and in is it you that for on with as at this be are from or have by not but all ' +
  'message room user status update online typing order price total id time value event ok true ' +
  'false null hello world server client session reply thread join leave ping 42 2026 7 100 3.14'
).split(' ');
const SEPARATORS = [...' '.repeat(24), ', ', ', ', '. ', '. ', ': ', '! ', '? ', '\n'];
const NON_ASCII = [
  'café', 'naïve', 'résumé', 'Zürich', 'São', 'crème', 'façade', 'señor', 'über', 'Ærø',
  '€', '£', '°', '—', '…', '“ok”', '×',
  'привет', 'мир', '日本', '東京', '中文', '한국', 'Ελλάδα',
  '😀', '👍', '🚀', '✓',
];

/**
 * A string whose UTF-8 encoding is exactly `bytes` long: words and separators, with a share
 * `nonAsciiShare` of the words drawn from the non-ASCII list (0 gives pure ASCII).
 */
export function textOfBytes(bytes, next, nonAsciiShare) {
  const parts = [];
  let len = 0;
  for (let word = true; ; word = !word) {
    const r = next();
    let token;
    if (!word) token = SEPARATORS[r % SEPARATORS.length];
    else if (nonAsciiShare > 0 && (r % 1000) / 1000 < nonAsciiShare) token = NON_ASCII[(r >>> 10) % NON_ASCII.length];
    else token = ASCII_WORDS[(r >>> 10) % ASCII_WORDS.length];
    const tlen = Buffer.byteLength(token);
    if (len + tlen > bytes) break;
    parts.push(token);
    len += tlen;
  }
  // Top up with ASCII letters so the size is exact.
  while (len < bytes) {
    parts.push(String.fromCharCode(97 + (next() % 26)));
    len++;
  }
  return parts.join('');
}

/** Share of tokens drawn from the non-ASCII list that makes ~10% of the bytes non-ASCII. */
export const MIXED_SHARE = 0.13;

export function binaryOfBytes(bytes, next) {
  const buf = Buffer.allocUnsafe(bytes);
  let i = 0;
  for (; i + 4 <= bytes; i += 4) buf.writeUInt32LE(next(), i);
  for (; i < bytes; i++) buf[i] = next() & 0xff;
  return buf;
}

export function nonAsciiByteShare(bufs) {
  let non = 0;
  let all = 0;
  for (const b of bufs) {
    for (let i = 0; i < b.length; i++) if (b[i] >= 0x80) non++;
    all += b.length;
  }
  return all ? non / all : 0;
}

/** Length of the header of a frame carrying `n` payload bytes. */
export function headerLength(n, masked) {
  return (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes one frame (FIN set) into `dst` at `off` and returns the offset after it. With a mask key
 * the payload is XORed while copied, as a client sends it (RFC 6455 §5.3).
 */
export function writeFrame(dst, off, opcode, payload, maskKey) {
  const n = payload.length;
  dst[off++] = 0x80 | opcode;
  const maskBit = maskKey ? 0x80 : 0;
  if (n < 126) dst[off++] = maskBit | n;
  else if (n < 65536) {
    dst[off++] = maskBit | 126;
    dst.writeUInt16BE(n, off);
    off += 2;
  } else {
    dst[off++] = maskBit | 127;
    dst.writeUInt32BE(Math.floor(n / 2 ** 32), off);
    dst.writeUInt32BE(n >>> 0, off + 4);
    off += 8;
  }
  if (!maskKey) {
    payload.copy(dst, off);
    return off + n;
  }
  dst.set(maskKey, off);
  off += 4;
  for (let i = 0; i < n; i++) dst[off + i] = payload[i] ^ maskKey[i & 3];
  return off + n;
}

/**
 * A stream of client-masked frames cycling through `payloads` until `maxBytes` of wire data or
 * `maxFrames` frames (whichever comes first; at least `minFrames`). Returns the stream, the frame
 * boundaries, and what a consumer must see: message count, payload bytes, and per message the
 * index of its payload in `payloads`.
 */
export function buildStream(payloads, opcode, { maxBytes, maxFrames, minFrames = 1, seed = 7 }) {
  const next = rng(seed);
  let frames = 0;
  let wire = 0;
  while ((wire < maxBytes && frames < maxFrames) || frames < minFrames) {
    wire += headerLength(payloads[frames % payloads.length].length, true) + payloads[frames % payloads.length].length;
    frames++;
  }
  const stream = Buffer.allocUnsafeSlow(wire);
  const ends = new Array(frames);
  const key = Buffer.alloc(4);
  let off = 0;
  let payloadBytes = 0;
  for (let f = 0; f < frames; f++) {
    const p = payloads[f % payloads.length];
    key.writeUInt32LE((next() | 1) >>> 0, 0); // never the all-zero key, which would be an unmasked copy
    off = writeFrame(stream, off, opcode, p, key);
    ends[f] = off;
    payloadBytes += p.length;
  }
  return { stream, frames, ends, payloadBytes, lastPayload: payloads[(frames - 1) % payloads.length] };
}

/** Cuts `stream` into reads: fixed-size chunks, or one whole frame per read (`size === 'frame'`). */
export function cut(stream, ends, size) {
  const views = [];
  if (size === 'frame') {
    let start = 0;
    for (const end of ends) {
      views.push(stream.subarray(start, end));
      start = end;
    }
  } else {
    for (let i = 0; i < stream.length; i += size) views.push(stream.subarray(i, Math.min(i + size, stream.length)));
  }
  return views;
}

/**
 * Decodes one frame at the start of `bytes` (any length encoding, masked or not) and returns its
 * fields with the payload unmasked into a copy, or null if `bytes` holds less than one frame.
 */
export function decodeFrame(bytes) {
  if (bytes.length < 2) return null;
  const fin = (bytes[0] & 0x80) !== 0;
  const opcode = bytes[0] & 0x0f;
  const masked = (bytes[1] & 0x80) !== 0;
  let n = bytes[1] & 0x7f;
  let off = 2;
  if (n === 126) {
    if (bytes.length < 4) return null;
    n = bytes.readUInt16BE(2);
    off = 4;
  } else if (n === 127) {
    if (bytes.length < 10) return null;
    n = bytes.readUInt32BE(2) * 2 ** 32 + bytes.readUInt32BE(6);
    off = 10;
  }
  const key = masked ? bytes.subarray(off, off + 4) : null;
  if (masked) off += 4;
  if (bytes.length < off + n) return null;
  const payload = Buffer.from(bytes.subarray(off, off + n));
  if (key) for (let i = 0; i < n; i++) payload[i] ^= key[i & 3];
  return { fin, opcode, masked, payload, consumed: off + n };
}
