//! The streaming assembler: one [`FrameSink::push`] per socket read turns the bytes of every
//! frame in the chunk into events (messages and control frames), in wire order.
//!
//! The fast path decodes each header straight from the chunk and unmasks a single-frame
//! message whose payload is wholly in the chunk directly into the caller's arena: no
//! allocation, one pass over the payload. Only what straddles reads is held: a partial header
//! (at most 14 bytes), a partial control frame (a fixed 125-byte buffer) and the message being
//! assembled (one `Vec`, reserved from declared lengths that already passed the limits).

use std::cell::Cell;

use crate::close::decode_close_payload;
use crate::deflate::{Inflater, StreamParams};
use crate::error::{ErrorKind, ProtocolError};
use crate::header::{decode_header, DecodeOptions, FrameHeader, MAX_HEADER_LEN};
use crate::mask::{apply_mask, unmask_into};
use crate::message_buffers;
use crate::opcode::OpCode;
use crate::utf8::{is_valid_utf8, Utf8Validator};

/// The largest message assembled in the sink's own buffer that is copied into the arena; a
/// larger one is handed over as [`Payload::Owned`] without a copy.
pub const ARENA_MAX_COPY: usize = 16 * 1024;

/// The largest control payload (RFC 6455 §5.5).
const MAX_CONTROL: usize = 125;

/// Payload bytes unmasked and validated per step: small enough to stay in the first-level
/// cache between the two passes, a multiple of 4 so the mask phase is the same for each step.
const BLOCK: usize = 16 * 1024;

/// Compressed payload bytes unmasked (on the stack) per inflation call; a multiple of 4 so the
/// mask phase is the same for each.
const INFLATE_BLOCK: usize = 4 * 1024;

/// The most a declared length reserves (or asks the caller for) before the bytes arrive. Below
/// it a message gets its whole buffer at once; above it (possible only when the payload limit
/// is higher) the buffer grows with the bytes received, so a bare header cannot make the sink
/// reserve, or the caller allocate, more than this.
const RESERVE_AHEAD_MAX: usize = 64 << 20;

/// The limits a [`FrameSink`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkOptions {
    /// Reject unmasked frames, as a server must (RFC 6455 §5.1).
    pub require_mask: bool,
    /// Reject masked frames, as a client must (RFC 6455 §5.1).
    pub reject_mask: bool,
    /// The largest message, summed over its fragments, in bytes. `u64::MAX` means no limit.
    pub max_payload_length: u64,
    /// The largest number of frames one data message may have (its first frame included).
    pub max_fragments: u32,
    /// permessage-deflate (RFC 7692) was negotiated, and the peer compresses as these say (the
    /// peer's direction of the [`crate::deflate::Agreement`]). `None`: RSV1 is a protocol error.
    /// With it, RSV1 is accepted on the first frame of a data message, never on control frames
    /// or continuations, and such a message is inflated within `max_payload_length`.
    pub deflate: Option<StreamParams>,
}

impl Default for SinkOptions {
    /// No mask requirement, 1 MiB messages (DaloyJS's `DEFAULT_WS_MAX_PAYLOAD_LENGTH`) and up to
    /// 131 072 frames a message.
    fn default() -> Self {
        SinkOptions {
            require_mask: false,
            reject_mask: false,
            max_payload_length: 1_048_576,
            max_fragments: 131_072,
            deflate: None,
        }
    }
}

/// What an [`Event`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A complete text message; its payload is valid UTF-8.
    Text,
    /// A complete binary message.
    Binary,
    /// A PING frame; the payload is its application data.
    Ping,
    /// A PONG frame; the payload is its application data.
    Pong,
    /// A CLOSE frame; the payload is the reason (valid UTF-8), `close_code` the status.
    Close,
}

/// Where an event's payload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// `len` bytes at `start` of the arena passed to the [`FrameSink::push`] that produced it.
    /// An empty payload is always an empty arena range.
    Arena {
        /// Offset in the arena.
        start: usize,
        /// Length in bytes.
        len: usize,
    },
    /// Bytes handed over to the caller. A large single-frame message is assembled in a buffer
    /// from [`crate::message_buffers`] taken when its header arrives, and handed over here: a
    /// caller done with it can give its memory back there.
    Owned(Vec<u8>),
}

impl Payload {
    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Arena { len, .. } => *len,
            Payload::Owned(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload's bytes, given the arena of the push that produced it (empty when `arena`
    /// is not that arena and the range falls outside it).
    pub fn bytes<'a>(&'a self, arena: &'a [u8]) -> &'a [u8] {
        match self {
            Payload::Arena { start, len } => start
                .checked_add(*len)
                .and_then(|end| arena.get(*start..end))
                .unwrap_or(&[]),
            Payload::Owned(bytes) => bytes,
        }
    }
}

/// A complete message or control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The message, the control frame's application data, or the CLOSE reason.
    pub payload: Payload,
    /// The status of a CLOSE (1005 when its payload was empty); 0 for other events.
    pub close_code: u16,
}

/// The result of one [`FrameSink::push`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// Bytes of the arena the events of this push occupy, from its start.
    pub arena_used: usize,
    /// The violation that ended the batch, after the events completed before it.
    pub error: Option<ProtocolError>,
}

/// The frame whose payload is arriving.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// The control opcode, or `None` for a data frame.
    control: Option<OpCode>,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes still to come.
    remaining: u64,
    /// Payload bytes received so far: the mask phase.
    received: u64,
}

/// A binary payload left in the chunk by [`FrameSink::push_in_place`]: its start in the chunk, its
/// length and its masking key, applied once the chunk is parsed.
type InPlace = (usize, usize, Option<[u8; 4]>);

/// The caller's memory for one push: the arena payloads are copied to and the event list.
struct Batch<'a> {
    arena: &'a mut [u8],
    used: usize,
    /// Where `arena` starts in the memory event offsets count from: the chunk's length in
    /// [`FrameSink::push_in_place`], 0 otherwise.
    offset: usize,
    /// In [`FrameSink::push_in_place`]: the chunk's address, and the binary payloads left where
    /// they lie (start in the chunk, length, masking key), unmasked once the chunk is parsed.
    in_place: Option<(usize, &'a mut Vec<InPlace>)>,
    events: &'a mut Vec<Event>,
}

impl Batch<'_> {
    /// The next `len` free bytes of the arena, when there are that many.
    fn slot(&mut self, len: usize) -> Option<&mut [u8]> {
        let end = self.used.checked_add(len)?;
        self.arena.get_mut(self.used..end)
    }

    /// Records an event whose `len` payload bytes were written to [`Batch::slot`].
    fn commit(&mut self, kind: EventKind, len: usize, close_code: u16) {
        self.events.push(Event {
            kind,
            payload: Payload::Arena {
                start: self.offset + self.used,
                len,
            },
            close_code,
        });
        self.used += len;
    }

    /// Records an event, copying its payload to the arena when it fits.
    fn emit_copy(&mut self, kind: EventKind, bytes: &[u8], close_code: u16) {
        if let Some(dst) = self.slot(bytes.len()) {
            dst.copy_from_slice(bytes);
            self.commit(kind, bytes.len(), close_code);
        } else {
            self.events.push(Event {
                kind,
                payload: Payload::Owned(bytes.to_vec()),
                close_code,
            });
        }
    }
}

/// What [`FrameSink::take_header`] found.
enum HeaderStep {
    /// A whole header, and the bytes of the chunk it took.
    Header(FrameHeader, usize),
    /// The chunk ended inside a header: the bytes stashed.
    NeedMore(usize),
}

/// Copies `src` to `dst` (the same length), unmasking it from mask phase `phase` when the frame is
/// masked: the one place that chooses between the two.
#[inline]
fn copy_payload(dst: &mut [u8], src: &[u8], mask: Option<[u8; 4]>, phase: usize) {
    match mask {
        Some(key) => unmask_into(dst, src, key, phase),
        None => dst.copy_from_slice(src),
    }
}

/// Copies `src` to `dst` (same length), unmasking it when `mask` is set and, when `text`, checking
/// that the whole payload is UTF-8. Works block by block so each block is still in cache when
/// it is validated.
fn unmask_checked(
    dst: &mut [u8],
    src: &[u8],
    mask: Option<[u8; 4]>,
    text: bool,
) -> Result<(), ProtocolError> {
    let invalid = || ProtocolError::new(ErrorKind::InvalidUtf8);
    if !text || src.len() <= BLOCK {
        copy_payload(dst, src, mask, 0);
        return if !text || is_valid_utf8(dst) {
            Ok(())
        } else {
            Err(invalid())
        };
    }
    let mut utf8 = Utf8Validator::new();
    for (d, s) in dst.chunks_mut(BLOCK).zip(src.chunks(BLOCK)) {
        // BLOCK is a multiple of 4: every block starts at mask phase 0.
        copy_payload(d, s, mask, 0);
        utf8.feed(d).map_err(|()| invalid())?;
    }
    utf8.finish().map_err(|()| invalid())
}

/// The data message being assembled, fragmented or one frame split across pushes: one value, so
/// that starting, finishing and dropping a message each reset all of it.
#[derive(Debug, Clone, Default)]
struct Assembly {
    /// `Text` or `Binary` while a message is being assembled.
    kind: Option<EventKind>,
    /// Its bytes so far, unless it is assembled in `dest`.
    bytes: Vec<u8>,
    /// Its frames so far.
    frames: u32,
    /// Its declared payload bytes so far.
    len: u64,
    /// Validation state of a text message.
    utf8: Utf8Validator,
    /// A single-frame message larger than [`ARENA_MAX_COPY`]: its buffer, its full length taken
    /// from [`crate::message_buffers`] when the header arrived, so that every payload byte is
    /// unmasked into it once, from the first read on, and it is handed over without a copy.
    dest: Option<Vec<u8>>,
    /// Bytes of `dest` written so far.
    dest_written: usize,
    /// Its first frame had RSV1: its payload is inflated into `bytes` as it arrives.
    compressed: bool,
}

impl Assembly {
    /// Ends the message whose last frame just completed: returns its kind, whether it is complete
    /// UTF-8 (always true for binary) and, when it was assembled in `dest`, that buffer.
    /// No message is being assembled afterwards; `bytes` is left for the caller to take.
    fn finish(&mut self) -> (EventKind, bool, Option<Vec<u8>>) {
        let kind = self.kind.take().unwrap_or(EventKind::Binary);
        let utf8_complete = kind != EventKind::Text || self.utf8.finish().is_ok();
        self.utf8.reset();
        let in_dest = self.dest.take();
        self.dest_written = 0;
        self.frames = 0;
        self.len = 0;
        self.compressed = false;
        (kind, utf8_complete, in_dest)
    }
}

/// The streaming assembler for one connection's incoming bytes.
///
/// Feed it every read with [`FrameSink::push`]: it appends one [`Event`] per completed message
/// or control frame, reassembles fragmented messages (control frames may come between their
/// fragments), validates text as it arrives and enforces the [`SinkOptions`] limits as soon as a
/// header declares a length. A CLOSE frame or a protocol error ends it: later input is ignored.
#[derive(Debug)]
pub struct FrameSink {
    opts: SinkOptions,
    done: bool,
    /// A header split across pushes.
    head: [u8; MAX_HEADER_LEN],
    head_len: usize,
    /// The frame whose payload is arriving, when it straddles pushes or belongs to a message
    /// assembled in `message`.
    frame: Option<Frame>,
    /// The payload of a control frame split across pushes (at most 125 bytes): allocated only
    /// while one is, so that a connection between frames holds no room for it.
    control: Vec<u8>,
    /// The data message being assembled: fragmented, or one frame split across pushes.
    message: Assembly,
    /// The inflater of compressed messages. With context takeover (the peer keeps its window
    /// between messages) it lives as long as the sink; without, it is held only from a
    /// compressed message's first frame to its last and then goes back to the thread's pool, so
    /// an idle connection holds none (and a pointer's room for it, not the inflater's).
    inflater: Option<Box<Inflater>>,
}

thread_local! {
    /// The list [`FrameSink::push_in_place`] fills, one per thread rather than one per sink: a
    /// push allocates nothing once the thread's list has grown, and an idle connection holds none.
    static IN_PLACE: Cell<Vec<InPlace>> = const { Cell::new(Vec::new()) };
}

impl FrameSink {
    /// A sink at the start of a connection.
    pub fn new(opts: SinkOptions) -> Self {
        FrameSink {
            opts,
            done: false,
            head: [0; MAX_HEADER_LEN],
            head_len: 0,
            frame: None,
            control: Vec::new(),
            message: Assembly::default(),
            inflater: None,
        }
    }

    /// The limits this sink enforces.
    pub fn options(&self) -> &SinkOptions {
        &self.opts
    }

    /// Decodes `chunk`, the next bytes from the peer, appending to `events` one event per message
    /// or control frame completed in it, in wire order. Payloads go to `arena` from its start
    /// where they fit (an assembled message only when it is at most [`ARENA_MAX_COPY`] bytes),
    /// otherwise they are handed over as [`Payload::Owned`]. `events` is only appended to.
    ///
    /// A violation ends the batch: the events completed before it stay in `events`, the error is
    /// in [`PushOutcome::error`], and the sink is done. After a CLOSE frame the sink is done too
    /// and ignores the rest of the chunk; a done sink ignores every push.
    pub fn push(&mut self, chunk: &[u8], arena: &mut [u8], events: &mut Vec<Event>) -> PushOutcome {
        let batch = Batch {
            arena,
            used: 0,
            offset: 0,
            in_place: None,
            events,
        };
        self.push_batch(chunk, batch)
    }

    /// [`FrameSink::push`] for a chunk that lies at the start of the caller's free arena:
    /// `region[..chunk_len]` is the chunk, `region[chunk_len..]` the arena. A binary message that
    /// is one frame wholly in the chunk is unmasked where it lies and reported there (no copy);
    /// every other payload goes after the chunk as in `push`. Event offsets and
    /// [`PushOutcome::arena_used`] count from the start of `region`; `arena_used` covers the chunk
    /// whenever an event refers to any of `region`, and is 0 when none does.
    pub fn push_in_place(
        &mut self,
        region: &mut [u8],
        chunk_len: usize,
        events: &mut Vec<Event>,
    ) -> PushOutcome {
        let chunk_len = chunk_len.min(region.len());
        let (chunk, arena) = region.split_at_mut(chunk_len);
        // Taken for the push (no push runs inside another); a thread being torn down gets a fresh one.
        let mut in_place = IN_PLACE.try_with(Cell::take).unwrap_or_default();
        in_place.clear();
        let batch = Batch {
            arena,
            used: 0,
            offset: chunk_len,
            in_place: Some((chunk.as_ptr() as usize, &mut in_place)),
            events,
        };
        let mut outcome = self.push_batch(chunk, batch);
        for &(start, len, mask) in &in_place {
            if let (Some(key), Some(bytes)) = (mask, chunk.get_mut(start..start + len)) {
                apply_mask(bytes, key, 0);
            }
        }
        if outcome.arena_used > 0 || !in_place.is_empty() {
            outcome.arena_used += chunk_len;
        }
        in_place.clear();
        let _ = IN_PLACE.try_with(|list| list.set(in_place));
        outcome
    }

    fn push_batch(&mut self, chunk: &[u8], mut batch: Batch<'_>) -> PushOutcome {
        if self.done {
            return PushOutcome {
                arena_used: 0,
                error: None,
            };
        }
        let error = self.run(chunk, &mut batch).err();
        if error.is_some() {
            self.end();
        }
        PushOutcome {
            arena_used: batch.used,
            error,
        }
    }

    /// Whether a CLOSE frame or an error ended the sink: it ignores all input from then on.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes held for an unfinished header, control frame or message.
    pub fn buffered_len(&self) -> usize {
        self.head_len + self.control.len() + self.message.bytes.len() + self.message.dest_written
    }

    /// Marks the sink done and releases what it holds.
    fn end(&mut self) {
        self.done = true;
        self.head_len = 0;
        self.frame = None;
        self.control = Vec::new();
        if let Some(dest) = std::mem::take(&mut self.message).dest {
            message_buffers::give_back(dest);
        }
        if let Some(inflater) = self.inflater.take() {
            crate::deflate::release_inflater(inflater);
        }
    }

    fn run(&mut self, chunk: &[u8], batch: &mut Batch<'_>) -> Result<(), ProtocolError> {
        let mut pos = 0;
        while !self.done {
            let rest = match chunk.get(pos..) {
                Some(rest) if !rest.is_empty() => rest,
                _ => break,
            };
            if self.frame.is_some() {
                pos += self.continue_frame(rest, batch)?;
                continue;
            }
            match self.take_header(rest)? {
                HeaderStep::NeedMore(taken) => pos += taken,
                HeaderStep::Header(header, taken) => {
                    pos += taken;
                    let rest = chunk.get(pos..).unwrap_or(&[]);
                    pos += self.start_frame(header, rest, batch)?;
                }
            }
        }
        Ok(())
    }

    /// Whether a frame whose first byte is `b0` continues the message being assembled.
    fn continues_message(&self, b0: u8) -> bool {
        OpCode::from_u8(b0 & 0x0f) == Some(OpCode::Continuation) && self.message.kind.is_some()
    }

    /// Decodes the header at the start of `rest`, completing one stashed by an earlier push.
    fn take_header(&mut self, rest: &[u8]) -> Result<HeaderStep, ProtocolError> {
        let old = self.head_len;
        let first = if old == 0 {
            rest.first()
        } else {
            self.head.first()
        };
        let Some(&b0) = first else {
            return Ok(HeaderStep::NeedMore(0));
        };
        // A continuation frame may only bring the message up to the limit: checking its declared
        // length against what is left lets the decoder refuse it before the masking key arrives.
        let continuing = self.continues_message(b0);
        let so_far = if continuing { self.message.len } else { 0 };
        let limit = self.opts.max_payload_length;
        let opts = DecodeOptions {
            require_mask: self.opts.require_mask,
            reject_mask: self.opts.reject_mask,
            max_payload: Some(limit.saturating_sub(so_far)),
            allow_rsv1: self.opts.deflate.is_some(),
        };
        // `head_len` stays below 14: fourteen bytes always decide a header (RFC 6455 §5.2: 2
        // bytes, at most 8 of extended length, 4 of masking key), so every slice below fits.
        let decoded = if old == 0 {
            decode_header(rest, &opts)
        } else {
            let take = (MAX_HEADER_LEN - old).min(rest.len());
            self.head[old..old + take].copy_from_slice(&rest[..take]);
            decode_header(&self.head[..old + take], &opts)
        };
        let decoded = decoded.map_err(|err| match err.kind {
            ErrorKind::PayloadTooLarge { actual, .. } => {
                ProtocolError::new(ErrorKind::PayloadTooLarge {
                    limit,
                    actual: so_far.saturating_add(actual),
                })
            }
            _ => err,
        })?;
        match decoded {
            Some(header) => {
                self.head_len = 0;
                Ok(HeaderStep::Header(
                    header,
                    header.header_len.saturating_sub(old),
                ))
            }
            None => {
                // The header is longer than what is here: at most 13 bytes to keep.
                let take = (MAX_HEADER_LEN - old).min(rest.len());
                if old == 0 {
                    self.head[..take].copy_from_slice(&rest[..take]);
                }
                self.head_len = old + take;
                Ok(HeaderStep::NeedMore(take))
            }
        }
    }

    /// Starts a frame whose header was just decoded; `rest` is the chunk after the header.
    /// Returns the bytes of `rest` consumed.
    fn start_frame(
        &mut self,
        header: FrameHeader,
        rest: &[u8],
        batch: &mut Batch<'_>,
    ) -> Result<usize, ProtocolError> {
        let mask = header.masked.then_some(header.mask);
        // decode_header returns defined opcodes only.
        let Some(opcode) = OpCode::from_u8(header.opcode) else {
            return Err(ErrorKind::UnknownDataOpcode(header.opcode).into());
        };
        if opcode.is_control() {
            self.control.clear();
            self.frame = Some(Frame {
                control: Some(opcode),
                fin: true,
                mask,
                remaining: header.payload_len,
                received: 0,
            });
            return self.continue_frame(rest, batch);
        }

        let continuation = opcode == OpCode::Continuation;
        // RFC 6455 §5.4: a fragmented message is "a single frame with the FIN bit clear and an
        // opcode other than 0, followed by zero or more frames with the FIN bit clear and the
        // opcode set to 0, and terminated by a single frame with the FIN bit set and an opcode
        // of 0"; fragments of different messages "MUST NOT be interleaved".
        let kind = match (continuation, self.message.kind) {
            (true, Some(kind)) => kind,
            (true, None) => return Err(ErrorKind::UnexpectedContinuation.into()),
            (false, Some(_)) => return Err(ErrorKind::InterleavedDataFrame.into()),
            (false, None) if opcode == OpCode::Text => EventKind::Text,
            (false, None) => EventKind::Binary,
        };
        let frames = self.message.frames.saturating_add(1);
        if frames > self.opts.max_fragments {
            return Err(ErrorKind::TooManyFragments {
                limit: self.opts.max_fragments,
            }
            .into());
        }
        let limit = self.opts.max_payload_length;
        let total = self.message.len.saturating_add(header.payload_len);
        if total > limit {
            return Err(ErrorKind::PayloadTooLarge {
                limit,
                actual: total,
            }
            .into());
        }

        // RSV1 reaches here only on the first frame of a data message of a connection that
        // negotiated permessage-deflate (decode_header refuses it anywhere else).
        let compressed = header.rsv1 && !continuation;
        if header.fin && !continuation && !compressed {
            if let Some(src) = usize::try_from(header.payload_len)
                .ok()
                .and_then(|len| rest.get(..len))
            {
                self.emit_single(kind, src, mask, batch)?;
                return Ok(src.len());
            }
        }

        self.message.kind = Some(kind);
        self.message.frames = frames;
        self.message.len = total;
        if compressed {
            self.message.compressed = true;
            if self.inflater.is_none() {
                let params = self.opts.deflate.unwrap_or(StreamParams {
                    window_bits: crate::deflate::MAX_WINDOW_BITS,
                    no_context_takeover: false,
                });
                self.inflater = Some(crate::deflate::acquire_inflater(params));
            }
        }
        match usize::try_from(header.payload_len) {
            // A compressed message's size is known only once inflated: its buffer grows with
            // the inflated bytes, within the limit (`Inflater::inflate`).
            _ if self.message.compressed => {}
            // A large single-frame message is assembled in a buffer of its own length, taken now
            // (reused memory when some is kept): each payload byte, the first read's included, is
            // unmasked into it once, and it is handed over as it is.
            Ok(len)
                if header.fin
                    && !continuation
                    && len > ARENA_MAX_COPY
                    && len <= RESERVE_AHEAD_MAX =>
            {
                match message_buffers::take(len) {
                    Some(dest) => self.message.dest = Some(dest),
                    None => self.reserve(len as u64),
                }
            }
            _ => self.reserve(header.payload_len),
        }
        self.frame = Some(Frame {
            control: None,
            fin: header.fin,
            mask,
            remaining: header.payload_len,
            received: 0,
        });
        self.continue_frame(rest, batch)
    }

    /// Emits a single-frame message whose payload is all in the chunk: unmasked straight into
    /// the arena when it fits, into one exactly sized `Vec` otherwise.
    fn emit_single(
        &mut self,
        kind: EventKind,
        src: &[u8],
        mask: Option<[u8; 4]>,
        batch: &mut Batch<'_>,
    ) -> Result<(), ProtocolError> {
        let text = kind == EventKind::Text;
        if let (false, Some((base, pending))) = (text, batch.in_place.as_mut()) {
            // Binary, in the caller's own chunk: unmasked there once the chunk is parsed.
            let start = src.as_ptr() as usize - *base;
            pending.push((start, src.len(), mask));
            batch.events.push(Event {
                kind,
                payload: Payload::Arena {
                    start,
                    len: src.len(),
                },
                close_code: 0,
            });
            return Ok(());
        }
        if let Some(dst) = batch.slot(src.len()) {
            unmask_checked(dst, src, mask, text)?;
            batch.commit(kind, src.len(), 0);
        } else {
            let mut owned = vec![0u8; src.len()];
            unmask_checked(&mut owned, src, mask, text)?;
            batch.events.push(Event {
                kind,
                payload: Payload::Owned(owned),
                close_code: 0,
            });
        }
        Ok(())
    }

    /// Makes room for `additional` more message bytes. Grows geometrically across fragments so
    /// many small frames cost amortised constant time, but never past the payload limit: the
    /// buffer stays within `max_payload_length`. At most [`RESERVE_AHEAD_MAX`] bytes are
    /// reserved ahead of the bytes themselves; when the allocator refuses, the buffer grows as
    /// bytes arrive instead.
    fn reserve(&mut self, additional: u64) {
        let len = self.message.bytes.len();
        let additional = additional.min(RESERVE_AHEAD_MAX as u64);
        let Some(needed) = usize::try_from(additional)
            .ok()
            .and_then(|add| len.checked_add(add))
        else {
            return;
        };
        if needed <= self.message.bytes.capacity() {
            return;
        }
        let ceiling = usize::try_from(self.opts.max_payload_length).unwrap_or(usize::MAX);
        let target = needed.max(self.message.bytes.capacity().saturating_mul(2).min(ceiling));
        let _ = self.message.bytes.try_reserve_exact(target - len);
    }

    /// Takes the payload bytes of the current frame from the start of `rest`; completes the frame
    /// when they are all there. Returns the bytes consumed.
    fn continue_frame(
        &mut self,
        rest: &[u8],
        batch: &mut Batch<'_>,
    ) -> Result<usize, ProtocolError> {
        let Some(mut frame) = self.frame else {
            return Ok(0);
        };
        let take = usize::try_from(frame.remaining)
            .map_or(rest.len(), |remaining| remaining.min(rest.len()));
        let src = &rest[..take];
        // The mask phase is the payload offset mod 4 (RFC 6455 §5.3: "octet i ... XOR octet
        // at index i modulo 4 of the masking key").
        let phase = (frame.received % 4) as usize;
        if frame.control.is_some() {
            let start = self.control.len();
            let end = start + take;
            if end <= MAX_CONTROL {
                self.control.resize(end, 0);
                if let Some(dst) = self.control.get_mut(start..end) {
                    copy_payload(dst, src, frame.mask, phase);
                }
            }
        } else if self.message.compressed {
            let last = frame.fin && take as u64 == frame.remaining;
            self.inflate_message(src, frame.mask, phase, last)?;
        } else {
            self.append_message(src, frame.mask, phase)?;
        }
        frame.remaining -= take as u64;
        frame.received += take as u64;
        if frame.remaining == 0 {
            self.frame = None;
            self.complete_frame(frame, batch)?;
        } else {
            self.frame = Some(frame);
        }
        Ok(take)
    }

    /// Appends payload bytes to the message, unmasking them in place block by block and, for
    /// text, validating each block while it is in cache. A message assembled in its own `dest` is
    /// unmasked straight into it.
    fn append_message(
        &mut self,
        src: &[u8],
        mask: Option<[u8; 4]>,
        phase: usize,
    ) -> Result<(), ProtocolError> {
        let text = self.message.kind == Some(EventKind::Text);
        if let Some(dest) = self.message.dest.as_mut() {
            let written = self.message.dest_written;
            let end = written.saturating_add(src.len());
            // `dest` is as long as the frame's declared payload, and no more than that arrives.
            let Some(dst) = dest.get_mut(written..end) else {
                return Err(ErrorKind::PayloadTooLarge {
                    limit: dest.len() as u64,
                    actual: end as u64,
                }
                .into());
            };
            copy_payload(dst, src, mask, phase);
            if text && self.message.utf8.feed(dst).is_err() {
                return Err(ErrorKind::InvalidUtf8.into());
            }
            self.message.dest_written = end;
            return Ok(());
        }
        // Grown here rather than by `extend_from_slice`, whose doubling could hold up to twice
        // the payload limit.
        self.reserve(src.len() as u64);
        for block in src.chunks(BLOCK) {
            let start = self.message.bytes.len();
            self.message.bytes.extend_from_slice(block);
            let added = self.message.bytes.get_mut(start..).unwrap_or(&mut []);
            if let Some(key) = mask {
                // Each block but the last is a multiple of 4 long: the phase is the same for all.
                apply_mask(added, key, phase);
            }
            // RFC 6455 §8.1: invalid UTF-8 fails the connection; failing on the first bad byte,
            // even mid-frame, keeps a peer from making the server buffer a doomed message.
            if text && self.message.utf8.feed(added).is_err() {
                return Err(ErrorKind::InvalidUtf8.into());
            }
        }
        Ok(())
    }

    /// Inflates payload bytes of a compressed message into the message, unmasking them block by
    /// block on the stack, and checks each inflated piece of a text message as it is produced.
    /// `last`: these are the last bytes of the message's FIN frame (possibly none).
    fn inflate_message(
        &mut self,
        src: &[u8],
        mask: Option<[u8; 4]>,
        phase: usize,
        last: bool,
    ) -> Result<(), ProtocolError> {
        let text = self.message.kind == Some(EventKind::Text);
        let limit = self.opts.max_payload_length;
        let Some(inflater) = self.inflater.as_mut() else {
            return Err(ErrorKind::InvalidCompressedData.into());
        };
        let mut block = [0u8; INFLATE_BLOCK];
        let mut pieces = src.chunks(INFLATE_BLOCK).peekable();
        loop {
            let piece = pieces.next().unwrap_or_default();
            let fin = last && pieces.peek().is_none();
            let plain = block.get_mut(..piece.len()).unwrap_or_default();
            // Each block but the last is a multiple of 4 long: the phase is the same for all.
            copy_payload(plain, piece, mask, phase);
            // Fail-fast, as for uncompressed text: at the first invalid inflated sequence, checked
            // step by step before the limit or the data are judged, whatever the split.
            let utf8 = &mut self.message.utf8;
            let mut check = |added: &[u8]| match text && utf8.feed(added).is_err() {
                true => Err(ProtocolError::new(ErrorKind::InvalidUtf8)),
                false => Ok(()),
            };
            inflater.inflate_checked(plain, fin, &mut self.message.bytes, limit, &mut check)?;
            if pieces.peek().is_none() {
                break;
            }
        }
        if last && self.opts.deflate.is_some_and(|p| p.no_context_takeover) {
            if let Some(inflater) = self.inflater.take() {
                crate::deflate::release_inflater(inflater);
            }
        }
        Ok(())
    }

    fn complete_frame(&mut self, frame: Frame, batch: &mut Batch<'_>) -> Result<(), ProtocolError> {
        if let Some(opcode) = frame.control {
            // Its room is let go with it.
            let control = std::mem::take(&mut self.control);
            let payload = control.as_slice();
            match opcode {
                OpCode::Ping => batch.emit_copy(EventKind::Ping, payload, 0),
                OpCode::Pong => batch.emit_copy(EventKind::Pong, payload, 0),
                _ => {
                    let (code, reason) = decode_close_payload(payload)?;
                    batch.emit_copy(EventKind::Close, reason.as_bytes(), code);
                    // RFC 6455 §5.5.1: after a CLOSE "the endpoint MUST NOT send any more data
                    // frames"; nothing the peer sends after its own CLOSE has meaning.
                    self.end();
                }
            }
            return Ok(());
        }
        if !frame.fin {
            return Ok(());
        }
        let compressed = self.message.compressed;
        let (kind, utf8_complete, in_dest) = self.message.finish();
        if !utf8_complete {
            if let Some(dest) = in_dest {
                message_buffers::give_back(dest);
            }
            return Err(ErrorKind::InvalidUtf8.into());
        }
        if let Some(dest) = in_dest {
            batch.events.push(Event {
                kind,
                payload: Payload::Owned(dest),
                close_code: 0,
            });
            return Ok(());
        }
        let len = self.message.bytes.len();
        match batch.slot(len) {
            Some(dst) if len <= ARENA_MAX_COPY => {
                dst.copy_from_slice(&self.message.bytes);
                batch.commit(kind, len, 0);
                if compressed {
                    // Inflated messages come one at a time and grow their own buffer: an idle
                    // connection keeps none of it.
                    self.message.bytes = Vec::new();
                } else {
                    self.message.bytes.clear();
                }
            }
            _ => {
                let mut owned = std::mem::take(&mut self.message.bytes);
                owned.shrink_to_fit();
                batch.events.push(Event {
                    kind,
                    payload: Payload::Owned(owned),
                    close_code: 0,
                });
            }
        }
        Ok(())
    }
}
