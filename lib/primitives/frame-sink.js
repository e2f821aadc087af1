'use strict';

// FrameSink: the streaming reader of one connection. Socket bytes cross into Rust once per read
// (src/binding/sink.rs over src/sink.rs); the events of the read come back in a table of words
// and are dispatched here to the connection's callbacks.

const { Buffer } = require('node:buffer');
const binding = require('./addon.js');

// Exported by the binding's module initialisation (src/binding/sink.rs), outside binding.d.ts.
const sinkPush = /** @type {any} */ (binding).sinkPush;
const { WS_MAX_CONTROL_PAYLOAD, DEFAULT_WS_MAX_PAYLOAD_LENGTH, DEFAULT_WS_MAX_FRAGMENTS } = require('./constants.js');
const { fromNative } = require('./errors.js');

// The event table the binding fills on each push, in the layout src/binding/sink.rs exports: a
// head of SINK_TABLE_HEAD words (event count, arena bytes used, flags, bytes buffered), then
// SINK_EVENT_WORDS words per event (kind with OWNED, arena offset or owned index, length, close
// code). One table serves every sink; a push made from inside another push's callback gets a table
// of its own.
const TABLE_HEAD = binding.SINK_TABLE_HEAD;
const EVENT_WORDS = binding.SINK_EVENT_WORDS;
const TABLE_EVENTS = 1024;
const TABLE_LENGTH = TABLE_HEAD + EVENT_WORDS * TABLE_EVENTS;
const OWNED = binding.SINK_OWNED_FLAG;
const ASCII = binding.SINK_ASCII_FLAG;
const STRING = binding.SINK_STRING_FLAG;
const FLAG_ERROR = binding.SINK_FLAG_ERROR;
const FLAG_MORE = binding.SINK_FLAG_MORE;
const sharedTable = new Uint32Array(TABLE_LENGTH);
let pushDepth = 0;

// Payloads of a push are written into a shared arena that moves forward, like Node's buffer pool: a
// binary message is a view of it that no later push overwrites, so it stays the receiver's. A push
// that handed out no view gives its bytes back once delivered (#giveBack).
const ARENA_MIN = 64 * 1024;
const ARENA_CARRY_MAX = 16 * 1024;
let arena = Buffer.allocUnsafeSlow(ARENA_MIN);
let arenaOffset = 0;

// Reads into the arena (the native transport, lib/node/native-socket.js): the socket is read
// straight into the arena's free part, at the window's offset and at most its length, and a push of
// exactly those bytes is parsed in place: a binary message that arrived whole is unmasked where it
// lies and handed out as a view, with no copy. The window leaves room behind the read for what a
// push may also write (a control frame, a small carried message), so such a push never has to
// move to a new arena; a new one, READ_ARENA bytes, is taken when less than READ_MIN is left.
const READ_MAX = 256 * 1024;
const READ_ARENA = 1024 * 1024;
const READ_RESERVE = WS_MAX_CONTROL_PAYLOAD + ARENA_CARRY_MAX;
const READ_MIN = 64 * 1024 + 16;
// The runtime's versions (undefined without `process`), and whether it is Node on V8 before 13 (Node
// 20 and 22), which two choices below depend on.
const versions = typeof process === 'object' && process !== null ? process.versions : undefined;
const NODE_V8_BEFORE_13 =
  versions !== undefined &&
  versions.bun === undefined &&
  versions.deno === undefined &&
  Number.parseInt(String(versions.v8), 10) < 13;
// V8 before 13 (Node 20 and 22) frees the arenas of dropped messages in a young collection once
// the young buffers it counts pass 32 MiB; each read arena is counted twice there (takeArena), so
// the reads cycle through 16 MiB and land in memory still in cache: 64 KiB binary echo -7 to -9%
// server CPU a message on Node 20 (bench/README.md). Node 24's engine collects them in full
// collections, started by a bound that counting twice would reach twice as often.
const COUNT_ARENA_TWICE = NODE_V8_BEFORE_13;
// The window: the next read's offset, the most bytes it may take, and how many pushes are under
// way (pushDepth): while one is, sharedTable is in use and a read must not be pushed into it.
const readWindow = new Uint32Array(3);
// Called with the arena whenever reads move to a new one (null: nobody reads into the arena).
let onReadArena = null;
// FrameSink's internals for the native transport (set in its static block): a sink's native half,
// and the delivery of a read the transport pushed through it itself.
let nativeOf;
let deliverRead;

function updateReadWindow() {
  if (onReadArena === null) return;
  if (arena.length - arenaOffset - READ_RESERVE < READ_MIN) {
    // From the memory of collected arenas when there is some: reads into fresh memory fault on every page.
    arena = binding.takeArena(READ_ARENA, COUNT_ARENA_TWICE);
    arenaOffset = 0;
    onReadArena(arena, readWindow, sharedTable);
  }
  readWindow[0] = arenaOffset;
  readWindow[1] = Math.min(READ_MAX, arena.length - arenaOffset - READ_RESERVE);
}

/**
 * Makes socket reads land in the arena: `register(arena, window, table)` is called now and whenever
 * the arena changes, and must hand all three to the reader; the window's words (offset, most
 * bytes, pushes under way) are kept current. A read goes either through readChunk() and push(), or
 * is pushed by the reader itself, in place, through the sink's native half (nativeOf()) into
 * `table`, the event table of pushes made outside any other, and then delivered by deliverRead().
 * @param {(arena: Buffer, window: Uint32Array, table: Uint32Array) => void} register
 */
function readIntoArena(register) {
  if (onReadArena !== null) return;
  onReadArena = register;
  register(arena, readWindow, sharedTable);
  updateReadWindow();
}

/** The `length` bytes a read just put in the arena's window: push them to parse them in place. */
function readChunk(length) {
  const at = readWindow[0];
  return arena.subarray(at, at + length);
}

const decodeText =
  typeof Buffer.prototype.utf8Slice === 'function'
    ? (buf, start, end) => buf.utf8Slice(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);
// Where the engine turns UTF-8 into a string slowly, the binding builds non-ASCII text into strings
// itself, through UTF-16 (src/utf16.rs): V8 before 13 (Node 20 and 22) decodes mixed text at about
// 0.3 GB/s, Deno's Buffer at 0.65, while building from UTF-16 runs at about 6. Node 24 and Bun
// decode at 2-2.5 GB/s themselves.
// DALOY_WS_NATIVE_UTF16=1 or 0 forces the choice (the test scripts run the text suite both ways).
const NATIVE_UTF16 = (() => {
  let forced;
  try {
    forced = process.env.DALOY_WS_NATIVE_UTF16;
  } catch {
    // No process, or no permission to read the environment (Deno without --allow-env).
  }
  if (forced === '1' || forced === '0') return forced === '1';
  return NODE_V8_BEFORE_13 || versions?.deno !== undefined;
})();

// ASCII text (the binding flags it) becomes a string by a plain copy.
const decodeAscii =
  typeof Buffer.prototype.latin1Slice === 'function'
    ? (buf, start, end) => buf.latin1Slice(start, end)
    : decodeText;

function toBytes(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError('FrameSink.push expects a Uint8Array, an ArrayBuffer or an ArrayBuffer view');
}

const CALLBACKS = ['onMessage', 'onPing', 'onPong', 'onClose', 'onProtocolError'];

function positiveLimit(name, value, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`FrameSink: ${name} must be a non-negative number`);
  }
  return value;
}

// permessage-deflate negotiated: `{ noContextTakeover, windowBits }`, how the peer compresses.
function inflateOption(value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || typeof value.noContextTakeover !== 'boolean' || typeof value.windowBits !== 'number') {
    throw new TypeError('FrameSink: inflate must be { noContextTakeover: boolean, windowBits: number }');
  }
  return { noContextTakeover: value.noContextTakeover, windowBits: value.windowBits };
}

/**
 * Streaming RFC 6455 parser for one connection. `push(chunk)` with socket bytes split anywhere;
 * complete messages and control frames reach the callbacks in order. After `onClose` or
 * `onProtocolError` all input is ignored.
 */
class FrameSink {
  #events;
  #native;
  // Text messages delivered as their (validated) UTF-8 bytes instead of strings: what `ws` gives.
  #textAsBytes;
  #done = false;
  #buffered = 0;
  // A batch whose dispatch a callback interrupted by throwing: delivered first by the next push.
  #pending = null;

  constructor(opts) {
    if (opts == null || typeof opts !== 'object') throw new TypeError('FrameSink: options are required');
    // Checked here rather than when the first message arrives, in the middle of a socket read.
    for (const name of CALLBACKS) {
      if (typeof opts[name] !== 'function') throw new TypeError(`FrameSink: ${name} must be a function`);
    }
    this.#events = opts;
    this.#textAsBytes = opts.textAsBytes === true;
    const maxPayloadLength = positiveLimit('maxPayloadLength', opts.maxPayloadLength, DEFAULT_WS_MAX_PAYLOAD_LENGTH);
    const maxFragments = positiveLimit('maxFragments', opts.maxFragments, DEFAULT_WS_MAX_FRAGMENTS);
    this.#native = new binding.NativeFrameSink(
      opts.requireMask === true,
      maxPayloadLength,
      Math.min(Math.floor(maxFragments), 0xffffffff),
      NATIVE_UTF16 && !this.#textAsBytes,
      opts.rejectMask === true,
      inflateOption(opts.inflate),
    );
    // sinkPush accepts only registered sinks (src/binding/sink.rs, LIVE_SINKS).
    this.#native.register();
  }

  /** Bytes held for an unfinished frame header or message. */
  get bufferedAmount() {
    return this.#buffered;
  }

  /** Feeds socket bytes. A callback's exception propagates; undelivered events wait for the next push. */
  push(chunk) {
    if (this.#pending !== null) {
      // Delivering the held batch may push into other sinks, over the arena's free part where a
      // read may lie: that read is copied first.
      if (onReadArena !== null && chunk instanceof Uint8Array && chunk.buffer === arena.buffer) {
        chunk = Uint8Array.prototype.slice.call(chunk);
      }
      const { table, next, arena: slab, owned, flags } = this.#pending;
      this.#pending = null;
      this.#run(table, next, slab, owned, flags);
    }
    if (this.#done) return;
    const bytes = toBytes(chunk);
    const length = bytes.length;
    if (length === 0) return;

    // Room for every payload of this chunk, one control frame carried from the previous push and a
    // small carried message; a larger carried message comes back as its own buffer.
    const carried = this.#buffered <= ARENA_CARRY_MAX ? this.#buffered : 0;
    const need = length + WS_MAX_CONTROL_PAYLOAD + carried;
    if (arena.length - arenaOffset < need) {
      arena = Buffer.allocUnsafeSlow(need > ARENA_MIN ? need : ARENA_MIN);
      arenaOffset = 0;
      if (onReadArena !== null) onReadArena(arena, readWindow, sharedTable);
    }
    const slab = arena;
    const base = arenaOffset;
    const table = pushDepth === 0 ? sharedTable : new Uint32Array(TABLE_LENGTH);
    readWindow[2] = ++pushDepth;
    try {
      const owned = sinkPush(this.#native, bytes, slab, base, table);
      const used = table[1];
      arenaOffset = base + used;
      if (onReadArena !== null) updateReadWindow();
      this.#buffered = table[3];
      this.#runAndGiveBack(table, slab, owned, base, used);
    } finally {
      readWindow[2] = --pushDepth;
    }
  }

  static {
    nativeOf = (sink) => sink.#native;
    deliverRead = (sink, owned) => sink.#deliverRead(owned);
  }

  // A read that the native transport pushed through #native itself, in place at the read window,
  // with its events in sharedTable: what push() does after its sinkPush.
  #deliverRead(owned) {
    const table = sharedTable;
    const slab = arena;
    const base = readWindow[0];
    const used = table[1];
    arenaOffset = base + used;
    updateReadWindow();
    this.#buffered = table[3];
    readWindow[2] = ++pushDepth;
    try {
      if (this.#pending !== null) {
        // The held batch first; it may push into other sinks, which then take tables of their own,
        // but this read's events leave the shared table before.
        const events = table.slice(0, TABLE_HEAD + EVENT_WORDS * table[0]);
        const { table: held, next, arena: heldSlab, owned: heldOwned, flags } = this.#pending;
        this.#pending = null;
        this.#run(held, next, heldSlab, heldOwned, flags);
        if (this.#done) return;
        this.#run(events, 0, slab, owned, events[2]);
      } else {
        this.#runAndGiveBack(table, slab, owned, base, used);
      }
    } finally {
      readWindow[2] = --pushDepth;
    }
  }

  // Delivers the events of a push that took `used` arena bytes from `base`, then gives those bytes
  // back when nothing delivered is a view of them.
  #runAndGiveBack(table, slab, owned, base, used) {
    const reusable = this.#leavesNothingIn(table);
    this.#run(table, 0, slab, owned, table[2]);
    if (reusable) this.#giveBack(slab, base, used);
  }

  // Whether the arena bytes of the push whose events `table` holds are free again once its events
  // are delivered: the whole batch is in the table, and no event hands out a view of the arena (a
  // string is a copy of its bytes; a binary message, a ping's or a pong's payload, and text given
  // as bytes are views, the receiver's to keep). What the sink holds of an unfinished frame or
  // message is in its own memory, never in the arena.
  #leavesNothingIn(table) {
    if ((table[2] & FLAG_MORE) !== 0) return false;
    const count = table[0];
    for (let i = 0; i < count; i++) {
      const kind = table[TABLE_HEAD + EVENT_WORDS * i];
      if ((kind & OWNED) !== 0) continue;
      const opcode = kind & 0xff;
      if (opcode === 0x8 || (opcode === 0x1 && !this.#textAsBytes)) continue;
      return false;
    }
    return true;
  }

  // The `used` arena bytes from `base` that a delivered push took are free again: the next push or
  // read writes over them, so a connection receiving text reads into memory still in cache instead
  // of moving through the arena. Only when nothing was written after them during the delivery (a
  // push from a callback). A callback that throws leaves the rest of the batch where it lies: this
  // is not reached.
  #giveBack(slab, base, used) {
    if (slab !== arena || arenaOffset !== base + used) return;
    arenaOffset = base;
    updateReadWindow();
  }

  #run(table, next, slab, owned, flags) {
    for (;;) {
      const count = table[0];
      let i = next;
      try {
        for (; i < count; i++) this.#deliver(table, TABLE_HEAD + EVENT_WORDS * i, slab, owned);
      } catch (err) {
        if (i + 1 < count || (flags & (FLAG_MORE | FLAG_ERROR)) !== 0) {
          this.#pending = { table: table.slice(0, TABLE_HEAD + EVENT_WORDS * count), next: i + 1, arena: slab, owned, flags };
        }
        throw err;
      }
      if ((flags & FLAG_MORE) !== 0) {
        // The batch had more events than the table holds: fetch the next part.
        if (table.length < TABLE_LENGTH) table = new Uint32Array(TABLE_LENGTH);
        owned = this.#native.next(table);
        flags = table[2];
        next = 0;
        continue;
      }
      if ((flags & FLAG_ERROR) !== 0) {
        this.#done = true;
        this.#events.onProtocolError(fromNative(this.#native.takeError()));
      }
      return;
    }
  }

  #deliver(table, at, slab, owned) {
    const kind = table[at];
    const length = table[at + 2];
    let source = slab;
    let start = table[at + 1];
    if ((kind & OWNED) !== 0) {
      source = owned[start];
      start = 0;
    }
    const end = start + length;
    switch (kind & 0xff) {
      case 0x1:
        this.#events.onMessage({
          data: this.#textAsBytes
            ? start === 0 && end === source.length
              ? source
              : source.subarray(start, end)
            : (kind & STRING) !== 0
              ? source
              : (kind & ASCII) !== 0
                ? decodeAscii(source, start, end)
                : decodeText(source, start, end),
          isBinary: false,
        });
        break;
      case 0x2:
        this.#events.onMessage({
          data: start === 0 && end === source.length ? source : source.subarray(start, end),
          isBinary: true,
        });
        break;
      case 0x9:
        this.#events.onPing(source.subarray(start, end));
        break;
      case 0xa:
        this.#events.onPong(source.subarray(start, end));
        break;
      case 0x8:
        this.#done = true;
        this.#events.onClose(table[at + 3], decodeText(source, start, end));
        break;
    }
  }
}

module.exports = { FrameSink };
// For the native transport (lib/node/native-socket.js): not enumerable, so the package's entry, which
// spreads this module's exports, does not publish them.
Object.defineProperties(module.exports, {
  readIntoArena: { value: readIntoArena },
  readChunk: { value: readChunk },
  nativeOf: { value: nativeOf },
  deliverRead: { value: deliverRead },
});
