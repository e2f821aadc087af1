// The parse benchmark's cells: pre-built client-masked streams of one message size and kind, cut
// into reads, and one runner per competitor that feeds a cell for a minimum time and checks what
// its consumer received. Shared by parse.mjs and the profiling driver (profile-cell.mjs).

import { Buffer } from 'node:buffer';
import { rng, textOfBytes, binaryOfBytes, MIXED_SHARE, nonAsciiByteShare, buildStream, cut } from './payloads.mjs';

export const MAX_PAYLOAD = 64 << 20;

export const KINDS = {
  text: { label: 'text, ~10% non-ASCII bytes', opcode: 1, binary: false, share: MIXED_SHARE },
  ascii: { label: 'text, pure ASCII', opcode: 1, binary: false, share: 0 },
  binary: { label: 'binary', opcode: 2, binary: true },
};

function makePayloads(kind, size) {
  const next = rng(size * 31 + kind.opcode);
  const count = Math.max(4, Math.min(257, Math.floor((8 << 20) / size)));
  const values = [];
  const bytes = [];
  for (let i = 0; i < count; i++) {
    if (kind.binary) {
      const b = binaryOfBytes(size, next);
      values.push(b);
      bytes.push(b);
    } else {
      const s = textOfBytes(size, next, kind.share);
      values.push(s);
      bytes.push(Buffer.from(s));
    }
  }
  return { values, bytes };
}

function alignedCopy(buf) {
  const copy = Buffer.from(new ArrayBuffer(buf.length));
  copy.set(buf);
  return copy;
}

export function buildCell(kind, size, reads, { passBytes, passFrames }) {
  const { values, bytes } = makePayloads(kind, size);
  const s = buildStream(bytes, kind.opcode, { maxBytes: passBytes, maxFrames: passFrames, minFrames: 8 });
  let units = 0; // string length (UTF-16 units) for text, bytes for binary, per pass
  for (let f = 0; f < s.frames; f++) units += values[f % values.length].length;
  return {
    kind,
    size,
    reads,
    stream: s.stream,
    pristine: alignedCopy(s.stream),
    views: cut(s.stream, s.ends, reads === 'frame' ? 'frame' : Number(reads)),
    frames: s.frames,
    payloadBytes: s.payloadBytes,
    units,
    lastValue: values[(s.frames - 1) % values.length],
    lastBytes: bytes[(s.frames - 1) % bytes.length],
    nonAscii: kind.binary ? null : nonAsciiByteShare(bytes),
  };
}

// One hot loop per competitor, so no call site inside them turns polymorphic across competitors.
function feedSink(sink, views) {
  for (let i = 0; i < views.length; i++) sink.push(views[i]);
}

function feedReceiver(receiver, views) {
  for (let i = 0; i < views.length; i++) receiver.write(views[i]);
}

// `ws` unmasks in place, in the caller's buffer: every pass starts from the pristine stream, for
// every competitor alike (so they see the same cache state). The refresh is not timed. It copies
// in a JavaScript loop rather than with TypedArray#set, which ws itself uses to assemble
// messages: a profile can then tell the harness's copy from the parser's (perf-breakdown.mjs).
function restoreStream(dst, src) {
  for (let i = 0; i < dst.length; i++) dst[i] = src[i];
}

// A parser that failed (an error event) stops the run: its later passes would time nothing.
function timedPasses(cell, minTime, feed, target, got) {
  let seconds = 0;
  let passes = 0;
  const dst = new Int32Array(cell.stream.buffer, cell.stream.byteOffset, cell.stream.length >>> 2);
  const src = new Int32Array(cell.pristine.buffer, cell.pristine.byteOffset, cell.pristine.length >>> 2);
  const tail = cell.stream.length & ~3;
  while (seconds < minTime && got.errors.length === 0) {
    restoreStream(dst, src);
    for (let i = tail; i < cell.stream.length; i++) cell.stream[i] = cell.pristine[i];
    const t0 = process.hrtime.bigint();
    feed(target, cell.views);
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    passes++;
  }
  return { seconds, passes };
}

function check(cell, passes, got, expectUnits) {
  const problems = [];
  if (got.errors.length) problems.push(`errors: ${got.errors[0]}`);
  if (got.count !== passes * cell.frames) problems.push(`${got.count} messages, expected ${passes * cell.frames}`);
  if (got.units !== passes * expectUnits) problems.push(`${got.units} payload units, expected ${passes * expectUnits}`);
  const last = got.last;
  const want = cell.kind.binary ? cell.lastBytes : cell.lastValue;
  const same =
    typeof want === 'string'
      ? typeof last === 'string' && last === want
      : last instanceof Uint8Array && Buffer.compare(Buffer.from(last.buffer, last.byteOffset, last.byteLength), want) === 0;
  if (!same) problems.push(`last message differs (got ${typeof last} of length ${last?.length})`);
  return problems.length ? problems.join('; ') : null;
}

export function runSink(FrameSink, cell, minTime) {
  const got = { count: 0, units: 0, last: undefined, errors: [] };
  const sink = new FrameSink({
    onMessage(ev) {
      got.count++;
      got.units += ev.data.length;
      got.last = ev.data;
    },
    onPing() {},
    onPong() {},
    onClose(code) {
      got.errors.push(`unexpected close ${code}`);
    },
    onProtocolError(err) {
      got.errors.push(String(err && err.message));
    },
    requireMask: true,
    maxPayloadLength: MAX_PAYLOAD,
  });
  const { seconds, passes } = timedPasses(cell, minTime, feedSink, sink, got);
  const error = check(cell, passes, got, cell.units);
  return { seconds, ops: got.count, bytes: passes * cell.payloadBytes, ok: !error, error };
}

function makeReceiver(Receiver, got, onMessage) {
  const receiver = new Receiver({ isServer: true, maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer' });
  receiver.on('message', onMessage);
  receiver.on('error', (err) => got.errors.push(String(err && err.message)));
  receiver.on('conclude', (code) => got.errors.push(`unexpected close ${code}`));
  return receiver;
}

// `ws` as its users get it: text arrives as a Buffer of UTF-8 bytes.
export function runWsBuffer(Receiver, cell, minTime) {
  const got = { count: 0, units: 0, last: undefined, errors: [] };
  const receiver = makeReceiver(Receiver, got, (data) => {
    got.count++;
    got.units += data.length;
    got.last = data;
  });
  const { seconds, passes } = timedPasses(cell, minTime, feedReceiver, receiver, got);
  // Buffers are bytes: compare against the byte total, and the last message as bytes.
  const error = check({ ...cell, kind: { ...cell.kind, binary: true } }, passes, got, cell.payloadBytes);
  return { seconds, ops: got.count, bytes: passes * cell.payloadBytes, ok: !error, error };
}

// `ws` doing what this package does for text: hand over a string.
export function runWsString(Receiver, cell, minTime) {
  const got = { count: 0, units: 0, last: undefined, errors: [] };
  const receiver = makeReceiver(Receiver, got, (data, isBinary) => {
    const value = isBinary ? data : data.toString();
    got.count++;
    got.units += value.length;
    got.last = value;
  });
  const { seconds, passes } = timedPasses(cell, minTime, feedReceiver, receiver, got);
  const error = check(cell, passes, got, cell.units);
  return { seconds, ops: got.count, bytes: passes * cell.payloadBytes, ok: !error, error };
}
