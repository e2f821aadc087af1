//! The sending side of permessage-deflate (RFC 7692 §7.2.1): one message compressed at a time.

use std::fmt;

use flate2::{Compress, Compression, FlushCompress, Status};

use super::{StreamParams, TAIL};

/// The compression library failed: an internal error, never caused by the data. The deflater
/// is reset; with context takeover the peer's window no longer matches, so the connection must
/// be closed (1011).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateError;

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Compression failed")
    }
}

impl std::error::Error for DeflateError {}

/// Compresses the payloads of outgoing data messages, one whole message per call.
///
/// With context takeover (the agreement's `*_no_context_takeover` for this side is off) each
/// message may refer to the ones before it: one deflater per connection, holding its window
/// between messages. Without it the deflater starts afresh with every message, so one deflater
/// can compress for every connection that agreed the same window bits (the "shared" mode: keep
/// one per window size and level, per thread, and nothing per connection).
///
/// The sender sets RSV1 on the first frame of a message compressed with it (RFC 7692 §6), on
/// no other frame; its payload (or the concatenated payloads of its fragments) is what
/// [`Deflater::deflate`] appended.
#[derive(Debug)]
pub struct Deflater {
    compress: Compress,
    params: StreamParams,
}

impl Deflater {
    /// A deflater that compresses as `params` says (this side's direction of the
    /// [`super::Agreement`]) at zlib `level` (0 to 9, larger clamped to 9). The window is
    /// `params.window_bits` clamped into 9 to 15; 9 bits never match further back than an 8-bit
    /// window holds (see [`super::MIN_WINDOW_BITS`]).
    pub fn new(params: StreamParams, level: u32) -> Self {
        Deflater {
            compress: Compress::new_with_window_bits(
                Compression::new(level.min(9)),
                false,
                params.codec_window_bits(),
            ),
            params,
        }
    }

    /// The parameters this deflater follows.
    pub fn params(&self) -> StreamParams {
        self.params
    }

    /// Compresses `payload`, one whole message, appending the result to `out` and returning its
    /// length: the DEFLATE blocks with a sync flush, less the `0x00 0x00 0xff 0xff` that ends
    /// them (§7.2.1). An empty message is the single byte `0x00` (§7.2.3.6), whatever came
    /// before. Without context takeover the next message starts a new stream.
    pub fn deflate(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<usize, DeflateError> {
        let start = out.len();
        let mut input = payload;
        loop {
            // Text of the kind worth compressing shrinks well; the buffer doubles when not.
            let written = out.len() - start;
            out.reserve(written.max(input.len() / 4) + 64);
            let (before, len) = (self.compress.total_in(), out.len());
            let status = self.compress.compress_vec(input, out, FlushCompress::Sync);
            let consumed = (self.compress.total_in() - before) as usize;
            input = input.get(consumed..).unwrap_or_default();
            let stuck = consumed == 0 && out.len() == len && out.len() < out.capacity();
            match status {
                // zlib: the flush is complete once a call returns with output room to spare; a
                // repeated flush with nothing new to write answers BufError.
                Ok(Status::BufError) if input.is_empty() => break,
                Ok(_) if input.is_empty() && out.len() < out.capacity() => break,
                Ok(_) if !stuck => {}
                _ => {
                    out.truncate(start);
                    self.compress.reset();
                    return Err(DeflateError);
                }
            }
        }
        if out.get(start..).is_some_and(|tail| tail.ends_with(&TAIL)) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.len() == start {
            // §7.2.3.6: an empty stored block's header bits; with the receiver's tail appended
            // it is a whole empty block.
            out.push(0x00);
        }
        if self.params.no_context_takeover {
            self.compress.reset();
        }
        Ok(out.len() - start)
    }
}
