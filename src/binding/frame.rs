use napi::bindgen_prelude::{Float64ArraySlice, Uint8ArraySlice};
use napi_derive::napi;

use super::errors::set_last_error;
use crate::{encoder, header, mask};

/// `maxPayload` as JavaScript gives it: any number; negative, NaN or infinite means no limit.
pub(crate) fn payload_limit(max: f64) -> Option<u64> {
    if max.is_finite() && max >= 0.0 {
        // A fractional limit rejects the same integer lengths as its floor.
        Some(max.floor() as u64)
    } else {
        None
    }
}

/// Decodes one frame at the start of `buf`, unmasking its payload in place. Returns 0 when more bytes
/// are needed, 1 with `[fin, opcode, payloadStart, payloadLength, consumed]` written to `out`, or -1
/// on a protocol error (see `takeError`).
#[napi]
pub fn parse_frame_into(
    mut buf: Uint8ArraySlice,
    require_mask: bool,
    max_payload: f64,
    mut out: Float64ArraySlice,
) -> i32 {
    let opts = header::DecodeOptions {
        require_mask,
        reject_mask: false,
        max_payload: payload_limit(max_payload),
        allow_rsv1: false,
    };
    // SAFETY: the slices view JavaScript memory that stays alive and is not touched by JavaScript while
    // this synchronous call runs; `buf` and `out` are distinct typed arrays.
    let (bytes, out) = unsafe { (buf.as_mut(), out.as_mut()) };
    match header::parse_frame(bytes, &opts) {
        Ok(None) => 0,
        Ok(Some(frame)) => {
            if out.len() >= 5 {
                out[0] = if frame.fin { 1.0 } else { 0.0 };
                out[1] = f64::from(frame.opcode);
                out[2] = frame.payload_start as f64;
                out[3] = frame.payload_len as f64;
                out[4] = frame.consumed as f64;
            }
            1
        }
        Err(err) => {
            set_last_error(err);
            -1
        }
    }
}

/// Writes a whole frame (header, then the payload, masked with `mask_key` when given) into `out`,
/// which the caller sized exactly; returns the bytes written, or -1 when `out` is too small or a
/// control payload exceeds 125 bytes (see `takeError`).
#[napi]
pub fn encode_frame_into(
    mut out: Uint8ArraySlice,
    fin: bool,
    opcode: u32,
    payload: &[u8],
    mask_key: Option<u32>,
) -> i64 {
    // SAFETY: as in `parse_frame_into`; `out` is a fresh array the caller allocated for this frame.
    let out = unsafe { out.as_mut() };
    let key = mask_key.map(u32::to_be_bytes);
    let mut head = [0u8; 14];
    let opcode = (opcode & 0x0f) as u8;
    if let Err(err) = encoder::check_payload(opcode, payload.len()) {
        set_last_error(err);
        return -1;
    }
    let head_len = encoder::encode_header(&mut head, fin, opcode, payload.len() as u64, key);
    let total = head_len + payload.len();
    if out.len() < total {
        return -1;
    }
    out[..head_len].copy_from_slice(&head[..head_len]);
    let body = &mut out[head_len..total];
    match key {
        Some(key) => mask::unmask_into(body, payload, key, 0),
        None => body.copy_from_slice(payload),
    }
    total as i64
}
