//! What the load generator sends, and what it expects back.
//!
//! Every message is the same template except its first bytes, which carry the message's sequence number on
//! its connection in hex digits (ASCII, so valid in text messages too). An echo that is lost, duplicated,
//! reordered or altered anywhere shows up as a mismatch.

use crate::frame::{OP_BINARY, OP_TEXT};

/// At most 16 hex digits of sequence number lead each message.
pub const MAX_SEQ_DIGITS: usize = 16;

pub struct Payload {
    /// The message without its sequence digits (they are zeros here).
    pub template: Vec<u8>,
    /// How many leading bytes hold the sequence number: `min(size, 16)`.
    pub seq_len: usize,
    pub opcode: u8,
}

impl Payload {
    /// `unicode` fills text messages with 2- and 3-byte UTF-8 characters instead of ASCII, to make the
    /// server's UTF-8 check do real work.
    pub fn new(size: usize, text: bool, unicode: bool) -> Self {
        let seq_len = size.min(MAX_SEQ_DIGITS);
        let mut template = vec![b'0'; seq_len];
        template.reserve(size - seq_len);
        if text && unicode {
            const CHARS: [&str; 3] = ["a", "é", "€"];
            let mut i = 0;
            while template.len() < size {
                let c = CHARS[i % 3].as_bytes();
                if template.len() + c.len() <= size {
                    template.extend_from_slice(c);
                } else {
                    template.push(b'a');
                }
                i += 1;
            }
        } else if text {
            template.extend((seq_len..size).map(|i| b'a' + (i % 26) as u8));
        } else {
            // Every byte value, so a server that skips or botches unmasking cannot echo by luck.
            template.extend((seq_len..size).map(|i| (i.wrapping_mul(7).wrapping_add(13)) as u8));
        }
        Payload {
            template,
            seq_len,
            opcode: if text { OP_TEXT } else { OP_BINARY },
        }
    }

    /// Text that compresses as real traffic does (ASCII, so any split is valid UTF-8): up to 4 KiB,
    /// JSON records (`{"id":..,"user":"..","score":..,"tags":[..],"active":..}`); above, prose of
    /// words drawn from a small vocabulary. Deterministic, `size` bytes exactly.
    pub fn realistic(size: usize) -> Self {
        const WORDS: [&str; 24] = [
            "the",
            "server",
            "message",
            "client",
            "sends",
            "a",
            "frame",
            "with",
            "compressed",
            "payload",
            "and",
            "waits",
            "for",
            "its",
            "echo",
            "before",
            "next",
            "one",
            "on",
            "every",
            "connection",
            "window",
            "bytes",
            "of",
        ];
        let seq_len = size.min(MAX_SEQ_DIGITS);
        let mut template = vec![b'0'; seq_len];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut text = String::new();
        let mut id = 0;
        while seq_len + text.len() < size {
            if size <= 4096 {
                let user = WORDS[next(24) as usize];
                let tag = WORDS[next(24) as usize];
                text.push_str(&format!(
                    "{{\"id\":{id},\"user\":\"{user}{}\",\"score\":{},\"tags\":[\"{tag}\"],\"active\":{}}},",
                    next(1000),
                    next(100_000),
                    next(2) == 0
                ));
                id += 1;
            } else {
                text.push_str(WORDS[next(24) as usize]);
                text.push(if next(12) == 0 { '\n' } else { ' ' });
            }
        }
        template.extend_from_slice(&text.as_bytes()[..size - seq_len]);
        Payload {
            template,
            seq_len,
            opcode: OP_TEXT,
        }
    }

    /// Writes the sequence digits of `seq` (its low `4 * seq_len` bits, big-endian hex) into `dst`.
    #[inline]
    pub fn seq_digits(&self, seq: u64, dst: &mut [u8; MAX_SEQ_DIGITS]) {
        let full = hex16(seq);
        let n = self.seq_len;
        dst[..n].copy_from_slice(&full[MAX_SEQ_DIGITS - n..]);
    }

    /// Whether `chunk`, found at byte `offset` of message `seq`, is what was sent. `digits` holds
    /// [`Payload::seq_digits`] of `seq`.
    #[inline]
    pub fn matches(&self, offset: usize, chunk: &[u8], digits: &[u8; MAX_SEQ_DIGITS]) -> bool {
        let end = offset + chunk.len();
        if end > self.template.len() {
            return false;
        }
        let mut chunk = chunk;
        let mut offset = offset;
        if offset < self.seq_len {
            let k = (self.seq_len - offset).min(chunk.len());
            if chunk[..k] != digits[offset..offset + k] {
                return false;
            }
            chunk = &chunk[k..];
            offset += k;
        }
        chunk == &self.template[offset..offset + chunk.len()]
    }
}

/// The 16 lowercase hex digits of `x`, most significant first, without a loop: each nibble is spread into
/// its own byte, then turned into ASCII eight bytes at a time. Two per message, so it is on the hot path.
#[inline]
fn hex16(x: u64) -> [u8; 16] {
    fn spread(v: u32) -> u64 {
        let mut x = v as u64;
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        // Nibbles 10-15 get 0x27 more, to land on 'a'-'f' instead of the characters after '9'.
        let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
        x + 0x3030_3030_3030_3030 + letters * 0x27
    }
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&spread((x >> 32) as u32).to_be_bytes());
    out[8..].copy_from_slice(&spread(x as u32).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex16_matches_format() {
        for x in [
            0u64,
            1,
            9,
            10,
            15,
            0x1234_5678_9abc_def0,
            u64::MAX,
            0xa0a0_0909_ffff_0000,
        ] {
            assert_eq!(super::hex16(x), *format!("{x:016x}").as_bytes());
        }
    }

    use super::*;

    #[test]
    fn carries_the_sequence_number_and_checks_it_in_any_split() {
        let p = Payload::new(40, false, false);
        let mut d = [0u8; MAX_SEQ_DIGITS];
        p.seq_digits(0x1234, &mut d);
        assert_eq!(&d, b"0000000000001234");
        let mut msg = p.template.clone();
        msg[..16].copy_from_slice(&d);
        for cut in 0..=40 {
            assert!(p.matches(0, &msg[..cut], &d));
            assert!(p.matches(cut, &msg[cut..], &d));
        }
        let mut other = [0u8; MAX_SEQ_DIGITS];
        p.seq_digits(0x1235, &mut other);
        assert!(!p.matches(0, &msg, &other));
        assert!(!p.matches(1, &msg, &d));
    }

    #[test]
    fn short_messages_keep_the_low_digits() {
        let p = Payload::new(4, true, false);
        let mut d = [0u8; MAX_SEQ_DIGITS];
        p.seq_digits(0xabcdef, &mut d);
        assert_eq!(&d[..4], b"cdef");
    }

    #[test]
    fn unicode_text_is_valid_utf8_of_the_exact_size() {
        for size in [16, 17, 100, 1024, 1025] {
            let p = Payload::new(size, true, true);
            assert_eq!(p.template.len(), size);
            assert!(std::str::from_utf8(&p.template).is_ok());
        }
    }
}
