// Large messages handed to the receiver in buffers of their own: once dropped, they are freed by the
// engine's young collections, not by a full collection every 64 MiB of them (src/binding/sink.rs,
// `hand_over`). The native transport makes almost no other garbage, so nothing else would start a
// young collection there: this suite pushes straight into a sink, which makes none either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { FrameSink } from '../index.mjs';
import { frame } from './helpers/frames.mjs';

const versions = process.versions;
const ON_NODE = versions.bun === undefined && versions.deno === undefined;

// The engine's young and full collections while `work` runs; their entries arrive asynchronously.
async function collectionsDuring(work) {
  const kinds = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) kinds.push(/** @type {any} */ (entry).detail.kind);
  });
  observer.observe({ entryTypes: ['gc'] });
  work();
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return {
    young: kinds.filter((kind) => kind === constants.NODE_PERFORMANCE_GC_MINOR).length,
    full: kinds.filter((kind) => kind === constants.NODE_PERFORMANCE_GC_MAJOR).length,
  };
}

test('dropped large messages: counted once, freed by young collections where the engine runs them first', { skip: !ON_NODE && 'garbage collection entries are Node’s' }, async () => {
  const SIZE = 1 << 20;
  const COUNT = 256;
  const payload = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) payload[i] = (i * 31) & 0xff;
  const wire = frame({ opcode: 0x2, payload });
  // Four reads per message: it is assembled in a buffer of its own, handed over when complete.
  const step = Math.ceil(wire.length / 4);
  const pieces = [];
  for (let at = 0; at < wire.length; at += step) pieces.push(wire.subarray(at, at + step));
  let received = 0;
  let intact = true;
  const sink = new FrameSink({
    requireMask: true,
    maxPayloadLength: 2 * SIZE,
    onMessage({ data }) {
      received++;
      if (data.length !== SIZE || data[SIZE - 1] !== payload[SIZE - 1] || data[12345] !== payload[12345]) intact = false;
    },
    onPing() {},
    onPong() {},
    onClose() {},
    onProtocolError(err) {
      throw err;
    },
  });
  const { young, full } = await collectionsDuring(() => {
    for (let i = 0; i < COUNT; i++) for (const piece of pieces) sink.push(piece);
  });
  assert.equal(received, COUNT);
  assert.ok(intact, 'every message arrived intact');
  const seen = `${full} full and ${young} young collections for ${COUNT} messages of 1 MiB`;
  // Each buffer counted once as external memory: at most a full collection per 64 MiB (7 when
  // they were counted twice). V8 before 12 (Node 20) also runs the young collection first: none.
  // V8 13 (Node 24) checks its young buffers against a larger bound, reached after the full one.
  const youngFirst = Number.parseInt(process.versions.v8, 10) < 12;
  assert.ok(full <= (youngFirst ? 1 : COUNT / 64 + 1), seen);
  if (youngFirst) assert.ok(young >= 1, seen);
});

// Read arenas (the native transport) asked to be counted twice: the engine sees a second buffer of
// each arena's length, which holds no memory, so its young collection that frees dropped arenas comes
// after half as many of them (src/binding/sink.rs, `take_arena`; lib/primitives/frame-sink.js asks
// for it on V8 before 13, whose young collection starts once 32 MiB of young buffers are counted).
test('read arenas counted twice: young collections after half as many arenas', { skip: !(ON_NODE && Number.parseInt(versions.v8, 10) < 13) && 'V8 13 frees them in full collections' }, async () => {
  const require = createRequire(import.meta.url);
  const binding = require('../lib/primitives/addon.js');
  const ARENA = 1 << 20;
  const COUNT = 256;
  async function youngCollections(countTwice) {
    let intact = true;
    const { young } = await collectionsDuring(() => {
      for (let i = 0; i < COUNT; i++) {
        const arena = binding.takeArena(ARENA, countTwice);
        arena[0] = i & 0xff;
        arena[ARENA - 1] = 0x5a;
        if (arena.length !== ARENA || arena[0] !== (i & 0xff) || arena[ARENA - 1] !== 0x5a) intact = false;
      }
    });
    assert.ok(intact, 'every arena is writable memory of the length asked for');
    return young;
  }
  const once = await youngCollections(false);
  const twice = await youngCollections(true);
  // 256 MiB of arenas: about 8 young collections counted once, 16 counted twice.
  assert.ok(once >= COUNT / 64, `${once} young collections for ${COUNT} arenas of 1 MiB counted once`);
  assert.ok(twice >= (once * 3) / 2, `${twice} young collections counted twice, ${once} counted once`);
});
