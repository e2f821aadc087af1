use napi::bindgen_prelude::{BufferSlice, Result};
use napi::Env;
use napi_derive::napi;

use super::errors::set_last_error;
use crate::close;

/// Whether `code` may appear in a CLOSE frame (RFC 6455 §7.4).
#[napi]
pub fn is_valid_wire_close_code(code: f64) -> bool {
    // JavaScript passes any number: only an integer in u16 range can be a status code.
    code.fract() == 0.0
        && (0.0..=65535.0).contains(&code)
        && close::is_valid_wire_close_code(code as u16)
}

/// CLOSE payload for `code` and `reason`, or `null` (see `takeError`). The payload (at most 125
/// bytes) is copied into a buffer the engine owns: cheaper than an external buffer over the `Vec`,
/// whose finalizer the collector would run for every close of every connection.
#[napi]
pub fn encode_close_payload<'env>(
    env: &'env Env,
    code: f64,
    reason: String,
) -> Result<Option<BufferSlice<'env>>> {
    let code = if code.fract() == 0.0 && (0.0..=65535.0).contains(&code) {
        code as u16
    } else {
        0
    };
    match close::encode_close_payload(code, &reason) {
        Ok(bytes) => BufferSlice::copy_from(env, bytes).map(Some),
        Err(err) => {
            set_last_error(err);
            Ok(None)
        }
    }
}

/// A decoded CLOSE payload.
#[napi(object)]
pub struct ClosePayload {
    pub code: u32,
    pub reason: String,
}

/// Decodes a CLOSE payload, or returns `null` (see `takeError`).
#[napi]
pub fn decode_close_payload(payload: &[u8]) -> Option<ClosePayload> {
    match close::decode_close_payload(payload) {
        Ok((code, reason)) => Some(ClosePayload {
            code: u32::from(code),
            reason: reason.to_owned(),
        }),
        Err(err) => {
            set_last_error(err);
            None
        }
    }
}
