//! Frame encoding (RFC 6455 §5.2). The core draws no random numbers: a caller that masks passes
//! the key (RFC 6455 §5.3 wants it fresh and unpredictable for every frame a client sends).

use crate::error::{ErrorKind, ProtocolError};
use crate::header::MAX_CONTROL_PAYLOAD;
use crate::mask::unmask_into;

/// Fails with [`ErrorKind::ControlTooLong`] when `opcode` is a control opcode and `payload_len`
/// is over 125 bytes (RFC 6455 §5.5: "All control frames MUST have a payload length of 125
/// bytes or less").
pub fn check_payload(opcode: u8, payload_len: usize) -> Result<(), ProtocolError> {
    if opcode & 0x08 != 0 && payload_len as u64 > MAX_CONTROL_PAYLOAD {
        return Err(ErrorKind::ControlTooLong.into());
    }
    Ok(())
}

/// Writes the header of a frame into `dst` and returns its length (2 to 14 bytes). Only the low
/// four bits of `opcode` are used. The length takes the shortest form, as RFC 6455 §5.2 requires
/// ("the minimal number of bytes MUST be used to encode the length"): 7 bits up to 125, 16 bits
/// from 126, 64 bits from 65536. With `mask`, the MASK bit is set and the key follows.
pub fn encode_header(
    dst: &mut [u8; 14],
    fin: bool,
    opcode: u8,
    payload_len: u64,
    mask: Option<[u8; 4]>,
) -> usize {
    dst[0] = if fin { 0x80 } else { 0 } | (opcode & 0x0f);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut len = match payload_len {
        0..=125 => {
            dst[1] = mask_bit | payload_len as u8;
            2
        }
        126..=0xffff => {
            dst[1] = mask_bit | 126;
            dst[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
            4
        }
        _ => {
            dst[1] = mask_bit | 127;
            dst[2..10].copy_from_slice(&payload_len.to_be_bytes());
            10
        }
    };
    if let Some(key) = mask {
        dst[len..len + 4].copy_from_slice(&key);
        len += 4;
    }
    len
}

/// A whole frame: its header, then `payload`, masked with `mask` when given. Fails with
/// [`ErrorKind::ControlTooLong`] for a control payload over 125 bytes.
pub fn encode_frame(
    fin: bool,
    opcode: u8,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) -> Result<Vec<u8>, ProtocolError> {
    check_payload(opcode, payload.len())?;
    let mut head = [0u8; 14];
    let head_len = encode_header(&mut head, fin, opcode, payload.len() as u64, mask);
    let mut frame = vec![0u8; head_len + payload.len()];
    let (dst_head, body) = frame.split_at_mut(head_len);
    dst_head.copy_from_slice(&head[..head_len]);
    match mask {
        Some(key) => unmask_into(body, payload, key, 0),
        None => body.copy_from_slice(payload),
    }
    Ok(frame)
}
