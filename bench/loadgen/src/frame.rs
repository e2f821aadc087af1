//! The client side of RFC 6455 framing, just what an echo load needs: masked frames out, unmasked frames in.
//!
//! Kept independent of the crate under test on purpose: the load generator is the judge of what the servers
//! echo, so it must not share their codec.

/// RFC 6455 §5.2 opcodes.
pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Close code 1000, normal closure (RFC 6455 §7.4.1).
pub const CLOSE_NORMAL: u16 = 1000;

/// Length of a client frame header (with its 4-byte masking key) for a payload of `len` bytes (§5.2).
pub fn masked_header_len(len: usize) -> usize {
    if len < 126 {
        6
    } else if len <= 0xFFFF {
        8
    } else {
        14
    }
}

/// Appends a FIN frame header with the MASK bit and `key` to `out` (§5.2: a client masks every frame).
pub fn put_masked_header(out: &mut Vec<u8>, opcode: u8, len: usize, key: [u8; 4]) {
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
}

/// XORs `buf` with the masking key, `buf[0]` taking key byte 0 (§5.3). Eight bytes at a time: the compiler
/// vectorises the word loop, and 8 is a multiple of the key length so the key phase never shifts.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    let k = u32::from_ne_bytes(key) as u64;
    let wide = k | (k << 32);
    let mut chunks = buf.chunks_exact_mut(8);
    for c in &mut chunks {
        let w = u64::from_ne_bytes(c.try_into().unwrap()) ^ wide;
        c.copy_from_slice(&w.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// Appends one complete masked client frame carrying `payload`.
pub fn put_masked_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], key: [u8; 4]) {
    put_masked_header(out, opcode, payload.len(), key);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], key);
}

/// Appends a masked close frame with `code` and no reason (§5.5.1).
pub fn put_close(out: &mut Vec<u8>, code: u16, key: [u8; 4]) {
    put_masked_frame(out, OP_CLOSE, &code.to_be_bytes(), key);
}

/// A decoded server frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    pub opcode: u8,
    pub payload_len: u64,
    /// Bytes the header took, payload starts there.
    pub header_len: usize,
    /// RSV1: a compressed message (permessage-deflate), allowed on a data frame's first frame only.
    pub rsv1: bool,
}

/// Why a server frame header is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// §5.1: a client MUST close the connection if it sees a masked frame from the server.
    MaskedFromServer,
    /// §5.2: RSV1-3 MUST be 0 unless an extension was negotiated (RSV1: permessage-deflate, §6).
    ReservedBits,
    /// §5.2: opcodes 3-7 and B-F are reserved.
    ReservedOpcode,
    /// §5.5: control frames carry at most 125 bytes and are never fragmented.
    BadControlFrame,
    /// §5.2: the most significant bit of a 64-bit length MUST be 0.
    LengthTooLarge,
}

/// Decodes the server frame header at the front of `buf`: `Ok(None)` when more bytes are needed.
pub fn decode_header(buf: &[u8]) -> Result<Option<FrameHeader>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let b0 = buf[0];
    let b1 = buf[1];
    let rsv1 = b0 & 0x40 != 0;
    // RSV1 only on TEXT/BINARY (the caller refuses it when no extension was agreed); RSV2/3 never.
    if b0 & 0x30 != 0 || (rsv1 && !matches!(b0 & 0x0F, OP_TEXT | OP_BINARY)) {
        return Err(FrameError::ReservedBits);
    }
    if b1 & 0x80 != 0 {
        return Err(FrameError::MaskedFromServer);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    match opcode {
        OP_CONTINUATION | OP_TEXT | OP_BINARY => {}
        OP_CLOSE | OP_PING | OP_PONG => {
            if !fin || (b1 & 0x7F) > 125 {
                return Err(FrameError::BadControlFrame);
            }
        }
        _ => return Err(FrameError::ReservedOpcode),
    }
    let (payload_len, header_len) = match b1 & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let len = u64::from_be_bytes(buf[2..10].try_into().unwrap());
            if len >> 63 != 0 {
                return Err(FrameError::LengthTooLarge);
            }
            (len, 10)
        }
        n => (n as u64, 2),
    };
    Ok(Some(FrameHeader {
        fin,
        opcode,
        payload_len,
        header_len,
        rsv1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_rfc_example() {
        // RFC 6455 §5.7: a masked "Hello" from client to server.
        let mut out = Vec::new();
        put_masked_frame(&mut out, OP_TEXT, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(
            out,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
    }

    #[test]
    fn mask_is_its_own_inverse_at_every_length() {
        for len in 0..40 {
            let orig: Vec<u8> = (0..len as u8).collect();
            let mut buf = orig.clone();
            apply_mask(&mut buf, [1, 2, 3, 4]);
            for (i, (a, b)) in buf.iter().zip(&orig).enumerate() {
                assert_eq!(*a, *b ^ [1, 2, 3, 4][i % 4]);
            }
            apply_mask(&mut buf, [1, 2, 3, 4]);
            assert_eq!(buf, orig);
        }
    }

    #[test]
    fn decodes_the_rfc_unmasked_example() {
        let h = decode_header(&[0x81, 0x05, 0x48]).unwrap().unwrap();
        assert_eq!(
            h,
            FrameHeader {
                fin: true,
                opcode: OP_TEXT,
                payload_len: 5,
                header_len: 2,
                rsv1: false
            }
        );
    }

    #[test]
    fn decodes_extended_lengths_and_asks_for_more() {
        assert_eq!(decode_header(&[0x82, 126, 1]).unwrap(), None);
        let h = decode_header(&[0x82, 126, 1, 0]).unwrap().unwrap();
        assert_eq!((h.payload_len, h.header_len), (256, 4));
        let mut b = vec![0x82, 127];
        b.extend_from_slice(&65536u64.to_be_bytes());
        let h = decode_header(&b).unwrap().unwrap();
        assert_eq!((h.payload_len, h.header_len), (65536, 10));
    }

    #[test]
    fn refuses_masked_server_frames_and_fragmented_control_frames() {
        assert_eq!(
            decode_header(&[0x81, 0x85]),
            Err(FrameError::MaskedFromServer)
        );
        assert_eq!(
            decode_header(&[0x09, 0x00]),
            Err(FrameError::BadControlFrame)
        );
        // RSV1 is read on TEXT/BINARY (the echo loop refuses it without the extension), refused on
        // control frames and continuations; RSV2/RSV3 always.
        assert!(decode_header(&[0xC1, 0x00]).unwrap().unwrap().rsv1);
        assert_eq!(decode_header(&[0xC9, 0x00]), Err(FrameError::ReservedBits));
        assert_eq!(decode_header(&[0xC0, 0x00]), Err(FrameError::ReservedBits));
        assert_eq!(decode_header(&[0xA1, 0x00]), Err(FrameError::ReservedBits));
        assert_eq!(
            decode_header(&[0x83, 0x00]),
            Err(FrameError::ReservedOpcode)
        );
    }

    #[test]
    fn header_lengths_match_what_is_written() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let mut out = Vec::new();
            put_masked_header(&mut out, OP_BINARY, len, [0; 4]);
            assert_eq!(out.len(), masked_header_len(len));
        }
    }
}
