//! CLOSE frame payloads (RFC 6455 §5.5.1) and the status codes allowed on the wire (§7.4).

use crate::error::{ErrorKind, ProtocolError};

/// The status reported when a CLOSE frame carries no payload (RFC 6455 §7.4.1: 1005 is
/// "designated for use in applications expecting a status code to indicate that no status code
/// was actually present"; it never appears on the wire itself).
pub const NO_STATUS_RECEIVED: u16 = 1005;

/// The longest reason a CLOSE payload holds: a control payload is at most 125 bytes
/// (RFC 6455 §5.5) and the status code takes two of them.
pub const MAX_CLOSE_REASON: usize = 123;

/// Whether `code` may be sent in a CLOSE frame.
///
/// RFC 6455 §7.4.1 defines 1000 to 1011 (1004 reserved; 1005 and 1006 "MUST NOT be set as a
/// status code in a Close control frame by an endpoint"); IANA registered 1012 to 1014 since.
/// §7.4.2: 3000 to 3999 are for libraries and frameworks, 4000 to 4999 for private use.
/// Everything else (0 to 999, 1015, 1016 to 2999, 5000 and up) is invalid on the wire.
pub fn is_valid_wire_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The payload of a CLOSE frame: `code` big-endian, then `reason` as UTF-8 (RFC 6455 §5.5.1).
/// Fails with [`ErrorKind::InvalidCloseCode`] when `code` may not appear on the wire, and with
/// [`ErrorKind::CloseReasonTooLong`] when `reason` is longer than 123 bytes.
pub fn encode_close_payload(code: u16, reason: &str) -> Result<Vec<u8>, ProtocolError> {
    if !is_valid_wire_close_code(code) {
        return Err(ErrorKind::InvalidCloseCode(code).into());
    }
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    if reason.len() > MAX_CLOSE_REASON {
        return Err(ErrorKind::CloseReasonTooLong.into());
    }
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason.as_bytes());
    Ok(payload)
}

/// The status code and reason of a received CLOSE payload. An empty payload gives
/// `(1005, "")`. Fails on a one-byte payload ([`ErrorKind::ClosePayloadTooShort`]), a code that
/// may not appear on the wire ([`ErrorKind::InvalidCloseCode`]) and a reason that is not UTF-8
/// ([`ErrorKind::InvalidCloseReason`]).
pub fn decode_close_payload(payload: &[u8]) -> Result<(u16, &str), ProtocolError> {
    match payload {
        [] => Ok((NO_STATUS_RECEIVED, "")),
        // RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST be a
        // 2-byte unsigned integer".
        [_] => Err(ErrorKind::ClosePayloadTooShort.into()),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_wire_close_code(code) {
                return Err(ErrorKind::InvalidCloseCode(code).into());
            }
            // RFC 6455 §5.5.1: the body after the code is "a UTF-8-encoded reason"; §8.1 makes
            // invalid UTF-8 a failure of the connection.
            let reason = simdutf8::basic::from_utf8(reason)
                .map_err(|_| ProtocolError::new(ErrorKind::InvalidCloseReason))?;
            Ok((code, reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exactly_the_wire_codes() {
        let valid: Vec<u16> = (0..=u16::MAX)
            .filter(|&c| is_valid_wire_close_code(c))
            .collect();
        let expected: Vec<u16> = (1000..=1014)
            .filter(|c| ![1004, 1005, 1006].contains(c))
            .chain(3000..=4999)
            .collect();
        assert_eq!(valid, expected);
    }

    #[test]
    fn encodes_the_code_big_endian_then_the_reason() {
        assert_eq!(encode_close_payload(1000, "").unwrap(), vec![0x03, 0xe8]);
        assert_eq!(
            encode_close_payload(4001, "bye").unwrap(),
            vec![0x0f, 0xa1, b'b', b'y', b'e']
        );
    }

    #[test]
    fn refuses_to_encode_a_code_that_may_not_be_sent() {
        for code in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            assert_eq!(
                encode_close_payload(code, "").unwrap_err().kind,
                ErrorKind::InvalidCloseCode(code)
            );
        }
    }

    #[test]
    fn refuses_to_encode_a_reason_over_123_bytes() {
        assert!(encode_close_payload(1000, &"a".repeat(123)).is_ok());
        let err = encode_close_payload(1000, &"a".repeat(124)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CloseReasonTooLong);
        assert_eq!(err.to_string(), "Close reason exceeds 123 bytes");
        // Bytes count, not characters: 62 two-byte characters are 124 bytes.
        assert!(encode_close_payload(1000, &"é".repeat(62)).is_err());
    }

    #[test]
    fn decodes_an_empty_payload_as_no_status_received() {
        assert_eq!(decode_close_payload(&[]).unwrap(), (1005, ""));
    }

    #[test]
    fn rejects_a_one_byte_close_payload() {
        let err = decode_close_payload(&[0x03]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ClosePayloadTooShort);
        assert_eq!(err.to_string(), "Close payload must be empty or ≥2 bytes");
    }

    #[test]
    fn rejects_a_close_code_that_may_not_be_received() {
        let err = decode_close_payload(&[0x03, 0xe7]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidCloseCode(999));
        assert_eq!(err.to_string(), "Invalid close status code 999");
        assert_eq!(err.close_code(), 1002);
    }

    #[test]
    fn rejects_a_close_reason_that_is_not_utf8() {
        let err = decode_close_payload(&[0x03, 0xe8, 0xce, 0xba, 0xff]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidCloseReason);
        assert_eq!(err.close_code(), 1007);
    }

    #[test]
    fn round_trips_code_and_reason() {
        for (code, reason) in [
            (1000, ""),
            (1001, "going away"),
            (3000, "κόσμε"),
            (4999, "x"),
        ] {
            let payload = encode_close_payload(code, reason).unwrap();
            assert_eq!(decode_close_payload(&payload).unwrap(), (code, reason));
        }
    }
}
