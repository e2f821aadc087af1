//! The UTF-8 to UTF-16 transcoder against `str::encode_utf16`, on every input that is UTF-8 (as
//! is, and lossily repaired so that invalid inputs also give text with replacement characters).
#![no_main]

use daloy_ws_native::utf16::utf8_to_utf16;
use libfuzzer_sys::fuzz_target;

fn check(text: &str, out: &mut Vec<u16>) {
    utf8_to_utf16(text, out);
    assert!(out.iter().copied().eq(text.encode_utf16()), "{text:?}");
}

fuzz_target!(|data: &[u8]| {
    let mut out = vec![0xffff; 3];
    if let Ok(text) = std::str::from_utf8(data) {
        check(text, &mut out);
    }
    check(&String::from_utf8_lossy(data), &mut out);
});
