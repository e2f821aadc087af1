// Splits a `perf` profile of bench/lib/profile-cell.mjs into where the parse time goes: the
// component that owns each sample (this package's JavaScript dispatch, the N-API crossing, the
// Rust parser, unmasking, UTF-8 validation, V8 string creation, the consumer, ws's JavaScript,
// GC) and, when the sample sits in libc or the kernel, what it does there (memcpy, malloc/free,
// page faults on fresh memory). Only main-thread samples from the first one inside a parser on
// count (DWARF unwinding stops at JIT frames, so the harness's own loop is not visible to select
// on), minus the untimed refresh of the input stream (restoreStream in cells.mjs). Record with DWARF
// stacks, since the release addon has no frame pointers:
//
//   taskset -c 1 perf record -F 1000 --call-graph dwarf,16384 -o cell.data \
//     node --perf-basic-prof bench/lib/profile-cell.mjs --kind=text --size=65536 --who=this
//   perf script -i cell.data | node bench/lib/perf-breakdown.mjs [--detail]   (--detail: top leaf symbols)

import { createInterface } from 'node:readline';

// Owners, tried on each frame from the leaf up; the first frame that matches one names the owner.
const OWNERS = [
  ['GC', /v8::internal::(Heap::|Scavenger|ScavengerCollector|MarkCompact|MinorMarkCompact|ConcurrentMarking|Sweeper|IncrementalMarking|GCTracer|MemoryAllocator::|ArrayBufferSweeper)/],
  ['unmask', /daloy_ws_native::mask::|apply_mask|unmask_into|bufferutil|Unmask|unmask/],
  ['UTF-8 validation', /simdutf8|daloy_ws_native::utf8::|Utf8Validator|simdutf::|isUtf8|IsUtf8|validate_utf8/],
  ['V8 string creation (UTF-8 decode)', /Utf8Decoder|NewFromUtf8|NewStringFromUtf8|StringBytes::Encode|Utf8Slice|StringSlice<|utf8Slice|Utf8::|WriteUtf8|String::NewFrom|NewStringFromOneByte|NewStringFromTwoByte|ExternString/],
  ['hand-over of owned buffers (external buffers, finalizers)', /BufferSlice|from_external|adjust_external_memory|napi_create_external|napi_create_buffer|node_api_|v8impl::.*Finalizer|Reference::|RefTracker|napi_env__::|BackingStore|ArrayBuffer::New|ArrayBuffer::Allocator/],
  ['Rust parser (headers, state, copies)', /daloy_ws_native::/],
  ['N-API crossing (napi/v8impl glue)', /napi_|v8impl|FunctionCallbackWrapper|Builtins_CallApiCallback|HandleApiCall|napi::bindgen|napi::/],
  ['consumer callback (harness onMessage)', /JS:.*bench\/lib\/cells\.mjs/],
  ['JS dispatch (index.js)', /JS:.*\/index\.js/],
  ['ws JavaScript (Receiver, Writable)', /JS:.*ws\/lib\/|JS:.*node:internal\/streams|JS:.*node:events|JS:.*node:buffer|JS:.*node:internal\/buffer/],
];
// What a libc or kernel leaf does (reported under the owner above it).
const LEAVES = [
  ['page faults on fresh memory', /asm_exc_page_fault|exc_page_fault|clear_page|do_anonymous_page/],
  ['munmap/madvise', /__x64_sys_munmap|__x64_sys_madvise|__vm_munmap|zap_pte/],
  ['memcpy', /memcpy|memmove/],
  ['malloc/free', /malloc|_int_free|cfree|__libc_free|realloc|_int_realloc|mremap|__rust_alloc|__rust_dealloc|__rust_realloc/],
];

const detail = process.argv.includes('--detail');
const counts = new Map();
const leafSymbols = new Map(); // owner -> Map(leaf symbol -> samples)
const PARSER = /JS:.*\/index\.js|daloy_ws_native::|JS:.*ws\/lib\//;
let mainPid = null;
let started = false;
let timed = 0;
let background = 0;
let untimedMain = 0;

function classify(frames) {
  const all = frames.join('\n');
  let leaf = '';
  for (const [name, re] of LEAVES) {
    if (re.test(all) && (name === 'page faults on fresh memory' || name === 'munmap/madvise' || re.test(frames[0]))) {
      leaf = name;
      break;
    }
  }
  for (const f of frames) {
    for (const [name, re] of OWNERS) if (re.test(f)) return leaf ? `${name} > ${leaf}` : name;
  }
  return leaf ? `other > ${leaf}` : `other (${frames[0]?.trim().split(' ').slice(1).join(' ').slice(0, 60)})`;
}

function flush(header, frames) {
  if (!header) return;
  const m = /^\S+\s+(\d+)/.exec(header);
  const tid = m ? Number(m[1]) : -1;
  if (mainPid === null) mainPid = tid;
  if (tid !== mainPid) {
    background++;
    return;
  }
  const all = frames.join('\n');
  if (!started) started = PARSER.test(all);
  if (!started || /restoreStream/.test(all)) {
    untimedMain++;
    return;
  }
  timed++;
  const c = classify(frames);
  counts.set(c, (counts.get(c) ?? 0) + 1);
  const owner = c.split(' > ')[0];
  const sym = (frames[0] ?? '').replace(/\+0x[0-9a-f]+/, '').replace(/ \(\/tmp\/perf-\d+\.map\)/, '').slice(0, 110);
  if (!leafSymbols.has(owner)) leafSymbols.set(owner, new Map());
  const m2 = leafSymbols.get(owner);
  m2.set(sym, (m2.get(sym) ?? 0) + 1);
}

let header = null;
let frames = [];
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line === '') {
    flush(header, frames);
    header = null;
    frames = [];
  } else if (header === null) header = line;
  else frames.push(line.trim().replace(/^[0-9a-f]+ /, ''));
});
rl.on('close', () => {
  flush(header, frames);
  const pct = (x) => `${((x / timed) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${timed} samples counted (main thread, parsing); ${untimedMain} left out (setup, input refresh); ${background} on other threads`);
  const byOwner = new Map();
  for (const [k, v] of counts) {
    const owner = k.split(' > ')[0];
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + v);
  }
  for (const [owner, v] of [...byOwner].sort((a, b) => b[1] - a[1])) {
    console.log(`${pct(v)}  ${owner}`);
    for (const [k, c] of [...counts].filter(([k]) => k.split(' > ')[0] === owner && k.includes(' > ')).sort((a, b) => b[1] - a[1])) {
      console.log(`         ${pct(c)}  > ${k.split(' > ')[1]}`);
    }
    if (detail) {
      for (const [sym, c] of [...leafSymbols.get(owner)].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
        console.log(`         ${pct(c)}  self in ${sym}`);
      }
    }
  }
});
