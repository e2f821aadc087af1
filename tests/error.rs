//! Every error kind's message, `WS_ERR_*` code, close status and JavaScript class name.

use daloy_ws_native::error::{ErrorKind, ProtocolError};

#[test]
fn gives_every_kind_its_message_code_and_close_status() {
    let table: &[(ErrorKind, &str, &str, u16)] = &[
        (
            ErrorKind::ReservedBits { rsv1: true },
            "RSV bits must be zero (no extensions negotiated)",
            "WS_ERR_UNEXPECTED_RSV_1",
            1002,
        ),
        (
            ErrorKind::ReservedBits { rsv1: false },
            "RSV bits must be zero (no extensions negotiated)",
            "WS_ERR_UNEXPECTED_RSV_2_3",
            1002,
        ),
        (
            ErrorKind::FragmentedControl,
            "Control frames must not be fragmented",
            "WS_ERR_EXPECTED_FIN",
            1002,
        ),
        (
            ErrorKind::ControlTooLong,
            "Control frame payload exceeds 125 bytes",
            "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
            1002,
        ),
        (
            ErrorKind::UnknownControlOpcode(0xb),
            "Unknown control opcode 0xb",
            "WS_ERR_INVALID_OPCODE",
            1002,
        ),
        (
            ErrorKind::UnknownControlOpcode(0xf),
            "Unknown control opcode 0xf",
            "WS_ERR_INVALID_OPCODE",
            1002,
        ),
        (
            ErrorKind::UnknownDataOpcode(0x3),
            "Unknown data opcode 0x3",
            "WS_ERR_INVALID_OPCODE",
            1002,
        ),
        (
            ErrorKind::UnmaskedFrame,
            "Client frames must be masked",
            "WS_ERR_EXPECTED_MASK",
            1002,
        ),
        (
            ErrorKind::MaskedFrame,
            "Server frames must not be masked",
            "WS_ERR_UNEXPECTED_MASK",
            1002,
        ),
        (
            ErrorKind::LengthOverflow,
            "Frame payload exceeds Number.MAX_SAFE_INTEGER",
            "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
            1009,
        ),
        (
            ErrorKind::UnexpectedContinuation,
            "Continuation frame without an initial data frame",
            "WS_ERR_INVALID_OPCODE",
            1002,
        ),
        (
            ErrorKind::InterleavedDataFrame,
            "New data frame received while a fragmented message is in progress",
            "WS_ERR_INVALID_OPCODE",
            1002,
        ),
        (
            ErrorKind::InvalidUtf8,
            "Invalid UTF-8 in text message",
            "WS_ERR_INVALID_UTF8",
            1007,
        ),
        (
            ErrorKind::ClosePayloadTooShort,
            "Close payload must be empty or ≥2 bytes",
            "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
            1002,
        ),
        (
            ErrorKind::InvalidCloseCode(999),
            "Invalid close status code 999",
            "WS_ERR_INVALID_CLOSE_CODE",
            1002,
        ),
        (
            ErrorKind::InvalidCloseReason,
            "Invalid UTF-8 in close reason",
            "WS_ERR_INVALID_UTF8",
            1007,
        ),
        (
            ErrorKind::CloseReasonTooLong,
            "Close reason exceeds 123 bytes",
            "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
            1002,
        ),
        (
            ErrorKind::PayloadTooLarge {
                limit: 1048576,
                actual: 1048577,
            },
            "WebSocket message exceeds maxPayloadLength (1048577 > 1048576)",
            "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
            1009,
        ),
        (
            ErrorKind::TooManyFragments { limit: 3 },
            "Too many message fragments",
            "WS_ERR_TOO_MANY_BUFFERED_PARTS",
            1008,
        ),
        (
            ErrorKind::InvalidCompressedData,
            "Invalid compressed message data",
            "Z_DATA_ERROR",
            1007,
        ),
    ];
    for &(kind, message, code, close) in table {
        let err = ProtocolError::new(kind);
        assert_eq!(err.to_string(), message, "{kind:?}");
        assert_eq!(err.code(), code, "{kind:?}");
        assert_eq!(err.close_code(), close, "{kind:?}");
    }
}

#[test]
fn names_only_the_size_error_payload_too_large() {
    let big = ProtocolError::from(ErrorKind::PayloadTooLarge {
        limit: 1,
        actual: 2,
    });
    assert_eq!(big.name(), "WebSocketPayloadTooLargeError");
    assert_eq!(big.size_limit(), Some((1, 2)));
    let other = ProtocolError::from(ErrorKind::InvalidUtf8);
    assert_eq!(other.name(), "WebSocketProtocolError");
    assert_eq!(other.size_limit(), None);
    assert_eq!(
        ProtocolError::from(ErrorKind::TooManyFragments { limit: 9 }).name(),
        "WebSocketProtocolError"
    );
}

#[test]
fn is_a_std_error() {
    let err: Box<dyn std::error::Error> = Box::new(ProtocolError::new(ErrorKind::UnmaskedFrame));
    assert_eq!(err.to_string(), "Client frames must be masked");
}
