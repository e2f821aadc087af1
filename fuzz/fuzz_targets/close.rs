//! CLOSE payloads: decoding arbitrary bytes never panics, what decodes encodes back to the same
//! bytes, and what encodes decodes back to the same code and reason.
#![no_main]

use daloy_ws_native::close::{
    decode_close_payload, encode_close_payload, is_valid_wire_close_code,
};
use daloy_ws_native::error::ErrorKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode_close_payload(data) {
        Ok((code, reason)) if data.is_empty() => assert_eq!((code, reason), (1005, "")),
        Ok((code, reason)) => {
            assert!(is_valid_wire_close_code(code));
            if reason.len() <= 123 {
                assert_eq!(
                    encode_close_payload(code, reason).expect("re-encodes"),
                    data
                );
            }
        }
        Err(err) => match err.kind {
            ErrorKind::ClosePayloadTooShort => assert_eq!(data.len(), 1),
            ErrorKind::InvalidCloseCode(code) => assert!(!is_valid_wire_close_code(code)),
            ErrorKind::InvalidCloseReason => assert!(std::str::from_utf8(&data[2..]).is_err()),
            other => panic!("unexpected error {other:?}"),
        },
    }

    if let [hi, lo, rest @ ..] = data {
        let code = u16::from_be_bytes([*hi, *lo]);
        let reason = String::from_utf8_lossy(rest);
        match encode_close_payload(code, &reason) {
            Ok(payload) => {
                assert!(payload.len() <= 125);
                assert_eq!(
                    decode_close_payload(&payload).expect("decodes"),
                    (code, reason.as_ref())
                );
            }
            Err(err) => match err.kind {
                ErrorKind::InvalidCloseCode(c) => {
                    assert!(c == code && !is_valid_wire_close_code(code))
                }
                ErrorKind::CloseReasonTooLong => assert!(reason.len() > 123),
                other => panic!("unexpected error {other:?}"),
            },
        }
    }
});
