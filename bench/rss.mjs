// Peak memory while one 64 MiB binary message arrives in 1,000 reads, for this package's
// FrameSink and for ws's Receiver, each in a fresh child process. The bound for this
// package: (peak RSS - baseline RSS) <= 1.2 x the message size. The delivered message itself is
// 1 x (the consumer holds it), so the rest is the parser's own overhead.
//
//   taskset -c 1 node bench/rss.mjs [--size=67108864] [--chunks=1000] [--impl=path]
//
// Reads are fed the way each parser needs them, so the harness holds no garbage of its own:
// ws keeps references to the reads it buffers, so it gets a fresh Buffer per read (as a socket
// gives); FrameSink neither keeps nor modifies a read (its contract, which the content check
// below would catch if broken), so one read buffer is refilled for every push.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import { loadWs, loadThis, machine, printMachine, parseArgs, require, root } from './lib/env.mjs';
import { headerLength } from './lib/payloads.mjs';
import { ratio, sizeLabel, table, today } from './lib/stats.mjs';

const opts = parseArgs({
  size: 64 << 20,
  chunks: 1000,
  impl: '',
  child: '',
  out: path.join(root, 'bench', 'results'),
});

const MASK = [0x3c, 0xa5, 0x0f, 0x96];

// Payload byte at offset p: cheap to recompute for the content check, not a constant.
function patternByte(p) {
  return (p ^ (p >>> 8) ^ (p >>> 19)) & 0xff;
}

/** Writes wire bytes [from, from + dst.length) of the masked frame into dst. */
function fillWire(dst, from, size, header) {
  const h = header.length;
  for (let i = 0; i < dst.length; i++) {
    const w = from + i;
    if (w < h) dst[i] = header[w];
    else {
      const p = w - h;
      dst[i] = patternByte(p) ^ MASK[p & 3];
    }
  }
  return dst;
}

function frameHeader(size) {
  const h = Buffer.alloc(headerLength(size, true));
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeUInt32BE(Math.floor(size / 2 ** 32), 2);
  h.writeUInt32BE(size >>> 0, 6);
  Buffer.from(MASK).copy(h, 10);
  return h;
}

function mib(bytes) {
  return (bytes / 2 ** 20).toFixed(1);
}

function child(impl) {
  const size = opts.size;
  const header = frameHeader(size);
  const wire = header.length + size;
  const chunkLen = Math.ceil(wire / opts.chunks);
  let received = null;
  const errors = [];
  let push;

  if (impl === 'this') {
    const { FrameSink } = opts.impl ? require(path.resolve(opts.impl)) : loadThis();
    const sink = new FrameSink({
      onMessage({ data }) {
        received = data;
      },
      onPing() {},
      onPong() {},
      onClose(code) {
        errors.push(`unexpected close ${code}`);
      },
      onProtocolError(err) {
        errors.push(err.message);
      },
      requireMask: true,
      maxPayloadLength: size,
    });
    const read = Buffer.allocUnsafeSlow(chunkLen);
    push = (from, len) => sink.push(fillWire(len === chunkLen ? read : read.subarray(0, len), from, size, header));
  } else {
    const { Receiver } = loadWs().ws;
    const receiver = new Receiver({ isServer: true, maxPayload: size, binaryType: 'nodebuffer' });
    receiver.on('message', (data) => {
      received = data;
    });
    receiver.on('error', (err) => errors.push(err.message));
    push = (from, len) => receiver.write(fillWire(Buffer.allocUnsafeSlow(len), from, size, header));
  }

  globalThis.gc?.();
  const mem = () => process.memoryUsage.rss();
  const baseline = mem();
  const maxBefore = process.resourceUsage().maxRSS * 1024;
  let peakSampled = baseline;
  const t0 = process.hrtime.bigint();
  let reads = 0;
  for (let from = 0; from < wire; from += chunkLen) {
    push(from, Math.min(chunkLen, wire - from));
    reads++;
    const r = mem();
    if (r > peakSampled) peakSampled = r;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const maxAfter = process.resourceUsage().maxRSS * 1024;
  const after = mem();

  let content = 'ok';
  if (errors.length) content = `error: ${errors[0]}`;
  else if (!received) content = 'no message';
  else if (received.length !== size) content = `message of ${received.length} bytes`;
  else {
    for (let p = 0; p < size; p++) {
      if (received[p] !== patternByte(p)) {
        content = `payload differs at byte ${p}`;
        break;
      }
    }
  }
  // ru_maxrss only tells something about the parse if the process never was that big before it.
  const peak = maxAfter > maxBefore ? Math.max(peakSampled, maxAfter) : peakSampled;
  process.stdout.write(
    JSON.stringify({ impl, size, reads, chunkLen, baseline, peak, peakSampled, maxBefore, maxAfter, after, seconds, content }),
  );
}

if (opts.child) {
  child(opts.child);
} else {
  const { helpers } = loadWs();
  const env = machine(helpers);
  printMachine(env);
  const self = fileURLToPath(import.meta.url);
  const results = [];
  for (const impl of ['this', 'ws']) {
    const args = ['--expose-gc', self, `--child=${impl}`, `--size=${opts.size}`, `--chunks=${opts.chunks}`];
    if (opts.impl) args.push(`--impl=${opts.impl}`);
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`child ${impl} failed (${r.status}): ${r.stderr}`);
    const res = JSON.parse(r.stdout);
    res.overhead = (res.peak - res.baseline) / res.size;
    results.push(res);
    console.log(
      `${impl.padEnd(5)} baseline ${mib(res.baseline)} MiB, peak ${mib(res.peak)} MiB (sampled ${mib(res.peakSampled)}), ` +
        `(peak - baseline)/size ${ratio(res.overhead)}, ${res.reads} reads of ${res.chunkLen} B in ${res.seconds.toFixed(2)} s, content ${res.content}`,
    );
  }
  const rows = results.map((r) => [
    r.impl === 'this' ? 'this package (FrameSink)' : 'ws Receiver',
    mib(r.baseline),
    mib(r.peak),
    mib(r.peak - r.baseline),
    `**${ratio(r.overhead)}**`,
    r.impl === 'this' ? (r.overhead <= 1.2 && r.content === 'ok' ? 'PASS <= 1.2x' : '**MISS** <= 1.2x') : '—',
    r.content,
  ]);
  const md = table(
    ['parser', 'baseline RSS MiB', 'peak RSS MiB', 'peak - baseline MiB', '(peak - baseline) / size', 'target', 'message check'],
    rows,
  );
  console.log(`\n${sizeLabel(opts.size)} binary message in ${opts.chunks} reads\n\n${md}`);
  mkdirSync(opts.out, { recursive: true });
  const base = path.join(opts.out, `rss-${today()}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ machine: env, settings: opts, results }, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${md}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), base)}.json and .md`);
}
