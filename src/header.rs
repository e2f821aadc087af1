//! Frame headers (RFC 6455 §5.2): decoding, with every check in the order DaloyJS makes them.

use crate::error::{ErrorKind, ProtocolError};
use crate::mask::apply_mask;

/// The largest payload length accepted: 2^53 - 1, the largest integer JavaScript represents
/// exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_LENGTH: u64 = (1 << 53) - 1;

/// The largest payload of a control frame (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: u64 = 125;

/// The longest frame header: 2 bytes, a 64-bit extended length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// What [`decode_header`] enforces beyond RFC 6455's syntax.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Reject unmasked frames: a server requires it of its clients (RFC 6455 §5.1).
    pub require_mask: bool,
    /// Reject masked frames: a client requires it of its server (RFC 6455 §5.1).
    pub reject_mask: bool,
    /// Reject a data frame whose declared payload length exceeds this, as soon as the length is
    /// known. Control frames are capped at 125 bytes by the protocol and are not affected.
    pub max_payload: Option<u64>,
    /// Accept RSV1 on the first frame of a data message (TEXT or BINARY opcode): permessage-deflate
    /// (RFC 7692 §6) was negotiated. RSV1 on a CONTINUATION or a control frame stays an error
    /// (§6.1), and so do RSV2 and RSV3.
    pub allow_rsv1: bool,
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this frame ends its message.
    pub fin: bool,
    /// The opcode (a defined one: the decoder rejects the reserved values).
    pub opcode: u8,
    /// Whether the payload is masked.
    pub masked: bool,
    /// The masking key; zeros when the frame is not masked.
    pub mask: [u8; 4],
    /// The declared payload length, at most 2^53 - 1.
    pub payload_len: u64,
    /// The bytes of the header, where the payload starts.
    pub header_len: usize,
    /// RSV1: the message is compressed (only ever set when [`DecodeOptions::allow_rsv1`] is).
    pub rsv1: bool,
}

/// Decodes the frame header at the start of `buf`. `Ok(None)` means more bytes are needed; an
/// error is decided as soon as the bytes that prove it are there, in this order: RSV bits;
/// control frames (FIN, 7-bit length over 125, opcode); data opcode; extended length; length
/// over 2^53 - 1; `max_payload` on a data frame's declared length; `require_mask` and
/// `reject_mask`; masking key.
pub fn decode_header(
    buf: &[u8],
    opts: &DecodeOptions,
) -> Result<Option<FrameHeader>, ProtocolError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Ok(None),
    };
    let fin = b0 & 0x80 != 0;
    // RFC 6455 §5.2: "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is negotiated
    // that defines meanings for non-zero values." permessage-deflate gives RSV1 a meaning on the
    // first frame of a data message only (RFC 7692 §6.1).
    let rsv1 = b0 & 0x40 != 0;
    let rsv1_allowed = opts.allow_rsv1 && matches!(b0 & 0x0f, 0x1 | 0x2);
    if b0 & 0x30 != 0 || (rsv1 && !rsv1_allowed) {
        return Err(ErrorKind::ReservedBits {
            rsv1: b0 & 0x40 != 0,
        }
        .into());
    }
    let opcode = b0 & 0x0f;
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7f;
    let is_control = opcode & 0x08 != 0;
    if is_control {
        // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less
        // and MUST NOT be fragmented."
        if !fin {
            return Err(ErrorKind::FragmentedControl.into());
        }
        if u64::from(len7) > MAX_CONTROL_PAYLOAD {
            return Err(ErrorKind::ControlTooLong.into());
        }
        // RFC 6455 §5.2: "%xB-F are reserved for further control frames"; §5.2 also says a
        // recipient receiving an unknown opcode "MUST _Fail the WebSocket Connection_".
        if !matches!(opcode, 0x8..=0xa) {
            return Err(ErrorKind::UnknownControlOpcode(opcode).into());
        }
    } else if !matches!(opcode, 0x0..=0x2) {
        // RFC 6455 §5.2: "%x3-7 are reserved for further non-control frames".
        return Err(ErrorKind::UnknownDataOpcode(opcode).into());
    }

    // RFC 6455 §5.2 Payload length: 0-125 is the length; 126 means the following 2 bytes, and
    // 127 the following 8 bytes, interpreted as an unsigned integer in network byte order.
    let (payload_len, mut header_len) = match len7 {
        126 => match buf.get(2..4) {
            Some(&[hi, lo]) => (u64::from(u16::from_be_bytes([hi, lo])), 4),
            _ => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(bytes) => {
                let len = u64::from_be_bytes(bytes);
                // RFC 6455 §5.2: "the most significant bit MUST be 0"; the stricter bound keeps
                // every length exact as a JavaScript number.
                if len > MAX_SAFE_LENGTH {
                    return Err(ErrorKind::LengthOverflow.into());
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };

    // Decided on the declared length, before the masking key or any payload byte arrives, so a
    // peer cannot make the receiver wait on (and buffer for) an oversized frame.
    if !is_control {
        if let Some(limit) = opts.max_payload {
            if payload_len > limit {
                return Err(ErrorKind::PayloadTooLarge {
                    limit,
                    actual: payload_len,
                }
                .into());
            }
        }
    }

    // RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not
    // masked."
    if opts.require_mask && !masked {
        return Err(ErrorKind::UnmaskedFrame.into());
    }
    // RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame."
    if opts.reject_mask && masked {
        return Err(ErrorKind::MaskedFrame.into());
    }

    let mut mask = [0u8; 4];
    if masked {
        match buf.get(header_len..header_len + 4) {
            Some(key) => mask.copy_from_slice(key),
            None => return Ok(None),
        }
        header_len += 4;
    }

    Ok(Some(FrameHeader {
        fin,
        opcode,
        masked,
        mask,
        payload_len,
        header_len,
        rsv1,
    }))
}

/// One whole frame decoded by [`parse_frame`]; its payload is `buf[payload_start..][..payload_len]`,
/// already unmasked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedFrame {
    /// FIN: this frame ends its message.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// Where the payload starts in the buffer.
    pub payload_start: usize,
    /// The payload's length.
    pub payload_len: usize,
    /// The bytes of the frame (header and payload): where the next frame starts.
    pub consumed: usize,
}

/// Decodes the frame at the start of `buf` and unmasks its payload in place. `Ok(None)` means
/// the frame is not complete yet; errors are those of [`decode_header`].
pub fn parse_frame(
    buf: &mut [u8],
    opts: &DecodeOptions,
) -> Result<Option<ParsedFrame>, ProtocolError> {
    let Some(header) = decode_header(buf, opts)? else {
        return Ok(None);
    };
    let available = buf.len().saturating_sub(header.header_len);
    let payload_len = match usize::try_from(header.payload_len) {
        Ok(len) if len <= available => len,
        _ => return Ok(None),
    };
    let consumed = header.header_len + payload_len;
    if let Some(payload) = buf.get_mut(header.header_len..consumed) {
        if header.masked {
            apply_mask(payload, header.mask, 0);
        }
    }
    Ok(Some(ParsedFrame {
        fin: header.fin,
        opcode: header.opcode,
        payload_start: header.header_len,
        payload_len,
        consumed,
    }))
}
