//! Protocol errors: one kind per RFC 6455 rule the core enforces, each with a stable message
//! (DaloyJS's wording), a stable `WS_ERR_*` code (as `ws` names them) and the close status a
//! server answers it with.

use std::fmt;

/// The rule a peer broke. Each kind maps to one message, one code and one close status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// RSV1, RSV2 or RSV3 is set while no extension was negotiated (RFC 6455 §5.2).
    /// `rsv1` tells whether RSV1 (the compression bit) was among them.
    ReservedBits {
        /// Whether RSV1 was set.
        rsv1: bool,
    },
    /// A control frame without FIN (RFC 6455 §5.5).
    FragmentedControl,
    /// A control frame whose payload is longer than 125 bytes (RFC 6455 §5.5).
    ControlTooLong,
    /// A control opcode other than CLOSE, PING or PONG (0xb to 0xf, RFC 6455 §5.2).
    UnknownControlOpcode(u8),
    /// A data opcode other than CONTINUATION, TEXT or BINARY (0x3 to 0x7, RFC 6455 §5.2).
    UnknownDataOpcode(u8),
    /// An unmasked frame where the peer is a client (RFC 6455 §5.1).
    UnmaskedFrame,
    /// A masked frame where the peer is a server (RFC 6455 §5.1).
    MaskedFrame,
    /// A 64-bit payload length above 2^53 - 1, the largest length JavaScript represents exactly.
    LengthOverflow,
    /// A CONTINUATION frame while no fragmented message is in progress (RFC 6455 §5.4).
    UnexpectedContinuation,
    /// A TEXT or BINARY frame while a fragmented message is in progress (RFC 6455 §5.4).
    InterleavedDataFrame,
    /// A text message that is not valid UTF-8 (RFC 6455 §8.1).
    InvalidUtf8,
    /// A CLOSE payload of exactly one byte (RFC 6455 §5.5.1).
    ClosePayloadTooShort,
    /// A close status code that may not appear on the wire (RFC 6455 §7.4).
    InvalidCloseCode(u16),
    /// A CLOSE reason that is not valid UTF-8 (RFC 6455 §5.5.1).
    InvalidCloseReason,
    /// A CLOSE reason longer than the 123 bytes a control frame leaves for it (RFC 6455 §5.5).
    CloseReasonTooLong,
    /// A message (summed over its fragments) or a declared frame length above `maxPayloadLength`.
    PayloadTooLarge {
        /// The limit in force.
        limit: u64,
        /// The length that exceeded it: the bytes of the message so far plus the declared
        /// length of the frame that crossed the limit.
        actual: u64,
    },
    /// More frames in one data message than the sink allows.
    TooManyFragments {
        /// The largest number of frames a message may have.
        limit: u32,
    },
    /// A compressed message (permessage-deflate, RFC 7692 §7.2.2) that is not a valid DEFLATE
    /// stream.
    InvalidCompressedData,
}

/// A violation of RFC 6455 (or of a configured limit) by the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolError {
    /// Which rule was broken.
    pub kind: ErrorKind,
}

impl ProtocolError {
    /// An error of `kind`.
    pub const fn new(kind: ErrorKind) -> Self {
        ProtocolError { kind }
    }

    /// The JavaScript class name of this error: `WebSocketPayloadTooLargeError` for
    /// [`ErrorKind::PayloadTooLarge`], `WebSocketProtocolError` for everything else.
    pub fn name(&self) -> &'static str {
        match self.kind {
            ErrorKind::PayloadTooLarge { .. } => "WebSocketPayloadTooLargeError",
            _ => "WebSocketProtocolError",
        }
    }

    /// The stable `WS_ERR_*` identifier of this error.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::ReservedBits { rsv1: true } => "WS_ERR_UNEXPECTED_RSV_1",
            ErrorKind::ReservedBits { rsv1: false } => "WS_ERR_UNEXPECTED_RSV_2_3",
            ErrorKind::FragmentedControl => "WS_ERR_EXPECTED_FIN",
            ErrorKind::ControlTooLong
            | ErrorKind::ClosePayloadTooShort
            | ErrorKind::CloseReasonTooLong => "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
            ErrorKind::UnknownControlOpcode(_)
            | ErrorKind::UnknownDataOpcode(_)
            | ErrorKind::UnexpectedContinuation
            | ErrorKind::InterleavedDataFrame => "WS_ERR_INVALID_OPCODE",
            ErrorKind::UnmaskedFrame => "WS_ERR_EXPECTED_MASK",
            ErrorKind::MaskedFrame => "WS_ERR_UNEXPECTED_MASK",
            ErrorKind::LengthOverflow => "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
            ErrorKind::InvalidUtf8 | ErrorKind::InvalidCloseReason => "WS_ERR_INVALID_UTF8",
            ErrorKind::InvalidCloseCode(_) => "WS_ERR_INVALID_CLOSE_CODE",
            ErrorKind::PayloadTooLarge { .. } => "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
            ErrorKind::TooManyFragments { .. } => "WS_ERR_TOO_MANY_BUFFERED_PARTS",
            // `ws` surfaces zlib's own code for a corrupt compressed message.
            ErrorKind::InvalidCompressedData => "Z_DATA_ERROR",
        }
    }

    /// The status code of the CLOSE frame a server answers this error with (RFC 6455 §7.4.1):
    /// 1007 for invalid UTF-8 and for compressed data that does not inflate (as `ws` answers
    /// it), 1009 for a message too big to process, 1008 for the fragment policy, 1002 for every
    /// other protocol error.
    pub fn close_code(&self) -> u16 {
        match self.kind {
            ErrorKind::InvalidUtf8
            | ErrorKind::InvalidCloseReason
            | ErrorKind::InvalidCompressedData => 1007,
            ErrorKind::LengthOverflow | ErrorKind::PayloadTooLarge { .. } => 1009,
            ErrorKind::TooManyFragments { .. } => 1008,
            _ => 1002,
        }
    }

    /// `(limit, actual)` for [`ErrorKind::PayloadTooLarge`], `None` for every other kind.
    pub fn size_limit(&self) -> Option<(u64, u64)> {
        match self.kind {
            ErrorKind::PayloadTooLarge { limit, actual } => Some((limit, actual)),
            _ => None,
        }
    }
}

impl From<ErrorKind> for ProtocolError {
    fn from(kind: ErrorKind) -> Self {
        ProtocolError::new(kind)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::ReservedBits { .. } => {
                f.write_str("RSV bits must be zero (no extensions negotiated)")
            }
            ErrorKind::FragmentedControl => f.write_str("Control frames must not be fragmented"),
            ErrorKind::ControlTooLong => f.write_str("Control frame payload exceeds 125 bytes"),
            ErrorKind::UnknownControlOpcode(op) => write!(f, "Unknown control opcode 0x{op:x}"),
            ErrorKind::UnknownDataOpcode(op) => write!(f, "Unknown data opcode 0x{op:x}"),
            ErrorKind::UnmaskedFrame => f.write_str("Client frames must be masked"),
            ErrorKind::MaskedFrame => f.write_str("Server frames must not be masked"),
            ErrorKind::LengthOverflow => {
                f.write_str("Frame payload exceeds Number.MAX_SAFE_INTEGER")
            }
            ErrorKind::UnexpectedContinuation => {
                f.write_str("Continuation frame without an initial data frame")
            }
            ErrorKind::InterleavedDataFrame => {
                f.write_str("New data frame received while a fragmented message is in progress")
            }
            ErrorKind::InvalidUtf8 => f.write_str("Invalid UTF-8 in text message"),
            ErrorKind::ClosePayloadTooShort => {
                f.write_str("Close payload must be empty or ≥2 bytes")
            }
            ErrorKind::InvalidCloseCode(code) => write!(f, "Invalid close status code {code}"),
            ErrorKind::InvalidCloseReason => f.write_str("Invalid UTF-8 in close reason"),
            ErrorKind::CloseReasonTooLong => f.write_str("Close reason exceeds 123 bytes"),
            ErrorKind::PayloadTooLarge { limit, actual } => {
                write!(
                    f,
                    "WebSocket message exceeds maxPayloadLength ({actual} > {limit})"
                )
            }
            ErrorKind::TooManyFragments { .. } => f.write_str("Too many message fragments"),
            ErrorKind::InvalidCompressedData => f.write_str("Invalid compressed message data"),
        }
    }
}

impl std::error::Error for ProtocolError {}
