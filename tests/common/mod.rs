//! Helpers shared by the integration tests (and by the `sink` fuzz target): a tiny PRNG, frame
//! builders, a driver that feeds a [`FrameSink`] in pieces while checking its invariants, and a
//! reference decoder that works on the whole stream at once.
#![allow(dead_code)]

use daloy_ws_native::close::{decode_close_payload, is_valid_wire_close_code};
use daloy_ws_native::encoder::encode_header;
use daloy_ws_native::error::{ErrorKind, ProtocolError};
use daloy_ws_native::header::{decode_header, DecodeOptions, MAX_HEADER_LEN};
use daloy_ws_native::sink::{Event, EventKind, FrameSink, Payload, SinkOptions, ARENA_MAX_COPY};
use daloy_ws_native::utf8::Utf8Validator;

/// xorshift64*: deterministic pseudo-random numbers for property tests.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    pub fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True once in `n` draws.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// Valid UTF-8 of about `n` bytes mixing 1- to 4-byte characters.
    pub fn text(&mut self, n: usize) -> Vec<u8> {
        const CHARS: [char; 8] = ['a', 'Z', ' ', 'é', 'ß', '€', '✓', '𝄞'];
        let mut s = String::new();
        while s.len() < n {
            s.push(CHARS[self.below_usize(CHARS.len())]);
        }
        s.into_bytes()
    }
}

/// RFC 6455 §5.3 byte by byte: the builders and the reference decoder mask with this, not with the
/// crate's vectorised `mask` module, so that a fault there shows up as a difference.
pub fn mask_bytewise(buf: &mut [u8], key: [u8; 4]) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// A frame with `b0` as its first byte (FIN, RSV and opcode bits as given), the shortest length
/// encoding, and `payload` masked with `mask` when given.
pub fn raw_frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut head = [0u8; 14];
    let len = encode_header(&mut head, false, 0, payload.len() as u64, mask);
    head[0] = b0;
    let mut out = head[..len].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        mask_bytewise(&mut out[start..], key);
    }
    out
}

/// A well-formed frame.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    raw_frame(if fin { 0x80 } else { 0 } | opcode, payload, mask)
}

/// An event with its payload resolved to bytes.
pub type Seen = (EventKind, Vec<u8>, u16);

/// What a sink reported over a whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub events: Vec<Seen>,
    pub error: Option<ProtocolError>,
    /// The largest `buffered_len()` seen after a push.
    pub max_buffered: usize,
    /// Events handed over as `Payload::Owned`.
    pub owned: usize,
}

impl Run {
    pub fn seen(&self) -> Vec<(EventKind, &[u8], u16)> {
        self.events
            .iter()
            .map(|(k, b, c)| (*k, b.as_slice(), *c))
            .collect()
    }
}

fn sentinel() -> Event {
    Event {
        kind: EventKind::Pong,
        payload: Payload::Owned(b"sentinel".to_vec()),
        close_code: 4242,
    }
}

/// Feeds `pieces` to a fresh sink, one push each, with an arena of `arena_len` bytes (filled with
/// garbage before each push), and checks after every push the invariants the sink promises.
pub fn run_pieces<'a>(
    opts: SinkOptions,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    arena_len: usize,
) -> Run {
    let mut sink = FrameSink::new(opts);
    let mut arena = vec![0u8; arena_len];
    let mut events = Vec::new();
    let mut run = Run {
        events: Vec::new(),
        error: None,
        max_buffered: 0,
        owned: 0,
    };
    let bound = opts
        .max_payload_length
        .saturating_add((MAX_HEADER_LEN + 125) as u64);
    let mut last_used = 0;
    for (n, piece) in pieces.into_iter().enumerate() {
        // Scribble over what the previous push wrote, so stale bytes cannot pass for new ones.
        arena[..last_used].fill(0xa5 ^ n as u8);
        events.clear();
        events.push(sentinel());
        let was_done = sink.is_done();
        let outcome = sink.push(piece, &mut arena, &mut events);
        assert_eq!(
            events.first(),
            Some(&sentinel()),
            "push must only append to events"
        );
        assert!(
            outcome.arena_used <= arena.len(),
            "arena_used {} > arena {}",
            outcome.arena_used,
            arena.len()
        );
        if was_done {
            assert_eq!(outcome.arena_used, 0, "a done sink writes nothing");
            assert_eq!(events.len(), 1, "a done sink reports nothing");
            assert_eq!(outcome.error, None, "a done sink reports no error");
        }
        let mut cursor = 0;
        for event in &events[1..] {
            assert!(run.error.is_none(), "no event after an error");
            let free = arena.len() - cursor;
            let bytes = match &event.payload {
                Payload::Arena { start, len } => {
                    assert_eq!(*start, cursor, "arena payloads are laid out in order");
                    cursor += len;
                    assert!(cursor <= outcome.arena_used, "payload past arena_used");
                    &arena[*start..*start + *len]
                }
                Payload::Owned(bytes) => {
                    assert!(!bytes.is_empty(), "an empty payload is an arena range");
                    assert!(
                        bytes.len() > free || bytes.len() > ARENA_MAX_COPY,
                        "owned {} bytes with {} free",
                        bytes.len(),
                        free
                    );
                    run.owned += 1;
                    bytes.as_slice()
                }
            };
            match event.kind {
                EventKind::Text => {
                    assert!(std::str::from_utf8(bytes).is_ok(), "text events are UTF-8");
                    assert!(bytes.len() as u64 <= opts.max_payload_length);
                    assert_eq!(event.close_code, 0);
                }
                EventKind::Binary => {
                    assert!(bytes.len() as u64 <= opts.max_payload_length);
                    assert_eq!(event.close_code, 0);
                }
                EventKind::Ping | EventKind::Pong => {
                    assert!(bytes.len() <= 125);
                    assert_eq!(event.close_code, 0);
                }
                EventKind::Close => {
                    assert!(
                        std::str::from_utf8(bytes).is_ok(),
                        "close reasons are UTF-8"
                    );
                    assert!(bytes.len() <= 123);
                    assert!(
                        (event.close_code == 1005 && bytes.is_empty())
                            || is_valid_wire_close_code(event.close_code),
                        "close code {}",
                        event.close_code
                    );
                    assert!(sink.is_done(), "a CLOSE ends the sink");
                    assert!(run.events.last().is_none_or(|e| e.0 != EventKind::Close));
                }
            }
            run.events
                .push((event.kind, bytes.to_vec(), event.close_code));
        }
        assert_eq!(
            cursor, outcome.arena_used,
            "arena_used is the sum of arena payloads"
        );
        last_used = outcome.arena_used;
        if let Some(err) = outcome.error {
            assert!(sink.is_done(), "an error ends the sink");
            run.error = Some(err);
        }
        if sink.is_done() {
            assert_eq!(sink.buffered_len(), 0, "a done sink holds nothing");
        }
        assert!(
            sink.buffered_len() as u64 <= bound,
            "buffered {} > {}",
            sink.buffered_len(),
            bound
        );
        run.max_buffered = run.max_buffered.max(sink.buffered_len());
    }
    run
}

/// The whole stream in one push.
pub fn run_whole(opts: SinkOptions, stream: &[u8], arena_len: usize) -> Run {
    run_pieces(opts, [stream], arena_len)
}

/// The stream cut at the given ascending offsets.
pub fn run_cut(opts: SinkOptions, stream: &[u8], cuts: &[usize], arena_len: usize) -> Run {
    let mut pieces = Vec::new();
    let mut last = 0;
    for &cut in cuts {
        let cut = cut.clamp(last, stream.len());
        pieces.push(&stream[last..cut]);
        last = cut;
    }
    pieces.push(&stream[last..]);
    run_pieces(opts, pieces, arena_len)
}

/// The pieces pushed in place ([`FrameSink::push_in_place`]): each copied to the start of a fresh
/// region with `arena_len` bytes of arena behind it (scribbled, so stale bytes show). Checks that payloads lie in the region within `arena_used`, that `arena_used` covers
/// the chunk whenever it is not 0, and that only binary payloads are left inside the chunk.
pub fn run_in_place<'a>(
    opts: SinkOptions,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    arena_len: usize,
) -> Run {
    let mut sink = FrameSink::new(opts);
    let mut events = Vec::new();
    let mut run = Run {
        events: Vec::new(),
        error: None,
        max_buffered: 0,
        owned: 0,
    };
    for (n, piece) in pieces.into_iter().enumerate() {
        let mut region = vec![0xa5 ^ n as u8; piece.len() + arena_len];
        region[..piece.len()].copy_from_slice(piece);
        events.clear();
        let outcome = sink.push_in_place(&mut region, piece.len(), &mut events);
        assert!(
            outcome.arena_used <= region.len(),
            "arena_used past the region"
        );
        if outcome.arena_used > 0 {
            assert!(
                outcome.arena_used >= piece.len(),
                "arena_used covers the chunk"
            );
        }
        for event in &events {
            let bytes = match &event.payload {
                Payload::Arena { start, len } => {
                    assert!(
                        *len == 0 || start + len <= outcome.arena_used,
                        "payload past arena_used"
                    );
                    assert!(start + len <= region.len(), "payload past the region");
                    if *len > 0 && *start < piece.len() {
                        assert_eq!(
                            event.kind,
                            EventKind::Binary,
                            "only binary stays in the chunk"
                        );
                        assert!(
                            start + len <= piece.len(),
                            "an in-place payload is in the chunk"
                        );
                    } else if *len > 0 {
                        assert!(*start >= piece.len(), "a copied payload is after the chunk");
                    }
                    &region[*start..*start + *len]
                }
                Payload::Owned(bytes) => {
                    run.owned += 1;
                    bytes.as_slice()
                }
            };
            run.events
                .push((event.kind, bytes.to_vec(), event.close_code));
        }
        if let Some(err) = outcome.error {
            run.error = Some(err);
        }
    }
    run
}

/// The stream one byte per push.
pub fn run_bytewise(opts: SinkOptions, stream: &[u8], arena_len: usize) -> Run {
    run_pieces(opts, stream.chunks(1), arena_len)
}

/// The events and error of a run, without the bookkeeping that depends on how it was fed.
pub fn outcome(run: &Run) -> (Vec<Seen>, Option<ProtocolError>) {
    (run.events.clone(), run.error)
}

/// A straightforward decoder over the whole stream, frame by frame, written for clarity rather
/// than speed: the behaviour the streaming sink must reproduce whatever the split. Returns the
/// events and the error (none when the stream ends cleanly or mid-frame).
pub fn reference(opts: SinkOptions, stream: &[u8]) -> (Vec<Seen>, Option<ProtocolError>) {
    let mut events = Vec::new();
    let mut pos = 0;
    let mut message: Option<(EventKind, Vec<u8>, u32)> = None;
    let mut utf8 = Utf8Validator::new();
    let limit = opts.max_payload_length;
    loop {
        let rest = &stream[pos..];
        let Some(&b0) = rest.first() else {
            return (events, None);
        };
        let so_far = match &message {
            Some((_, bytes, _)) if b0 & 0x0f == 0 => bytes.len() as u64,
            _ => 0,
        };
        let decode = DecodeOptions {
            require_mask: opts.require_mask,
            reject_mask: opts.reject_mask,
            max_payload: Some(limit.saturating_sub(so_far)),
            allow_rsv1: false,
        };
        let header = match decode_header(rest, &decode) {
            Ok(Some(h)) => h,
            Ok(None) => return (events, None),
            Err(ProtocolError {
                kind: ErrorKind::PayloadTooLarge { actual, .. },
            }) => {
                return (
                    events,
                    Some(
                        ErrorKind::PayloadTooLarge {
                            limit,
                            actual: so_far + actual,
                        }
                        .into(),
                    ),
                )
            }
            Err(err) => return (events, Some(err)),
        };
        let body = &rest[header.header_len..];
        let have = (body.len() as u64).min(header.payload_len) as usize;
        let mut payload = body[..have].to_vec();
        if header.masked {
            mask_bytewise(&mut payload, header.mask);
        }
        let complete = have as u64 == header.payload_len;
        if header.opcode & 0x08 != 0 {
            if !complete {
                return (events, None);
            }
            pos += header.header_len + have;
            match header.opcode {
                0x9 => events.push((EventKind::Ping, payload, 0)),
                0xa => events.push((EventKind::Pong, payload, 0)),
                _ => {
                    return match decode_close_payload(&payload) {
                        Ok((code, reason)) => {
                            events.push((EventKind::Close, reason.as_bytes().to_vec(), code));
                            (events, None)
                        }
                        Err(err) => (events, Some(err)),
                    }
                }
            }
            continue;
        }
        let (kind, mut bytes, frames) = match (header.opcode, message.take()) {
            (0, Some(m)) => m,
            (0, None) => return (events, Some(ErrorKind::UnexpectedContinuation.into())),
            (_, Some(_)) => return (events, Some(ErrorKind::InterleavedDataFrame.into())),
            (1, None) => (EventKind::Text, Vec::new(), 0),
            (_, None) => (EventKind::Binary, Vec::new(), 0),
        };
        if frames + 1 > opts.max_fragments {
            return (
                events,
                Some(
                    ErrorKind::TooManyFragments {
                        limit: opts.max_fragments,
                    }
                    .into(),
                ),
            );
        }
        let total = bytes.len() as u64 + header.payload_len;
        if total > limit {
            return (
                events,
                Some(
                    ErrorKind::PayloadTooLarge {
                        limit,
                        actual: total,
                    }
                    .into(),
                ),
            );
        }
        if kind == EventKind::Text && utf8.feed(&payload).is_err() {
            return (events, Some(ErrorKind::InvalidUtf8.into()));
        }
        if !complete {
            return (events, None);
        }
        pos += header.header_len + have;
        bytes.extend_from_slice(&payload);
        if header.fin {
            if kind == EventKind::Text {
                if utf8.finish().is_err() {
                    return (events, Some(ErrorKind::InvalidUtf8.into()));
                }
                utf8.reset();
            }
            events.push((kind, bytes, 0));
        } else {
            message = Some((kind, bytes, frames + 1));
        }
    }
}

/// Random limits, sometimes tight enough to trip.
pub fn random_options(rng: &mut XorShift) -> SinkOptions {
    SinkOptions {
        require_mask: rng.one_in(2),
        reject_mask: rng.one_in(4),
        max_payload_length: match rng.below(5) {
            0 => u64::MAX,
            1 => rng.below(4),
            2 => rng.below(300),
            3 => 70_000,
            _ => 1_048_576,
        },
        max_fragments: match rng.below(4) {
            0 => rng.below(4) as u32,
            1 => 1 + rng.below(10) as u32,
            _ => 131_072,
        },
        deflate: None,
    }
}

/// A stream of mostly plausible frames: data messages (single or fragmented, text or binary,
/// now and then invalid UTF-8), control frames between fragments, now and then a broken header,
/// a CLOSE, or a corrupted byte.
pub fn random_stream(rng: &mut XorShift, frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut in_message = false;
    for _ in 0..frames {
        let mask = (!rng.one_in(5)).then(|| {
            [
                rng.next_u64() as u8,
                rng.next_u64() as u8,
                rng.next_u64() as u8,
                rng.next_u64() as u8,
            ]
        });
        let len = match rng.below(10) {
            0 => 0,
            1..=5 => rng.below_usize(20),
            6 | 7 => 100 + rng.below_usize(60),
            8 => 60_000 + rng.below_usize(10_000),
            _ => 1 + rng.below_usize(3000),
        };
        let text = rng.one_in(2);
        let mut payload = if text { rng.text(len) } else { rng.bytes(len) };
        if text && !payload.is_empty() && rng.one_in(30) {
            let i = rng.below_usize(payload.len());
            payload[i] = 0xff;
        }
        match rng.below(12) {
            0 | 1 => out.extend(frame(
                true,
                0x9 + rng.below(2) as u8,
                &payload[..payload.len().min(125)],
                mask,
            )),
            2 if rng.one_in(4) => {
                let code = [1000u16, 1001, 1005, 3000, 4999, 999][rng.below_usize(6)];
                let mut close = code.to_be_bytes().to_vec();
                let reason_len = rng.below_usize(10);
                close.extend_from_slice(&rng.text(reason_len));
                out.extend(frame(true, 0x8, &close, mask));
            }
            3 if rng.one_in(6) => {
                let b0 = rng.next_u64() as u8;
                out.extend(raw_frame(b0, &payload[..payload.len().min(10)], mask));
            }
            _ => {
                let fin = rng.one_in(2);
                // Mostly the right opcode for the state; now and then a continuation out of place
                // or a new message inside one.
                let stray = rng.one_in(20);
                let opcode = if in_message != stray {
                    0
                } else if text {
                    1
                } else {
                    2
                };
                out.extend(frame(fin, opcode, &payload, mask));
                in_message = !fin;
            }
        }
        if rng.one_in(40) && !out.is_empty() {
            let i = rng.below_usize(out.len());
            out[i] ^= 1 << rng.below(8);
        }
    }
    out
}

/// Offsets to cut a stream of `len` bytes at, ascending.
pub fn random_cuts(rng: &mut XorShift, len: usize) -> Vec<usize> {
    let n = rng.below_usize(12);
    let mut cuts: Vec<usize> = (0..n).map(|_| rng.below_usize(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}
