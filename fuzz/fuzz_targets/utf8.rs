//! The incremental UTF-8 validator against `std::str::from_utf8`, fed in pieces split where the
//! input says: same verdict, and an early failure only on a prefix no continuation can repair.
#![no_main]

use daloy_ws_native::utf8::{is_valid_utf8, Utf8Validator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&splits, bytes)) = data.split_first() else {
        return;
    };
    let expected = std::str::from_utf8(bytes).is_ok();
    assert_eq!(is_valid_utf8(bytes), expected);

    // Piece lengths cycle through 1..=8 bytes, shifted by the first byte of the input; a zero
    // seed gives the whole input in one piece.
    let mut validator = Utf8Validator::new();
    let mut pos = 0;
    let mut step = usize::from(splits);
    let mut failed_at = None;
    while pos < bytes.len() {
        let len = if splits == 0 {
            bytes.len()
        } else {
            1 + step % 8
        };
        step = step.wrapping_mul(31).wrapping_add(7);
        let end = (pos + len).min(bytes.len());
        if validator.feed(&bytes[pos..end]).is_err() {
            failed_at = Some(end);
            break;
        }
        assert!(validator.pending_len() <= 3);
        pos = end;
    }
    match failed_at {
        Some(end) => {
            assert!(!expected);
            let err = std::str::from_utf8(&bytes[..end]).expect_err("failed on a valid prefix");
            assert!(
                err.error_len().is_some(),
                "failed on a prefix that may still be completed"
            );
        }
        None => assert_eq!(validator.finish().is_ok(), expected),
    }
});
