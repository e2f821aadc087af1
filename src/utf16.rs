//! UTF-8 to UTF-16 transcoding of validated text.
//!
//! JavaScript engines build a string from UTF-16 much faster than they decode UTF-8 (V8 before
//! version 13: about 0.3 GB/s from UTF-8 against 6 GB/s from UTF-16 on the same mixed text), so the
//! binding hands non-ASCII text over as UTF-16 where the engine's decoder is the slow part. The
//! input is a `&str`: it was validated already (by the sink, with `simdutf8`), and the type makes
//! invalid input impossible here, so this module needs no error path and cannot panic.

/// The high bit of each of 16 bytes.
const HIGH_BITS: u128 = 0x8080_8080_8080_8080_8080_8080_8080_8080;

/// Replaces the contents of `out` with the UTF-16 code units of `text`.
///
/// ASCII is processed 16 bytes at a time (a block with no high bit is widened whole; in a block
/// with one, the ASCII bytes before it are), and a run of multi-byte characters is decoded in a
/// loop of its own, each character from its leading byte, so text that is mostly ASCII with
/// scattered accents, Cyrillic, CJK or emoji stays fast.
pub fn utf8_to_utf16(text: &str, out: &mut Vec<u16>) {
    let src = text.as_bytes();
    out.clear();
    // Never more code units than bytes: a byte gives at most one unit (a 4-byte character gives 2).
    out.resize(src.len(), 0);
    let written = transcode(src, out);
    out.truncate(written);
}

/// Transcodes valid UTF-8 `src` into `dst` (at least as long); returns the units written. Every
/// step keeps `j <= i` (units written never exceed bytes read), which is what the bounds rely on;
/// the checked accesses that remain end the loop instead of panicking.
fn transcode(src: &[u8], dst: &mut [u16]) -> usize {
    let (mut i, mut j) = (0, 0);
    while i < src.len() {
        // ASCII, 16 bytes at a time.
        while let (Some(block), Some(units)) = (src.get(i..i + 16), dst.get_mut(j..j + 16)) {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(block);
            let high = u128::from_le_bytes(bytes) & HIGH_BITS;
            // Little-endian: the lowest set bit belongs to the first non-ASCII byte.
            let ascii = if high == 0 {
                16
            } else {
                (high.trailing_zeros() / 8) as usize
            };
            for (unit, &byte) in units.iter_mut().zip(&bytes[..ascii]) {
                *unit = u16::from(byte);
            }
            i += ascii;
            j += ascii;
            if ascii < 16 {
                break;
            }
        }
        // A run of multi-byte characters (or the last few ASCII bytes).
        while let Some(&lead) = src.get(i) {
            if lead < 0x80 {
                let Some(unit) = dst.get_mut(j) else { return j };
                *unit = u16::from(lead);
                i += 1;
                j += 1;
                if src.len() - i >= 16 {
                    break;
                }
                continue;
            }
            let cont = |k: usize| u32::from(src.get(i + k).copied().unwrap_or(0) & 0x3f);
            let (code, len) = match lead {
                0xc0..=0xdf => ((u32::from(lead & 0x1f) << 6) | cont(1), 2),
                0xe0..=0xef => ((u32::from(lead & 0x0f) << 12) | (cont(1) << 6) | cont(2), 3),
                // 0xf0..=0xf4 in valid UTF-8; continuation bytes never lead a character.
                _ => (
                    (u32::from(lead & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
                    4,
                ),
            };
            if code < 0x1_0000 {
                let Some(unit) = dst.get_mut(j) else { return j };
                *unit = code as u16;
                j += 1;
            } else {
                let Some(pair) = dst.get_mut(j..j + 2) else {
                    return j;
                };
                let v = code - 0x1_0000;
                pair[0] = 0xd800 | (v >> 10) as u16;
                pair[1] = 0xdc00 | (v & 0x3ff) as u16;
                j += 2;
            }
            i += len;
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) {
        let mut out = vec![0xffff; 3]; // cleared first
        utf8_to_utf16(text, &mut out);
        assert_eq!(out, text.encode_utf16().collect::<Vec<_>>(), "{text:?}");
    }

    #[test]
    fn empty_and_ascii_of_every_length_around_the_word_size() {
        check("");
        for n in 0..40 {
            check(&"abcdefghijklmnopqrstuvwxyz0123456789ABCD"[..n]);
        }
    }

    #[test]
    fn every_utf8_length_at_every_offset_within_a_word() {
        for ch in [
            'é',
            'ß',
            'ж',
            '€',
            '中',
            '\u{ffff}',
            '😀',
            '\u{10000}',
            '\u{10ffff}',
            '\u{7f}',
            '\u{80}',
            '\u{7ff}',
            '\u{800}',
        ] {
            for before in 0..17 {
                for after in 0..10 {
                    let text = format!("{}{}{}", "a".repeat(before), ch, "z".repeat(after));
                    check(&text);
                }
            }
        }
    }

    #[test]
    fn runs_of_non_ascii_and_mixed_text() {
        check("привет мир, 日本 東京 — “ok” 👍🚀✓ café naïve Ærø €£°×…");
        check(&"😀".repeat(100));
        check(&"éa".repeat(100));
        check(&"日本語のテキスト".repeat(33));
    }

    #[test]
    fn every_scalar_value_once() {
        let text: String = (0u32..=0x10ffff).filter_map(char::from_u32).collect();
        check(&text);
    }
}
