// The outgoing slab of lib/node/frame-writer.js, against stand-in sockets: a region handed over as a
// view (to a stream, or to a corked native socket) keeps its bytes while other frames are staged,
// and the slab is staged from its start again only once every region in it has left as a copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { FrameWriter } = require('../lib/node/frame-writer.js');

/** An unmasked final binary frame of a payload under 64 KiB. */
function expectedFrame(payload) {
  const head = payload.length < 126 ? [0x82, payload.length] : [0x82, 126, payload.length >> 8, payload.length & 0xff];
  return Buffer.concat([Buffer.from(head), payload]);
}

function payloadOf(seed, length) {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

/** A stream's stand-in: keeps each written chunk as it is handed over (a view, when it is one). */
function streamSocket() {
  return {
    destroyed: false,
    writableLength: 0,
    chunks: [],
    write(chunk, cb) {
      this.chunks.push(chunk);
      if (cb !== undefined) process.nextTick(cb);
      return true;
    },
  };
}

/** The native transport's stand-in: copies each region, or keeps a view of it while corked. */
function nativeSocket() {
  return {
    destroyed: false,
    writableLength: 0,
    writableCorked: 0,
    chunks: [],
    regions: [],
    writeRange(bytes, start, end, cb) {
      this.regions.push({ buffer: bytes.buffer, start: bytes.byteOffset + start });
      this.chunks.push(this.writableCorked !== 0 ? bytes.subarray(start, end) : Buffer.from(bytes.subarray(start, end)));
      if (cb !== undefined) process.nextTick(cb);
      return true;
    },
  };
}

/** Sends `count` frames from `writer`, flushing after each, and returns their payloads. */
function sendEach(writer, count, seed) {
  const sent = [];
  for (let i = 0; i < count; i++) {
    const payload = payloadOf(seed + i, 900 + ((seed + i) % 200));
    writer.frame(0x2, payload, payload.length, false);
    writer.flush();
    sent.push(payload);
  }
  return sent;
}

function assertChunks(socket, payloads) {
  assert.equal(socket.chunks.length, payloads.length);
  for (const [i, payload] of payloads.entries()) {
    assert.ok(Buffer.from(socket.chunks[i]).equals(expectedFrame(payload)), `frame ${i} changed after it was handed over`);
  }
}

test('FrameWriter: frames handed to a stream as views keep their bytes while later frames are staged', () => {
  const stream = streamSocket();
  const held = sendEach(new FrameWriter(stream), 3, 1);
  const native = nativeSocket();
  const sent = sendEach(new FrameWriter(native), 100, 50);
  assertChunks(stream, held);
  assertChunks(native, sent);
});

test('FrameWriter: frames handed to a corked native socket keep their bytes while later frames are staged', () => {
  const corked = nativeSocket();
  corked.writableCorked = 1;
  const held = sendEach(new FrameWriter(corked), 3, 7);
  const native = nativeSocket();
  sendEach(new FrameWriter(native), 100, 70);
  assertChunks(corked, held);
});

test('FrameWriter: once every region of the slab has left as a copy, the next frames are staged from its start', () => {
  const a = nativeSocket();
  const b = nativeSocket();
  const writerA = new FrameWriter(a);
  const writerB = new FrameWriter(b);
  sendEach(writerA, 1, 3);
  sendEach(writerB, 1, 4);
  assert.equal(b.regions[0].buffer, a.regions[0].buffer);
  assert.equal(b.regions[0].start, a.regions[0].start, 'the second frame was not staged where the first had been');
});

test('FrameWriter: a region still open when another leaves is not staged over', () => {
  const a = nativeSocket();
  const b = nativeSocket();
  const writerA = new FrameWriter(a);
  const writerB = new FrameWriter(b);
  const sentA = [];
  const sentB = [];
  for (let round = 0; round < 40; round++) {
    // A stages, B stages behind it, A stages again (its region leaves first, B's stays open).
    for (const [writer, sent, seed] of [
      [writerA, sentA, round * 3],
      [writerB, sentB, round * 3 + 1],
      [writerA, sentA, round * 3 + 2],
    ]) {
      const payload = payloadOf(seed, 500 + seed);
      writer.frame(0x2, payload, payload.length, false);
      sent.push(payload);
    }
    writerB.flush();
    writerA.flush();
  }
  const frames = (socket) => Buffer.concat(socket.chunks.map((chunk) => Buffer.from(chunk)));
  assert.ok(frames(a).equals(Buffer.concat(sentA.map(expectedFrame))), "A's frames changed");
  assert.ok(frames(b).equals(Buffer.concat(sentB.map(expectedFrame))), "B's frames changed");
});

test('FrameWriter: a full slab only native sockets wrote from is replaced by a larger one, one a stream held by a small one', () => {
  const native = nativeSocket();
  const payload = payloadOf(9, 1000);
  // One frame from each of many writers: their regions stay open until flushed, so the slab fills
  // and a new one is taken.
  const slabs = () => [...new Set(native.regions.map((region) => region.buffer))];
  const fill = (count) => {
    const writers = Array.from({ length: count }, () => new FrameWriter(native));
    for (const writer of writers) writer.frame(0x2, payload, payload.length, false);
    for (const writer of writers) writer.flush();
  };
  // The first slab taken may follow one held by an earlier test; the one after it follows a slab
  // that only native sockets wrote from.
  fill(300);
  const taken = slabs();
  assert.ok(taken.length >= 3);
  assert.equal(taken.at(-1).byteLength, 128 * 1024);
  const stream = streamSocket();
  sendEach(new FrameWriter(stream), 1, 5);
  const held = stream.chunks[0].buffer;
  native.regions.length = 0;
  fill(200);
  const after = slabs();
  assert.equal(after[0], held, 'the slab the stream holds was not the one in use');
  assert.equal(after[1].byteLength, 32 * 1024);
});
