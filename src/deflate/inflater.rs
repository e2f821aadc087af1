//! The receiving side of permessage-deflate (RFC 7692 §7.2.2): one connection's compressed
//! messages inflated as their bytes arrive, never past the message size limit.

use flate2::{Decompress, FlushDecompress, Status};

use super::{StreamParams, MAX_WINDOW_BITS, TAIL};
use crate::error::{ErrorKind, ProtocolError};

/// The most output room one step of inflation is given (and zero-filled) at a time. With no
/// limit in force, the output grows in steps of at most this; with a limit, each step is also
/// at most one byte past what the limit still allows, so the limit is crossed by one byte at
/// most before inflation stops.
pub const INFLATE_STEP: usize = 64 * 1024;

/// The least room a step starts with: a typical chat or JSON message inflates in one step.
const FIRST_STEP: usize = 1024;

/// Inflates the compressed data messages of one connection, one message at a time.
///
/// # How the frame sink uses it
/// Only on a connection that negotiated the extension, and only for data messages whose first
/// frame had RSV1 set (RFC 7692 §6: RSV1 is the "Per-Message Compressed" bit, read on the
/// first frame of a message). RSV1 on a CONTINUATION frame or on a control frame stays a
/// protocol error (close 1002, §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit
/// of control frames and non-first fragments of a data message"), and so does RSV1 when the
/// extension was not negotiated; RSV2 and RSV3 always are. Frame limits still apply to the
/// declared (compressed) lengths, as they do today.
///
/// For each frame of a compressed message, as each read delivers part of its payload (already
/// unmasked), the sink calls
/// `inflate(piece, fin, &mut message, max_payload_length)`, with `fin` true only for the last
/// piece of the frame that has FIN set (an empty piece is fine, so a FIN frame with an empty
/// payload, or the end of a payload that came in an earlier read, is a call with `&[]`). Each
/// call appends the inflated bytes to `message` and returns how many; the sink runs its
/// fail-fast UTF-8 check on those bytes of a text message right away, so a text message is
/// refused at its first invalid inflated sequence. When the call with `fin` returns, the
/// message is complete and the inflater is ready for the next one.
///
/// Errors (the connection is then failed; the inflater is reset and `message` is as it was
/// before the call):
/// - [`ErrorKind::PayloadTooLarge`] (close 1009) the moment the message's inflated size would
///   pass `limit`. No call ever holds more than `limit + 1` inflated bytes of the message: each
///   step is given room for at most one byte more than the limit still allows, and `message`
///   grows by doubling only up to that bound, so a frame of a few bytes that would inflate to
///   gigabytes costs at most the limit (plus this inflater's own fixed state) in memory.
/// - [`ErrorKind::InvalidCompressedData`] (close 1007, as `ws`) for data that is not DEFLATE,
///   or that refers back past the start of its stream.
///
/// With context takeover the window carries from one message to the next; when the peer
/// agreed `*_no_context_takeover` ([`StreamParams::no_context_takeover`]) the stream starts
/// afresh with every message, so a peer that still refers to an earlier message fails with
/// [`ErrorKind::InvalidCompressedData`]. A message ending with a final block (BFINAL, §7.2.3.4)
/// ends the stream: the rest of that message's bytes are ignored and the next message starts a
/// new stream. A message with no payload byte at all is an empty message and leaves the stream
/// as it was (feeding the 4-byte tail alone would leave the stream inside a stored block).
#[derive(Debug)]
pub struct Inflater {
    decompress: Decompress,
    params: StreamParams,
    /// Inflated bytes of the message in progress.
    message_len: u64,
    /// Compressed bytes of the message in progress.
    message_in: u64,
    /// The message in progress ended its DEFLATE stream with a final block.
    stream_ended: bool,
}

impl Inflater {
    /// An inflater for messages compressed as `params` says (the peer's direction of the
    /// [`super::Agreement`]). It always inflates with a 15-bit window, which decodes the stream
    /// of any smaller one: zlib-rs holds a 32 KiB window whatever the bits (as zlib-ng does), so
    /// a smaller one would save nothing, and resetting a decoder made with fewer than 15 bits
    /// re-creates it (an allocation per message without context takeover). The agreed window
    /// bounds what the peer's compressor may use, not what this inflater accepts.
    pub fn new(params: StreamParams) -> Self {
        Inflater {
            decompress: Decompress::new_with_window_bits(false, MAX_WINDOW_BITS),
            params,
            message_len: 0,
            message_in: 0,
            stream_ended: false,
        }
    }

    /// The parameters this inflater follows.
    pub fn params(&self) -> StreamParams {
        self.params
    }

    /// Follows `params` from the next message on (an inflater reused for another connection).
    pub(crate) fn set_params(&mut self, params: StreamParams) {
        self.params = params;
    }

    /// Whether a message is in progress: bytes were fed since the last call with `fin`.
    pub fn in_message(&self) -> bool {
        self.message_in > 0
    }

    /// Inflates `input`, the next bytes of the compressed message in progress, appending the
    /// output to `out`; with `fin`, also ends the message (§7.2.2: appends `0x00 0x00 0xff 0xff`
    /// and inflates it). Returns the number of bytes appended. `limit` bounds the inflated size
    /// of the whole message (`u64::MAX` for none). See the type's documentation for the errors.
    pub fn inflate(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: u64,
    ) -> Result<usize, ProtocolError> {
        self.inflate_checked(input, fin, out, limit, &mut |_| Ok(()))
    }

    /// [`Inflater::inflate`], calling `check` on the bytes of each inflation step as soon as they
    /// are produced, before the limit and the data are judged: an error of `check` ends the call
    /// like the inflater's own. This is how a sink checks the UTF-8 of inflated text so that the
    /// outcome does not depend on how the input was split: whatever the split, every inflated byte
    /// before the point where the limit is passed or the data breaks is checked first.
    pub fn inflate_checked(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: u64,
        check: &mut dyn FnMut(&[u8]) -> Result<(), ProtocolError>,
    ) -> Result<usize, ProtocolError> {
        let start = out.len();
        self.message_in = self.message_in.saturating_add(input.len() as u64);
        let mut result = self.feed(input, out, limit, check);
        if fin && result.is_ok() {
            if self.message_in > 0 {
                result = self.feed(&TAIL, out, limit, check);
            }
            if result.is_ok() {
                self.end_message();
            }
        }
        match result {
            Ok(()) => Ok(out.len() - start),
            Err(err) => {
                out.truncate(start);
                self.reset();
                Err(err)
            }
        }
    }

    /// Abandons the message in progress, if any, and starts a new stream: what a sink does
    /// after an error or when the connection ends.
    pub fn reset(&mut self) {
        self.decompress.reset(false);
        self.message_len = 0;
        self.message_in = 0;
        self.stream_ended = false;
    }

    fn end_message(&mut self) {
        if self.params.no_context_takeover || self.stream_ended {
            self.reset();
        } else {
            self.message_len = 0;
            self.message_in = 0;
        }
    }

    /// Inflates all of `input` in steps, each with output room for at most one byte past the
    /// limit, until the input is used up and a step leaves room unused (nothing is pending).
    fn feed(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: u64,
        check: &mut dyn FnMut(&[u8]) -> Result<(), ProtocolError>,
    ) -> Result<(), ProtocolError> {
        let mut step = input
            .len()
            .saturating_mul(4)
            .clamp(FIRST_STEP, INFLATE_STEP);
        while !self.stream_ended {
            // One byte past the limit is enough to tell that the message would pass it.
            let allowed = limit.saturating_sub(self.message_len).saturating_add(1);
            let room = usize::try_from(allowed).map_or(step, |a| a.min(step));
            let len = out.len();
            reserve_bounded(out, room, allowed);
            out.resize(len + room, 0);
            let (in_before, out_before) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self.decompress.decompress(
                input,
                out.get_mut(len..).unwrap_or_default(),
                FlushDecompress::Sync,
            );
            let consumed = (self.decompress.total_in() - in_before) as usize;
            let produced = (self.decompress.total_out() - out_before) as usize;
            out.truncate(len + produced);
            check(out.get(len..).unwrap_or_default())?;
            self.message_len += produced as u64;
            input = input.get(consumed..).unwrap_or_default();
            // The limit first: whether zlib stops at a full output or goes on to decode (and
            // refuse) the next symbol depends on where the input was split, the size does not.
            if self.message_len > limit {
                return Err(ErrorKind::PayloadTooLarge {
                    limit,
                    actual: self.message_len,
                }
                .into());
            }
            let status =
                status.map_err(|_| ProtocolError::new(ErrorKind::InvalidCompressedData))?;
            match status {
                Status::StreamEnd => self.stream_ended = true,
                _ if produced < room && input.is_empty() => return Ok(()),
                // Room left, input left, and no progress: cannot happen with a sound stream,
                // but a loop must not depend on it.
                _ if consumed == 0 && produced == 0 => {
                    return Err(ErrorKind::InvalidCompressedData.into())
                }
                _ => step = step.saturating_mul(2).min(INFLATE_STEP),
            }
        }
        Ok(())
    }
}

/// Makes room for `additional` bytes in `out`, growing it by doubling as `Vec` does but never
/// to more than `bound` bytes past its current length (`additional <= bound`): the message
/// buffer never holds more than the limit allows plus one byte.
fn reserve_bounded(out: &mut Vec<u8>, additional: usize, bound: u64) {
    let len = out.len();
    let needed = len.saturating_add(additional);
    if out.capacity() >= needed {
        return;
    }
    let ceiling = usize::try_from(bound)
        .map_or(usize::MAX, |b| len.saturating_add(b))
        .max(needed);
    let target = out.capacity().saturating_mul(2).clamp(needed, ceiling);
    out.reserve_exact(target - len);
}
