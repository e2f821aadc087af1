// Text messages become the same strings whichever way they are decoded: by the engine from UTF-8,
// or in the binding through UTF-16 (the default where the engine's decoder is slow, see
// NATIVE_UTF16 in lib/primitives/frame-sink.js). The test scripts run this suite with DALOY_WS_NATIVE_UTF16=1 and =0,
// so that both paths are covered on every runtime; each case goes through the three places a
// message can be assembled: the shared arena, a buffer of the sink's own (a fragmented message
// larger than 16 KiB) and a buffer of the engine's (a large single frame).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8, concat, frame, text, recordingSink } from './helpers/frames.mjs';

const SAMPLES = {
  ascii: 'plain ASCII text, no byte above 0x7f',
  accents: 'café naïve résumé Zürich São crème façade señor über Ærø',
  cyrillicCjk: 'привет мир 日本 東京 中文 한국 Ελλάδα',
  emoji: '😀👍🚀✓ surrogate pairs 😀',
  symbols: '€ £ ° — … “ok” ×',
  // Every Unicode scalar value from U+0000 to U+10FFFF at a stride, lone surrogates excluded.
  scalars: Array.from({ length: 0x10ffff / 97 }, (_, i) => i * 97)
    .filter((c) => c < 0xd800 || c > 0xdfff)
    .map((c) => String.fromCodePoint(c))
    .join(''),
};

function mixedOfBytes(bytes) {
  const words = Object.values(SAMPLES)
    .slice(0, 5)
    .map((w) => `${w} `);
  const parts = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const word = words[i % words.length];
    parts.push(word);
    n += Buffer.byteLength(word);
  }
  return parts.join('');
}

function deliver(chunks, opts = {}) {
  const { sink, events } = recordingSink({ maxPayloadLength: 64 * 1024 * 1024, ...opts });
  for (const chunk of chunks) sink.push(chunk);
  return events;
}

for (const [name, str] of Object.entries(SAMPLES)) {
  test(`${name}: one small frame, and each message of a batch`, () => {
    assert.deepEqual(deliver([text(str)]), [{ type: 'text', data: str }]);
    const head = [...str].slice(0, 3).join('');
    const batch = concat(text(str), text(head), text(''), text(str));
    assert.deepEqual(deliver([batch]), [
      { type: 'text', data: str },
      { type: 'text', data: head },
      { type: 'text', data: '' },
      { type: 'text', data: str },
    ]);
  });
}

test('a fragmented message of 40 KiB, fragments split inside characters', () => {
  const str = mixedOfBytes(40 * 1024);
  const bytes = utf8(str);
  const parts = [];
  // 1,000-byte fragments cut wherever they fall, characters included.
  for (let at = 0; at < bytes.length; at += 1000) {
    parts.push(frame({ opcode: at === 0 ? 0x1 : 0x0, fin: at + 1000 >= bytes.length, payload: bytes.subarray(at, at + 1000) }));
  }
  assert.deepEqual(deliver([concat(...parts)]), [{ type: 'text', data: str }]);
});

test('a single frame of 3 MiB, pushed in 64 KiB reads', () => {
  const str = mixedOfBytes(3 * 1024 * 1024);
  const wire = text(str);
  const reads = [];
  for (let at = 0; at < wire.length; at += 65536) reads.push(wire.subarray(at, at + 65536));
  const events = deliver(reads);
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'text');
  assert.equal(events[0].data.length, str.length);
  assert.ok(events[0].data === str, 'the 3 MiB string differs');
});

test('a batch of 1,500 messages (more than one event table) keeps every string', () => {
  const strs = Array.from({ length: 1500 }, (_, i) => `${SAMPLES.accents} #${i} ${SAMPLES.emoji}`);
  const events = deliver([concat(...strs.map((s) => text(s)))]);
  assert.deepEqual(
    events,
    strs.map((data) => ({ type: 'text', data })),
  );
});
