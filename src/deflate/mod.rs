//! permessage-deflate (RFC 7692): the negotiation of its parameters and the per-message
//! compression of data messages, sans-IO like the rest of the core.
//!
//! - [`negotiation`]: the server's answer to a client's offers ([`negotiate`]), the client's
//!   offer ([`build_offer`]) and its check of the answer ([`validate_response`]), each giving
//!   the [`Agreement`] both ends then follow.
//! - [`Inflater`]: one connection's incoming compressed messages, inflated piece by piece as
//!   frames arrive, with the message size limit enforced while inflating.
//! - [`Deflater`]: one message compressed at a time, per connection (context takeover) or
//!   shared by every connection that agreed `*_no_context_takeover` for the direction.
//!
//! The compression library is zlib-rs (pure Rust, no C toolchain to cross-compile): inflating
//! through `flate2` on its zlib-rs backend, deflating through `libz-rs-sys` (zlib-rs's zlib
//! interface), which also exposes `deflateTune`.
//! `docs/DEFLATE.md` has the measurements behind the choice.

mod deflater;
mod inflater;
pub mod negotiation;
mod pool;
pub(crate) mod zstream;

pub use deflater::{DeflateError, Deflater};
pub use inflater::{Inflater, INFLATE_STEP};
pub use negotiation::{
    accept_offer, build_offer, negotiate, parse_offers, validate_response, Agreement,
    DeflateOptions, DeflateParams, Negotiated, NegotiationError,
};
pub use pool::{acquire_inflater, release_inflater, IDLE_INFLATERS};
pub use zstream::mapped_bytes;

/// The extension's token in `Sec-WebSocket-Extensions` (RFC 7692 §7).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The bytes a sync flush ends with, which the sender strips (§7.2.1) and the receiver appends
/// back before inflating (§7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest window RFC 7692 allows (§7.1.2.1: 8 to 15), accepted in offers, answers and
/// options alike.
///
/// zlib's raw deflate cannot be set to 8 bits (`deflateInit2` refuses 8 for a raw stream, and
/// `flate2` accepts 9 to 15 only), so an agreed 8 is compressed with 9 bits. That output still
/// fits an 8-bit window: zlib (and zlib-rs, a port of zlib-ng, `max_dist`) never matches further
/// back than the window size less `MIN_LOOKAHEAD` (262), 250 bytes for 9 bits. This is the
/// mapping zlib itself makes for a zlib-wrapped stream; docs/DEFLATE.md records the check
/// against a strict 8-bit decoder. An inflater always uses 15 bits, which reads any window.
pub const MIN_WINDOW_BITS: u8 = 8;

/// The smallest window `flate2` accepts, used for an agreed 8 (see [`MIN_WINDOW_BITS`]).
const CODEC_MIN_WINDOW_BITS: u8 = 9;

/// The largest window (32 KiB), the default when no limit was agreed.
pub const MAX_WINDOW_BITS: u8 = 15;

/// What one direction of a connection agreed: the window its compressor uses and whether it
/// resets after each message. [`Agreement::server_to_client`] and
/// [`Agreement::client_to_server`] give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamParams {
    /// The largest LZ77 window, as a power of two (8 to 15). A [`Deflater`] clamps it into 9 to
    /// 15, which keeps within an 8-bit window (see [`MIN_WINDOW_BITS`]); an [`Inflater`] always
    /// inflates with 15.
    pub window_bits: u8,
    /// The compressor starts every message afresh, so the inflater may too.
    pub no_context_takeover: bool,
}

impl StreamParams {
    /// The window bits `flate2`'s compressor is given: `window_bits` clamped into 9 to 15.
    fn codec_window_bits(&self) -> u8 {
        self.window_bits
            .clamp(CODEC_MIN_WINDOW_BITS, MAX_WINDOW_BITS)
    }
}
