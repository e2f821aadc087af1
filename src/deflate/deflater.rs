//! The sending side of permessage-deflate (RFC 7692 §7.2.1): one message compressed at a time.

use std::fmt;

use super::zstream::{RawDeflate, Tune};
use super::{StreamParams, TAIL};

/// Level 6, the default (zlib's, `ws`'s and this package's), is zlib-rs's level-4 matcher with
/// the match search of [`LEVEL_6_TUNE`]. zlib-rs's levels 4 to 6 share one matcher (zlib-ng's
/// `deflate_medium`); from level 5 on it also looks one position past each match, which, when a
/// message repeats one the window holds, can leave a literal where zlib's level 6 continues the
/// match: one byte more per such message (docs/DEFLATE.md, "The matcher"). Level 4 runs it without
/// that step and emits zlib's tokens there, at the same speed and within 0.3 % of the size on text.
const LEVEL_6_MATCHER: i32 = 4;

/// The match search of level 6: zlib-rs's level 6 with the hash chain and the "nice" match length
/// halved from 128 to 64. On text the output is within about 2 % of zlib's level 6 in size
/// (docs/DEFLATE.md) at about twice zlib-rs's level-6 speed; levels 1 to 5 and 7 to 9 are
/// zlib-rs's own.
const LEVEL_6_TUNE: Tune = Tune {
    good_length: 8,
    max_lazy: 16,
    nice_length: 64,
    max_chain: 64,
};

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
    /// `None` while released ([`Deflater::release`]): `window` then holds what it had.
    compress: Option<RawDeflate>,
    /// The stream's last bytes (at most its window) while released; empty otherwise.
    window: Vec<u8>,
    level: u32,
    params: StreamParams,
}

impl Deflater {
    /// A deflater that compresses as `params` says (this side's direction of the
    /// [`super::Agreement`]) at zlib `level` (0 to 9, larger clamped to 9). The window is
    /// `params.window_bits` clamped into 9 to 15; 9 bits never match further back than an 8-bit
    /// window holds (see [`super::MIN_WINDOW_BITS`]).
    pub fn new(params: StreamParams, level: u32) -> Self {
        let level = level.min(9);
        Deflater {
            compress: Some(raw(params, level)),
            window: Vec::new(),
            level,
            params,
        }
    }

    /// Lets go of the compressor's memory (about 370 KiB at window 15, most of it touched), keeping
    /// only the stream's last bytes, at most its window (32 KiB at 15): what an idle connection with
    /// context takeover needs. The next [`Deflater::deflate`] builds a compressor again and primes
    /// it with those bytes, so the peer sees one unbroken stream. Returns the bytes kept.
    pub fn release(&mut self) -> usize {
        if let Some(compress) = self.compress.take() {
            self.window = if self.params.no_context_takeover {
                Vec::new()
            } else {
                compress.dictionary()
            };
        }
        self.window.len()
    }

    /// Bytes of the compressor's memory resident right now: on Unix, the pages its messages
    /// have touched (a new compressor holds no page of zeros, see `zstream.rs`); 0 while released
    /// and elsewhere.
    pub fn resident_bytes(&self) -> usize {
        self.compress.as_ref().map_or(0, RawDeflate::resident_bytes)
    }

    /// Whether the compressor's memory is released (see [`Deflater::release`]).
    pub fn is_released(&self) -> bool {
        self.compress.is_none()
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
        let compress = match &mut self.compress {
            Some(compress) => compress,
            None => {
                let mut compress = raw(self.params, self.level);
                if compress.set_dictionary(&self.window).is_err() {
                    return Err(DeflateError);
                }
                self.window = Vec::new();
                self.compress.insert(compress)
            }
        };
        if compress.compress_sync(payload, out).is_err() {
            out.truncate(start);
            compress.reset();
            return Err(DeflateError);
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
            compress.reset();
        }
        Ok(out.len() - start)
    }
}

/// A compressor following `params` at `level`.
fn raw(params: StreamParams, level: u32) -> RawDeflate {
    let (matcher, tune) = if level == 6 {
        (LEVEL_6_MATCHER, Some(LEVEL_6_TUNE))
    } else {
        (level as i32, None)
    };
    RawDeflate::new(matcher, params.codec_window_bits(), tune)
}
