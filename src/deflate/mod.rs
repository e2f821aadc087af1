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
//! The compression library is `flate2` on its pure-Rust `zlib-rs` backend: streaming raw
//! deflate with window bits, sync flush and reset, and no C toolchain to cross-compile.
//! `docs/DEFLATE.md` has the measurements behind the choice.

mod deflater;
mod inflater;
pub mod negotiation;

pub use deflater::{DeflateError, Deflater};
pub use inflater::{Inflater, INFLATE_STEP};
pub use negotiation::{
    accept_offer, build_offer, negotiate, parse_offers, validate_response, Agreement,
    DeflateOptions, DeflateParams, Negotiated, NegotiationError,
};

/// The extension's token in `Sec-WebSocket-Extensions` (RFC 7692 §7).
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The bytes a sync flush ends with, which the sender strips (§7.2.1) and the receiver appends
/// back before inflating (§7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest window this implementation compresses or inflates with. RFC 7692 allows 8 in
/// offers, but zlib's raw deflate cannot compress with a 256-byte window (`deflateInit2` refuses
/// 8 for a raw stream, and silently uses 9 for a zlib one, whose output a peer limited to 8 could
/// not inflate), and `flate2` accepts 9 to 15 only. So:
/// - a peer that announces it compresses with 8 bits is inflated as any other (the inflater
///   always uses 15 bits, which decodes every stream a smaller window produced);
/// - a peer that requires this side to compress with 8 bits is refused: the server declines
///   such an offer (and moves to the next), the client fails on such a response.
pub const MIN_WINDOW_BITS: u8 = 9;

/// The largest window (32 KiB), the default when no limit was agreed.
pub const MAX_WINDOW_BITS: u8 = 15;

/// What one direction of a connection agreed: the window its compressor uses and whether it
/// resets after each message. [`Agreement::server_to_client`] and
/// [`Agreement::client_to_server`] give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamParams {
    /// The largest LZ77 window, as a power of two (8 to 15). A [`Deflater`] clamps it into 9 to
    /// 15 (see [`MIN_WINDOW_BITS`]); an [`Inflater`] always inflates with 15.
    pub window_bits: u8,
    /// The compressor starts every message afresh, so the inflater may too.
    pub no_context_takeover: bool,
}

impl StreamParams {
    /// The window bits `flate2`'s compressor is given: `window_bits` clamped into 9 to 15.
    fn codec_window_bits(&self) -> u8 {
        self.window_bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
    }
}
