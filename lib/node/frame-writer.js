'use strict';

// The outgoing side of one WebSocket connection on a Node socket: frames written in JavaScript
// (a 2-10 byte header, then the payload) and batched so that everything a connection sends in one
// tick leaves in one socket write.
//
// A small frame is written whole (header and payload) into a slab shared by all connections, and
// each connection's frames of one tick leave in one socket.write of its region of the slab: no
// buffer and no stream write per message. A larger payload is handed to the socket as is (a string
// with 'utf8', encoded once by the stream) behind its header, corked to the end of the tick (a
// frame of 64 KiB or more leaves at once, see frame()).
//
// Used by the DaloyJS-style connection (connection.js) and by the `ws`-compatible WebSocket
// (lib/ws/); neither frames bytes on its own.

const { Buffer } = require('node:buffer');
const { frameHeaderLength, writeFrameHeader } = require('../primitives/frame-header.js');

// Frames up to this payload size are staged in the outgoing slab. Copying a few KiB costs less than
// the stream write and the buffer that a frame of its own would take.
const SMALL_FRAME = 4 * 1024;
// The outgoing slab. Like Node's Buffer pool it moves forward: a region handed to a stream is never
// written again (the stream may hold it until the kernel takes it), and a full slab is replaced, not
// reused. A region the kernel refuses keeps its slab alive until the socket drains, so a socket that
// is already backpressured gets a copy of its region instead (see flush()): each slow connection
// pins at most one slab. The native transport holds no region: it copies what the kernel refuses.
// So once every region staged in the slab has left through it, the slab is free again and the next
// frames are staged from its start, in memory still in cache. A full slab that only the native
// transport wrote from is replaced by a larger one, in which the frames of a whole loop iteration
// fit (64 connections x 1 KiB: 66 KiB), so that one slab serves every iteration; one that a stream
// held a view of is replaced by a small one again.
const OUT_SLAB = 32 * 1024;
const OUT_SLAB_REUSED = 128 * 1024;
let outSlab = Buffer.allocUnsafeSlow(OUT_SLAB);
let outTail = 0;
// Regions of outSlab staged and not yet flushed, and whether one was handed over as a view.
let outOpen = 0;
let outHeld = false;
const latin1Write =
  typeof Buffer.prototype.latin1Write === 'function'
    ? (buf, text, at, length) => buf.latin1Write(text, at, length)
    : (buf, text, at, length) => buf.write(text, at, length, 'latin1');
const utf8Write =
  typeof Buffer.prototype.utf8Write === 'function'
    ? (buf, text, at, length) => buf.utf8Write(text, at, length)
    : (buf, text, at, length) => buf.write(text, at, length, 'utf8');
// Frames from this payload size on are flushed at once instead of at the end of the tick.
const FLUSH_FRAME = 64 * 1024;
// The header of a frame handed to NativeSocket#writeFrame (at most 10 bytes, read before it returns).
const headerScratch = Buffer.allocUnsafeSlow(16);

// Inside a read of the native transport (native-socket.js: beginRead/endRead around the read's
// delivery) a writer's end of tick is the end of the loop iteration's poll phase: the writers that
// sent from the reads of every connection that was ready are flushed together from one setImmediate
// (the check phase, which follows the poll phase), not from a nextTick per read. The frames leave in
// the same write as they would (what a read's callbacks send is all sent by then), Node has no tick
// queue to run after each read's callback, and the peer is sent its replies back to back instead of
// one between every two reads, so it finds more of them per wake-up: measured on 64 connections x
// 1 KiB text echoes, fewer sleeps of the load generator and less kernel time per message on both
// sides (bench/README.md).
let readDepth = 0;
/** @type {FrameWriter[]} */
let readWriters = [];
let readFlushScheduled = false;

function callAll(callbacks, err) {
  for (const cb of callbacks) cb(err);
}

// What a stream's write callback receives once the stream is destroyed.
function destroyedError() {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
}

/** Writes the frames of one connection to its socket, batched per tick. */
class FrameWriter {
  #socket;
  #corked = false;
  // Bytes corked since the last flush; they are not backpressure yet.
  #tickBytes = 0;
  // This tick's staged frames: bytes [#outStart, #outEnd) of the slab #outBuf (#outStart -1: none).
  #outBuf = null;
  #outStart = -1;
  #outEnd = 0;
  #tickScheduled = false;
  #needDrain = false;
  #ended = false;
  // Write callbacks of the staged frames (null: none): called once their region is written.
  #callbacks = null;

  /** @param {import('node:stream').Duplex} socket */
  constructor(socket) {
    this.#socket = socket;
  }

  /** Whether end() was called: nothing more is written. */
  get ended() {
    return this.#ended;
  }

  /** Bytes queued (on the socket, or staged for this tick) and not yet handed to the kernel. */
  get bufferedAmount() {
    return this.#socket.writableLength + (this.#outStart < 0 ? 0 : this.#outEnd - this.#outStart);
  }

  /**
   * Bytes the kernel has refused: what is staged or corked for this tick does not count, so one
   * large message still goes out; a peer that keeps not reading is what a limit cuts off.
   */
  get backpressure() {
    return this.#socket.writableLength - this.#tickBytes;
  }

  /** Whether a write was refused since the last call (the socket's next 'drain' is news); clears it. */
  takeNeedDrain() {
    const need = this.#needDrain;
    this.#needDrain = false;
    return need;
  }

  /** Forgets a pending drain (the connection is closing). */
  clearNeedDrain() {
    this.#needDrain = false;
  }

  /** Stages Latin-1 text (the 101 response) ahead of this tick's frames. */
  writeLatin1(text) {
    const at = this.#stage(text.length); // first: it may start a new slab
    latin1Write(outSlab, text, at, text.length);
  }

  /**
   * Queues one frame. `length` is the payload's byte length (-1: compute it from the bytes);
   * `isString` says the payload is a string to be written as UTF-8; `fin` clear leaves the message
   * open for continuation frames. `cb`, if given, is called (with the socket's write error, if
   * any) once the frame has been written.
   */
  frame(opcode, payload, length, isString, fin = true, cb = undefined) {
    if (this.#ended) return;
    if (length < 0) length = payload.length;
    const at = frameHeaderLength(length);
    if (length <= SMALL_FRAME) {
      const offset = this.#stage(at + length);
      const slab = outSlab;
      writeFrameHeader(slab, offset, fin, opcode, false, length);
      // A string whose UTF-8 length is its length is ASCII: written as Latin-1, a plain copy.
      if (isString) (length === payload.length ? latin1Write : utf8Write)(slab, payload, offset + at, length);
      else slab.set(payload, offset + at);
      if (cb !== undefined) this.#addCallback(cb);
      return;
    }
    const socket = /** @type {any} */ (this.#socket);
    if (length >= FLUSH_FRAME && !isString && !this.#corked && socket.writeFrame !== undefined) {
      // The native transport: a frame that would leave at once anyway goes to the kernel in one
      // vectored write of its header (written into a scratch buffer the addon copies from if it
      // must) and the payload, with no header buffer, cork or chunk list made for it.
      this.flush();
      writeFrameHeader(headerScratch, 0, fin, opcode, false, length);
      if (!socket.writeFrame(headerScratch, at, payload, cb)) this.#needDrain = true;
      return;
    }
    const header = Buffer.allocUnsafe(at);
    writeFrameHeader(header, 0, fin, opcode, false, length);
    this.#writeLarge(header, payload, isString, length, at + length, cb);
  }

  /**
   * Queues bytes that are already one or more whole frames (a masked frame built by encodeFrame,
   * a pre-encoded broadcast frame), in order with the frames queued before and after them.
   */
  raw(bytes, cb = undefined) {
    if (this.#ended) return;
    const length = bytes.length;
    if (length <= SMALL_FRAME) {
      const at = this.#stage(length); // first: it may start a new slab
      outSlab.set(bytes, at);
      if (cb !== undefined) this.#addCallback(cb);
      return;
    }
    this.#writeLarge(null, bytes, false, length, length, cb);
  }

  /**
   * Queues a whole frame that other connections write too (a publish): the same buffer goes to the
   * socket, never copied into the slab, in order with the frames queued before and after it.
   */
  shared(frame) {
    if (this.#ended) return;
    this.#writeLarge(null, frame, false, frame.length, frame.length, undefined);
  }

  // A large payload is handed to the socket as is (a string encoded once by the stream), after
  // what is staged and behind its header, corked together.
  #writeLarge(header, payload, isString, length, total, cb) {
    this.flush();
    if (!this.#corked) this.#cork();
    const socket = this.#socket;
    if (header !== null) socket.write(header);
    const flushed = isString ? socket.write(payload, length === payload.length ? 'latin1' : 'utf8', cb) : socket.write(payload, cb);
    // A large frame goes to the kernel now, with whatever was corked before it: holding it to
    // the end of the tick saves no system call, and what the kernel refuses is then visible as
    // backpressure to the next send.
    if (length >= FLUSH_FRAME) this.#release();
    else this.#tickBytes += total;
    if (!flushed) this.#needDrain = true;
  }

  #addCallback(cb) {
    if (this.#callbacks === null) this.#callbacks = [cb];
    else this.#callbacks.push(cb);
  }

  /** Hands this tick's staged frames to the socket now (they keep their order before later frames). */
  flush() {
    const start = this.#outStart;
    if (start < 0) return;
    const buf = this.#outBuf;
    const end = this.#outEnd;
    this.#outStart = -1;
    this.#outBuf = null;
    const callbacks = this.#callbacks;
    this.#callbacks = null;
    const socket = this.#socket;
    const current = buf === outSlab;
    if (current) outOpen--;
    if (socket.destroyed) {
      if (callbacks !== null) process.nextTick(callAll, callbacks, destroyedError());
      if (current) FrameWriter.#reuseSlab();
      return;
    }
    const done = callbacks === null ? undefined : callbacks.length === 1 ? callbacks[0] : (err) => callAll(callbacks, err);
    const length = end - start;
    let flushed;
    const native = /** @type {any} */ (socket);
    if (native.writeRange !== undefined) {
      // The native transport (native-socket.js): the region itself, no view of it; what the kernel
      // refuses is copied into the addon's queue, so the slab is never pinned. A corked socket keeps
      // a view until it is uncorked.
      if (current && native.writableCorked !== 0) outHeld = true;
      flushed = native.writeRange(buf, start, end, done);
    } else if (socket.writableLength > this.#tickBytes) {
      // The kernel is refusing bytes already: these will wait in the stream, so they must not pin the slab.
      flushed = socket.write(Buffer.from(buf.subarray(start, end)), done);
    } else {
      if (current) outHeld = true;
      flushed = socket.write(buf.subarray(start, end), done);
    }
    if (current) FrameWriter.#reuseSlab();
    if (this.#corked) this.#tickBytes += length;
    if (!flushed) this.#needDrain = true;
  }

  // Every region of the slab has left, none as a view: the next frames are staged from its start.
  static #reuseSlab() {
    if (outOpen === 0 && !outHeld) outTail = 0;
  }

  /** Flushes what is queued and ends the socket's writable side; later frames are dropped. */
  end() {
    if (this.#ended) return;
    this.#ended = true;
    this.flush();
    this.#socket.end();
  }

  #cork() {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    this.#scheduleTick();
  }

  #scheduleTick() {
    if (this.#tickScheduled) return;
    this.#tickScheduled = true;
    if (readDepth > 0) readWriters.push(this);
    else process.nextTick(FrameWriter.#endOfTick, this);
  }

  /** A read's callbacks are about to run: writers that send from them are flushed by endRead(). */
  static beginRead() {
    readDepth++;
  }

  /** The read's callbacks returned (or threw): the writers that sent from them flush in the check phase. */
  static endRead() {
    if (--readDepth > 0 || readFlushScheduled || readWriters.length === 0) return;
    readFlushScheduled = true;
    setImmediate(FrameWriter.#flushReads);
  }

  // The writers that sent from this loop iteration's reads, in the order they first sent.
  static #flushReads() {
    readFlushScheduled = false;
    const writers = readWriters;
    readWriters = [];
    let i = 0;
    try {
      for (; i < writers.length; i++) FrameWriter.#endOfTick(writers[i]);
    } finally {
      // A flush that threw leaves the writers after it to the next tick, as before.
      for (i++; i < writers.length; i++) process.nextTick(FrameWriter.#endOfTick, writers[i]);
    }
  }

  // Once per tick in which the connection sent: its staged frames, then what was corked, leave
  // together (in one writev when both are there).
  static #endOfTick(writer) {
    writer.#tickScheduled = false;
    writer.flush();
    if (writer.#corked) writer.#release();
  }

  #release() {
    this.#corked = false;
    this.#tickBytes = 0;
    this.#socket.uncork();
  }

  /** Reserves `size` bytes at the end of this tick's region; returns where they start in outSlab. */
  #stage(size) {
    if (this.#outStart >= 0 && (this.#outBuf !== outSlab || this.#outEnd !== outTail || outTail + size > outSlab.length)) {
      // Another connection staged after us (a broadcast), or the slab is full: our region so far
      // leaves now, which keeps our frames in order.
      this.flush();
    }
    if (outTail + size > outSlab.length) {
      outSlab = Buffer.allocUnsafeSlow(outHeld ? OUT_SLAB : OUT_SLAB_REUSED);
      outTail = 0;
      outOpen = 0;
      outHeld = false;
    }
    const at = outTail;
    if (this.#outStart < 0) {
      this.#outBuf = outSlab;
      this.#outStart = at;
      outOpen++;
      this.#scheduleTick();
    }
    outTail = at + size;
    this.#outEnd = outTail;
    return at;
  }
}

/**
 * One whole unmasked frame in a buffer of its own, header and payload: a publish's frame, built
 * once and written to every subscriber's socket (FrameWriter#shared).
 */
function buildFrame(opcode, payload, isString) {
  const length = isString ? Buffer.byteLength(payload, 'utf8') : payload.length;
  const at = frameHeaderLength(length);
  const frame = Buffer.allocUnsafe(at + length);
  writeFrameHeader(frame, 0, true, opcode, false, length);
  if (isString) utf8Write(frame, payload, at, length);
  else frame.set(payload, at);
  return frame;
}

module.exports = { FrameWriter, buildFrame };
