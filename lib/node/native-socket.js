'use strict';

// The native transport on Node: after the 101, a plain TCP connection's descriptor is taken over by
// the addon (src/binding/transport.rs), which polls it on Node's own libuv loop. Reads land in the
// frame sinks' arena and are pushed, in place, through the connection's FrameSink by the addon
// (readWith()), which then calls here once per read with the events in the sinks' table; writes go
// to the kernel at once (vectored), the part it refuses is queued natively.
//
// NativeSocket is the subset of net.Socket that the connection (connection.js), the frame writer
// (frame-writer.js) and the `ws`-compatible WebSocket (lib/ws/websocket.js) use, with the address
// fields (read from the descriptor when first asked), so code that reads
// `ws._socket.remoteAddress` still works.
//
// Where it applies: Node (not Bun or Deno), Linux and macOS, a net.Socket that is not TLS and has a
// descriptor. DALOY_WS_TRANSPORT=stream keeps every connection on Node's stream; =native (the
// default) takes over the connections where it applies.

const { EventEmitter } = require('node:events');
const { Buffer } = require('node:buffer');
const net = require('node:net');
const util = require('node:util');
const binding = require('../primitives/addon.js');
const { FrameWriter } = require('./frame-writer.js');

const { TRANSPORT_READ, TRANSPORT_PARSED, TRANSPORT_END, TRANSPORT_ERROR, TRANSPORT_DRAIN } = binding;
// A connection is held by its id (transportOpen), a small integer: no native object per connection.
const { transportOpen, transportWritev, transportSetSink, transportSetReading, transportShutdown, transportAddress, transportClose } = binding;
// Exported by the binding's module initialisation (src/binding/transport.rs), outside binding.d.ts.
const { transportWrite, transportWriteFrame } = /** @type {any} */ (binding);
// Node's default highWaterMark for sockets: write() returns false from this many bytes queued.
const HIGH_WATER_MARK = 16 * 1024;
// Not enumerable exports of frame-sink.js (outside the package's surface).
const { readIntoArena, readChunk, nativeOf } = /** @type {any} */ (require('../primitives/frame-sink.js'));
let readsRegistered = false;

// The listener table of a NativeSocket: an object of fast properties whose prototype has none
// (nothing inherited, as with EventEmitter's own `{ __proto__: null }`, which is a hash table of a
// few hundred bytes for every idle connection).
function ListenerTable() {}
ListenerTable.prototype = Object.create(null);
const { beginRead, endRead } = FrameWriter;

// The bits of NativeSocket's #flags: one small integer for what were six boolean fields (8 bytes
// each on every idle connection).
// write() returned false: 'drain' follows once everything is out.
const NEED_DRAIN = 1;
// end() was called.
const ENDED = 2;
// 'finish' emitted: end() was called and everything written is out.
const FINISHED = 4;
// end()'s deferred step has run (the addon shuts the writing side once its queue is empty).
const SHUT = 8;
// The peer ended its side.
const EOF = 16;
const PAUSED = 32;

function transportMode() {
  let mode;
  try {
    mode = process.env.DALOY_WS_TRANSPORT;
  } catch {
    mode = undefined;
  }
  if (mode === undefined || mode === '') return 'native';
  if (mode !== 'native' && mode !== 'stream') {
    throw new RangeError(`DALOY_WS_TRANSPORT must be "native" or "stream", not ${JSON.stringify(mode)}`);
  }
  return mode;
}

const MODE = transportMode();
const AVAILABLE = (() => {
  const versions = process.versions;
  if (versions.bun !== undefined || versions.deno !== undefined) return false;
  if (process.platform !== 'linux' && process.platform !== 'darwin') return false;
  try {
    return typeof binding.nativeTransportAvailable === 'function' && binding.nativeTransportAvailable();
  } catch {
    return false;
  }
})();

/**
 * Which transport a socket gets after the 101: 'native' for Node's plain TCP socket with a
 * descriptor (unless DALOY_WS_TRANSPORT=stream), else 'stream'.
 * @param {any} socket
 * @returns {'native' | 'stream'}
 */
function transportFor(socket) {
  if (MODE === 'stream' || !AVAILABLE) return 'stream';
  if (!(socket instanceof net.Socket) || /** @type {any} */ (socket).encrypted === true || socket.destroyed) return 'stream';
  const handle = /** @type {any} */ (socket)._handle;
  if (handle === null || handle === undefined || typeof handle.fd !== 'number' || handle.fd < 0) return 'stream';
  // Bytes already queued in Node's stream would be lost with it.
  if (socket.writableLength > 0) return 'stream';
  return 'native';
}

function destroyedError() {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
}

function endedError() {
  return Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
}

function systemError(errno, syscall) {
  let code;
  try {
    code = util.getSystemErrorName(-errno);
  } catch {
    code = `E${errno}`;
  }
  return Object.assign(new Error(`${syscall} ${code}`), { errno: -errno, code, syscall });
}

function callAll(callbacks, err) {
  for (const cb of callbacks) cb(err);
}

function emitError(socket, err) {
  socket.emit('error', err);
}

function emitClose(socket, hadError) {
  socket.emit('close', hadError);
}

/** A taken-over connection: net.Socket's surface as the WebSocket layers use it. */
class NativeSocket extends EventEmitter {
  // The connection's id (transportOpen), what the transport* functions take for it: a small
  // integer the addon finds the connection by with an index.
  #id;
  #corked = 0;
  // The chunks written while corked (null: none).
  /** @type {Uint8Array[] | null} */
  #corkedChunks = null;
  #corkedBytes = 0;
  // Write callbacks waiting for the native queue to empty.
  #waiting = null;
  // NEED_DRAIN, ENDED, FINISHED, SHUT, EOF, PAUSED.
  #flags = 0;
  // What Node's stream had read and not delivered at the takeover (null: nothing).
  /** @type {Buffer[] | null} */
  #held = null;
  // The addresses, `{ address, family, port }` as net.Socket's `_getpeername()` and
  // `_getsockname()` give them: read from the descriptor when first asked (most connections are
  // never asked), kept from then on; before that, after the close, undefined (as net.Socket's).
  #peer = undefined;
  #local = undefined;
  // Bytes the native queue holds, as of the last write or drain (the kernel may have taken some
  // since; like a stream's writableLength, it falls when a write completes): read here rather than
  // asked of the addon on every send.
  #queued = 0;
  // The net.Server that counted the socket: it keeps counting the connection until it closes.
  #server = null;
  // Bytes given back with unshift(), delivered as 'data' before the next read.
  #backlog = null;
  // readWith(): reads are pushed through a FrameSink by the addon and handed to #onRead(#reader,
  // owned) instead of emitted as 'data' (null: emitted).
  #reader = null;
  #onRead = null;
  destroyed = false;
  bytesRead = 0;

  /**
   * Takes `socket` over: its descriptor is duplicated, bytes Node had already read are collected
   * into `held` (returned by takeHeld()), and Node's socket is destroyed (which closes only its own
   * descriptor). Call only when transportFor(socket) is 'native'.
   * @param {import('node:net').Socket} socket
   */
  constructor(socket) {
    super();
    /** @type {any} */ (this)._events = new /** @type {any} */ (ListenerTable)();
    if (!readsRegistered) {
      // Reads land in the frame sinks' arena, where a push parses them in place.
      readIntoArena((arena, window, table) => binding.setTransportReadBuffer(arena, window, table));
      readsRegistered = true;
    }
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    // What Node's stream has read and not delivered (read() only when there is some: on an empty
    // buffer it would ask the handle to start reading, for nothing).
    if (socket.readableLength > 0) {
      /** @type {Buffer[]} */
      const held = [];
      let chunk;
      while ((chunk = socket.read()) !== null) held.push(chunk);
      this.#held = held;
    }
    const raw = /** @type {any} */ (socket);
    this.#id = transportOpen(raw._handle.fd, this, NativeSocket.#onEvent);
    // Addresses code read of Node's socket before are kept; Node's socket, once let go, answers
    // remoteAddress & co. from its `_peername` (net.js), which then reads this socket's: the `ws`
    // module's `req.socket.remoteAddress` in a `connection` listener still works.
    if (raw._peername) this.#peer = raw._peername;
    else raw._peername = new PeerName(this);
    // The server keeps counting the connection (getConnections(), and close() waiting for it) as
    // it did the stream: destroying Node's socket must not uncount it; destroy() below does.
    const server = /** @type {any} */ (socket)._server;
    if (server !== null && server !== undefined && typeof server._connections === 'number') {
      /** @type {any} */ (socket)._server = null;
      this.#server = server;
    }
    socket.on('error', noop);
    socket.destroy();
  }

  /**
   * From now on every read is pushed through `sink` (a FrameSink) by the addon, in the poll
   * callback, and `onRead(reader, owned)` is called instead of a 'data' event: it delivers the
   * read's events with frame-sink.js's deliverRead(sink, owned). One call into JavaScript per read,
   * no Buffer, no event. Bytes given back with unshift() still come as 'data'.
   * @param {import('../primitives/frame-sink.js').FrameSink} sink
   * @param {(reader: any, owned: unknown[] | null) => void} onRead
   * @param {any} reader
   */
  readWith(sink, onRead, reader) {
    if (this.destroyed) return;
    transportSetSink(this.#id, nativeOf(sink));
    this.#reader = reader;
    this.#onRead = onRead;
  }

  /** Bytes Node had read before the takeover (once). */
  takeHeld() {
    const held = this.#held ?? [];
    // Not kept for the connection's lifetime.
    this.#held = null;
    return held;
  }

  get remoteAddress() {
    return this.#peerName()?.address;
  }

  get remotePort() {
    return this.#peerName()?.port;
  }

  get remoteFamily() {
    return this.#peerName()?.family;
  }

  get localAddress() {
    return this.#sockName()?.address;
  }

  get localPort() {
    return this.#sockName()?.port;
  }

  #peerName() {
    if (this.#peer === undefined && !this.destroyed) this.#peer = transportAddress(this.#id, true) ?? undefined;
    return this.#peer;
  }

  #sockName() {
    if (this.#local === undefined && !this.destroyed) this.#local = transportAddress(this.#id, false) ?? undefined;
    return this.#local;
  }

  /**
   * The addon's callback, called with the socket as `this` (src/binding/transport.rs).
   * @this {NativeSocket}
   */
  static #onEvent(kind, value, owned) {
    this.#event(kind, value, owned);
  }

  #event(kind, value, owned) {
    switch (kind) {
      case TRANSPORT_PARSED: {
        this.bytesRead += value;
        beginRead();
        try {
          /** @type {any} */ (this.#onRead)(this.#reader, owned);
        } finally {
          endRead();
        }
        break;
      }
      case TRANSPORT_READ: {
        this.bytesRead += value;
        // What the read's callbacks send leaves when they return (frame-writer.js).
        beginRead();
        try {
          this.emit('data', readChunk(value));
        } finally {
          endRead();
        }
        break;
      }
      case TRANSPORT_END:
        this.#onEnd();
        break;
      case TRANSPORT_ERROR:
        this.destroy(systemError(value, 'read'));
        break;
      case TRANSPORT_DRAIN:
        this.#onDrain();
        break;
    }
  }

  #onEnd() {
    this.#flags |= EOF;
    this.emit('end');
    // Both sides ended: the socket closes, but only after 'finish' (the shutdown may still be
    // deferred to the next check phase, or the queue not yet drained: those emit it and close).
    if ((this.#flags & FINISHED) !== 0) this.destroy();
  }

  #onDrain() {
    this.#queued = 0;
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting !== null) callAll(waiting, null);
    if (this.destroyed) return;
    if ((this.#flags & ENDED) !== 0) {
      if ((this.#flags & SHUT) !== 0) this.#finish();
      return;
    }
    NativeSocket.#emitDrain(this);
  }

  /** Bytes written and not yet taken by the kernel (corked ones included). */
  get writableLength() {
    return this.destroyed ? 0 : this.#queued + this.#corkedBytes;
  }

  get writableNeedDrain() {
    return (this.#flags & NEED_DRAIN) !== 0;
  }

  get writableEnded() {
    return (this.#flags & ENDED) !== 0;
  }

  /** Whether 'finish' was emitted (end() called and everything written handed to the kernel). */
  get writableFinished() {
    return (this.#flags & FINISHED) !== 0;
  }

  /** As net.Socket's: false once the peer ended its side or the socket is destroyed. */
  get readable() {
    return !this.destroyed && (this.#flags & EOF) === 0;
  }

  /** As net.Socket's: false once end() was called or the socket is destroyed. */
  get writable() {
    return !this.destroyed && (this.#flags & ENDED) === 0;
  }

  /** Never TLS (transportFor() leaves TLS sockets on the stream). */
  get encrypted() {
    return undefined;
  }

  get readyState() {
    return this.destroyed ? 'closed' : 'open';
  }

  /**
   * @param {Uint8Array | string} data
   * @param {BufferEncoding | ((err?: Error) => void)} [encoding]
   * @param {(err?: Error) => void} [cb]
   */
  write(data, encoding, cb) {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.destroyed || (this.#flags & ENDED) !== 0) return this.#refuse(cb);
    const bytes = typeof data === 'string' ? Buffer.from(data, /** @type {BufferEncoding} */ (encoding === undefined ? 'utf8' : encoding)) : data;
    return this.#write(bytes, 0, bytes.length, cb);
  }

  /**
   * write() of bytes [start, end) of `bytes` (the frame writer's slab region), with no view made
   * for them unless they wait for an uncork.
   * @param {Uint8Array} bytes
   * @param {number} start
   * @param {number} end
   * @param {(err?: Error) => void} [cb]
   */
  writeRange(bytes, start, end, cb) {
    if (this.destroyed || (this.#flags & ENDED) !== 0) return this.#refuse(cb);
    return this.#write(bytes, start, end, cb);
  }

  /**
   * write() of a whole frame: the first `headerLength` bytes of `header` (read before this returns:
   * the frame writer reuses it) and then `payload`, in one vectored write when nothing is corked.
   * @param {Uint8Array} header
   * @param {number} headerLength
   * @param {Uint8Array} payload
   * @param {(err?: Error) => void} [cb]
   */
  writeFrame(header, headerLength, payload, cb) {
    if (this.destroyed || (this.#flags & ENDED) !== 0) return this.#refuse(cb);
    if (this.#corked > 0) {
      this.#write(Buffer.from(header.subarray(0, headerLength)), 0, headerLength, undefined);
      return this.#write(payload, 0, payload.length, cb);
    }
    const ok = this.#accept(headerLength + payload.length, cb);
    this.#afterWrite(transportWriteFrame(this.#id, header, headerLength, payload));
    return ok;
  }

  #refuse(cb) {
    if (cb !== undefined) process.nextTick(cb, this.destroyed ? destroyedError() : endedError());
    return false;
  }

  #write(bytes, start, end, cb) {
    const length = end - start;
    const ok = this.#accept(length, cb);
    if (this.#corked > 0) {
      const chunk = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
      if (this.#corkedChunks === null) this.#corkedChunks = [chunk];
      else this.#corkedChunks.push(chunk);
      this.#corkedBytes += length;
    } else {
      this.#afterWrite(transportWrite(this.#id, bytes, start, end));
    }
    return ok;
  }

  // A write of `length` bytes is taken: as a stream, false once what is buffered, this write
  // included, reaches the high-water mark ('drain' follows when everything is out); `cb` waits for it.
  #accept(length, cb) {
    const ok = this.#queued + this.#corkedBytes + length < HIGH_WATER_MARK;
    if (!ok) this.#flags |= NEED_DRAIN;
    if (cb !== undefined) this.#wait(cb);
    return ok;
  }

  #wait(cb) {
    if (this.#waiting === null) this.#waiting = [cb];
    else this.#waiting.push(cb);
  }

  #afterWrite(queued) {
    if (queued < 0) {
      this.#queued = 0;
      this.destroy(systemError(-queued, 'write'));
      return;
    }
    this.#queued = queued;
    if (queued === 0) {
      // Handed to the kernel: the callbacks (and a pending 'drain') run asynchronously, as a stream's do.
      const waiting = this.#waiting;
      if (waiting !== null) {
        this.#waiting = null;
        process.nextTick(callAll, waiting, null);
      }
      if ((this.#flags & NEED_DRAIN) !== 0) process.nextTick(NativeSocket.#emitDrain, this);
    }
  }

  static #emitDrain(socket) {
    if ((socket.#flags & (NEED_DRAIN | ENDED)) !== NEED_DRAIN || socket.destroyed || socket.writableLength > 0) return;
    socket.#flags &= ~NEED_DRAIN;
    socket.emit('drain');
  }

  /** How many cork() calls are not yet matched by uncork(), as a stream's. */
  get writableCorked() {
    return this.#corked;
  }

  cork() {
    this.#corked++;
  }

  uncork() {
    if (this.#corked === 0) return;
    this.#corked--;
    if (this.#corked === 0) this.#flushCorked();
  }

  #flushCorked() {
    const chunks = this.#corkedChunks;
    if (chunks === null || this.destroyed) return;
    this.#corkedChunks = null;
    this.#corkedBytes = 0;
    const queued = chunks.length === 1 ? transportWrite(this.#id, chunks[0], 0, chunks[0].length) : transportWritev(this.#id, chunks);
    this.#afterWrite(queued);
  }

  /**
   * Ends the writing side once everything written is out (shutdown(SHUT_WR)); the socket closes once
   * the peer has ended its side too.
   */
  end(data, encoding, cb) {
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
    }
    if (data !== undefined && data !== null) this.write(data, encoding);
    if (typeof cb === 'function') this.once('finish', cb);
    if ((this.#flags & ENDED) !== 0 || this.destroyed) return this;
    this.#corked = 0;
    this.#flushCorked();
    if (this.destroyed) return this;
    this.#flags |= ENDED;
    // The addon shuts the writing side now, or once its queue is written: the FIN follows the last
    // frame at once, which the peer, still awake from that frame, takes with it (deferring it to the
    // next loop iteration, as Node's stream does, cost the peer a second wake-up and this process
    // ~2 µs of kernel time per connection in a storm of short connections). 'finish' comes from the
    // next loop iteration, as a stream's does.
    transportShutdown(this.#id);
    setImmediate(NativeSocket.#shutdown, this);
    return this;
  }

  static #shutdown(socket) {
    if (socket.destroyed) return;
    socket.#flags |= SHUT;
    if (socket.#queued === 0) socket.#finish();
  }

  // Once, from the deferred shutdown or the drain after it, whichever sees the queue empty first;
  // with the peer's side ended already, the socket closes.
  #finish() {
    if ((this.#flags & FINISHED) !== 0) return;
    this.#flags |= FINISHED;
    this.emit('finish');
    if ((this.#flags & EOF) !== 0 && !this.destroyed) this.destroy();
  }

  /** Closes the connection at once (queued bytes are dropped); `close` follows on the next tick. */
  destroy(err) {
    if (this.destroyed) return this;
    this.destroyed = true;
    transportClose(this.#id);
    this.#reader = null;
    this.#onRead = null;
    const server = this.#server;
    if (server !== null) {
      this.#server = null;
      server._connections--;
      if (typeof server._emitCloseIfDrained === 'function') server._emitCloseIfDrained();
    }
    this.#corkedChunks = null;
    this.#corkedBytes = 0;
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting !== null) process.nextTick(callAll, waiting, err ?? destroyedError());
    const hadError = err !== undefined && err !== null;
    if (hadError) process.nextTick(emitError, this, err);
    // As net.Socket: 'close' once the descriptor is let go, after this loop iteration's I/O.
    setImmediate(emitClose, this, hadError);
    return this;
  }

  /** Gives bytes back to be delivered (as 'data') before anything read later, as net.Socket does. */
  unshift(chunk) {
    if (this.#backlog === null) {
      this.#backlog = [chunk];
      process.nextTick(NativeSocket.#deliverBacklog, this);
    } else {
      this.#backlog.unshift(chunk);
    }
  }

  static #deliverBacklog(socket) {
    const backlog = socket.#backlog;
    while (backlog !== null && backlog.length > 0 && (socket.#flags & PAUSED) === 0 && !socket.destroyed) {
      const chunk = /** @type {Buffer} */ (backlog.shift());
      socket.bytesRead += chunk.length;
      socket.emit('data', chunk);
    }
    if (backlog !== null && backlog.length === 0 && socket.#backlog === backlog) socket.#backlog = null;
  }

  pause() {
    if ((this.#flags & PAUSED) === 0) {
      this.#flags |= PAUSED;
      if (!this.destroyed) transportSetReading(this.#id, false);
    }
    return this;
  }

  resume() {
    if ((this.#flags & PAUSED) !== 0) {
      this.#flags &= ~PAUSED;
      if (!this.destroyed) transportSetReading(this.#id, true);
      if (this.#backlog !== null) process.nextTick(NativeSocket.#deliverBacklog, this);
    }
    return this;
  }

  isPaused() {
    return (this.#flags & PAUSED) !== 0;
  }

  address() {
    const local = this.#sockName();
    return local === undefined ? {} : { address: local.address, family: local.family, port: local.port };
  }

  // The socket's options were set on the descriptor before the takeover (TCP_NODELAY); timeouts are
  // the connection's own (idleTimeout, closeTimeout).
  setNoDelay() {
    return this;
  }

  setKeepAlive() {
    return this;
  }

  setTimeout() {
    return this;
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }
}

function noop() {}

// The `_peername` of Node's socket after the takeover: its fields are the NativeSocket's.
class PeerName {
  #socket;

  /** @param {NativeSocket} socket */
  constructor(socket) {
    this.#socket = socket;
  }

  get address() {
    return this.#socket.remoteAddress;
  }

  get family() {
    return this.#socket.remoteFamily;
  }

  get port() {
    return this.#socket.remotePort;
  }
}

module.exports = { NativeSocket, transportFor, TRANSPORT_MODE: MODE };
