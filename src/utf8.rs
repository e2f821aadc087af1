//! Incremental UTF-8 validation for text messages (RFC 6455 §8.1) that arrive in pieces.
//!
//! RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the
//! byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
//! Connection_." Failing at the first impossible byte, rather than when the message is
//! complete, keeps a peer from making the server buffer a message already known to be invalid.

/// The number of bytes of the sequence `lead` starts, for a lead byte that can start a
/// sequence longer than one byte.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Validates a UTF-8 stream fed in arbitrary pieces.
///
/// It keeps at most the three bytes of a sequence that a piece boundary split, and fails on
/// the first byte that cannot start or continue valid UTF-8, even when that sequence is not
/// finished yet (`F4 90`, `ED A0` and `C0` fail at once; `E2 82` at the end of a piece waits
/// for the next piece).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    tail: [u8; 4],
    tail_len: usize,
}

impl Utf8Validator {
    /// A validator at the start of a stream.
    pub const fn new() -> Self {
        Utf8Validator {
            tail: [0; 4],
            tail_len: 0,
        }
    }

    /// Validates the next piece of the stream. `Err(())` means the stream is invalid whatever
    /// follows; the validator should then be reset before reuse.
    #[allow(clippy::result_unit_err)]
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let mut rest = bytes;
        if self.tail_len > 0 {
            let lead = self.tail[0];
            let missing = sequence_len(lead).saturating_sub(self.tail_len);
            let take = missing.min(rest.len());
            let (head, after) = rest.split_at(take);
            // `end` is at most the sequence's length, 4: the tail array holds it.
            let end = self.tail_len + take;
            if let Some(slot) = self.tail.get_mut(self.tail_len..end) {
                slot.copy_from_slice(head);
            }
            match simdutf8::compat::from_utf8(self.tail.get(..end).unwrap_or(&[])) {
                Ok(_) => self.tail_len = 0,
                Err(err) if err.error_len().is_some() => return Err(()),
                Err(_) => {
                    self.tail_len = end;
                    return Ok(());
                }
            }
            rest = after;
        }
        match simdutf8::compat::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(err) if err.error_len().is_some() => Err(()),
            Err(err) => {
                // An unfinished but so far valid sequence ends the piece: at most three bytes.
                let tail = rest.get(err.valid_up_to()..).unwrap_or(&[]);
                match self.tail.get_mut(..tail.len()) {
                    Some(slot) if tail.len() < 4 => {
                        slot.copy_from_slice(tail);
                        self.tail_len = tail.len();
                        Ok(())
                    }
                    _ => Err(()),
                }
            }
        }
    }

    /// Ends the stream: `Err(())` when it stops inside a sequence.
    #[allow(clippy::result_unit_err)]
    pub fn finish(&self) -> Result<(), ()> {
        if self.tail_len == 0 {
            Ok(())
        } else {
            Err(())
        }
    }

    /// Starts a new stream.
    pub fn reset(&mut self) {
        self.tail_len = 0;
    }

    /// The bytes of an unfinished sequence held from the previous piece (0 to 3).
    pub fn pending_len(&self) -> usize {
        self.tail_len
    }
}

/// Whether `bytes` is valid UTF-8 as a whole.
pub fn is_valid_utf8(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::{is_valid_utf8, Utf8Validator};

    fn feed_all(pieces: &[&[u8]]) -> Result<(), ()> {
        let mut v = Utf8Validator::new();
        for piece in pieces {
            v.feed(piece)?;
        }
        v.finish()
    }

    #[test]
    fn accepts_a_multibyte_character_split_at_every_byte() {
        let text = "h€llo 𝄞 wörld".as_bytes();
        for cut in 0..=text.len() {
            assert_eq!(feed_all(&[&text[..cut], &text[cut..]]), Ok(()), "cut {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(feed_all(&bytes), Ok(()));
    }

    #[test]
    fn fails_at_once_on_a_sequence_that_cannot_be_completed() {
        for bad in [
            &[0xf4, 0x90][..],
            &[0xed, 0xa0],
            &[0xc0],
            &[0xc1],
            &[0xf5],
            &[0xff],
            &[0xe0, 0x80],
            &[0xf0, 0x80],
            &[0x80],
        ] {
            let mut v = Utf8Validator::new();
            assert_eq!(v.feed(bad), Err(()), "{bad:02x?}");
        }
    }

    #[test]
    fn fails_at_once_when_the_bad_byte_arrives_in_a_later_piece() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[b'a', 0xf4]), Ok(()));
        assert_eq!(v.feed(&[0x90]), Err(()));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xe2]), Ok(()));
        assert_eq!(v.feed(&[0x82]), Ok(()));
        assert_eq!(v.feed(b"x"), Err(()));
    }

    #[test]
    fn waits_for_an_unfinished_sequence_until_finish() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xe2, 0x82]), Ok(()));
        assert_eq!(v.pending_len(), 2);
        assert_eq!(v.finish(), Err(()));
        assert_eq!(v.feed(&[0xac]), Ok(()));
        assert_eq!(v.pending_len(), 0);
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn reset_forgets_an_unfinished_sequence() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xf0, 0x9f]), Ok(()));
        v.reset();
        assert_eq!(v.finish(), Ok(()));
        assert_eq!(v.feed(b"plain"), Ok(()));
    }

    #[test]
    fn empty_pieces_change_nothing() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[]), Ok(()));
        assert_eq!(v.feed(&[0xf0]), Ok(()));
        assert_eq!(v.feed(&[]), Ok(()));
        assert_eq!(v.feed(&[0x9f, 0x98]), Ok(()));
        assert_eq!(v.feed(&[]), Ok(()));
        assert_eq!(v.feed(&[0x80]), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn agrees_with_std_on_every_split_of_tricky_inputs() {
        let cases: &[&[u8]] = &[
            b"",
            "κόσμε".as_bytes(),
            &[
                0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4, 0x90, 0x80,
                0x80,
            ],
            &[0xed, 0x9f, 0xbf],
            &[0xed, 0xa0, 0x80],
            &[0xee, 0x80, 0x80],
            &[0xf0, 0x90, 0x80, 0x80],
            &[0xf4, 0x8f, 0xbf, 0xbf],
            &[0xf0, 0x8f, 0xbf, 0xbf],
            &[0xe0, 0xa0, 0x80, 0xe0, 0x9f, 0xbf],
            &[0xc2, 0x80, 0xdf, 0xbf, 0xc2],
            &[0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f, 0x98],
            &[0x61, 0x62, 0xfe, 0x63],
        ];
        for case in cases {
            let expected = std::str::from_utf8(case).is_ok();
            assert_eq!(is_valid_utf8(case), expected, "{case:02x?}");
            for a in 0..=case.len() {
                for b in a..=case.len() {
                    let got = feed_all(&[&case[..a], &case[a..b], &case[b..]]).is_ok();
                    assert_eq!(got, expected, "{case:02x?} split at {a},{b}");
                }
            }
        }
    }
}
