//! permessage-deflate for JavaScript: the server's negotiation (`deflateNegotiate`) and the
//! compression of outgoing messages, shared per thread (`deflateShared`) or per connection
//! (`NativeDeflater`). Incoming messages are inflated by the frame sink (`NativeFrameSink`'s
//! `inflate` option).

use napi::bindgen_prelude::{Buffer, Error, Result, Status};
use napi::Env;
use napi_derive::napi;
use std::cell::RefCell;
use std::collections::HashMap;

use crate::deflate::{build_offer, negotiate, validate_response};
use crate::deflate::{Agreement, DeflateOptions, Deflater, NegotiationError, StreamParams};
use crate::deflate::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// The smallest window RFC 7692 allows, in bits (lib/primitives/deflate.js checks options with it).
#[napi]
pub const DEFLATE_MIN_WINDOW_BITS: u32 = MIN_WINDOW_BITS as u32;
/// The largest window, in bits: 32 KiB, the default.
#[napi]
pub const DEFLATE_MAX_WINDOW_BITS: u32 = MAX_WINDOW_BITS as u32;
/// The largest zlib compression level.
#[napi]
pub const DEFLATE_MAX_LEVEL: u32 = 9;

/// One side's configuration of the extension (src/deflate/negotiation.rs, `DeflateOptions`, which
/// says what each field means on a server and on a client).
#[napi(object)]
pub struct DeflateServerOptions {
    /// Always reset the server's compressor after each message (the shared mode).
    pub server_no_context_takeover: Option<bool>,
    /// Always ask the client to reset its compressor after each message.
    pub client_no_context_takeover: Option<bool>,
    /// The largest window the server compresses with (8 to 15).
    pub server_max_window_bits: Option<u32>,
    /// The largest window the client may compress with (8 to 15).
    pub client_max_window_bits: Option<u32>,
}

/// What was agreed, and the response header that says it.
#[napi(object)]
pub struct DeflateAgreement {
    /// The value of the response's `Sec-WebSocket-Extensions` header.
    pub response: String,
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u32,
    pub client_max_window_bits: u32,
}

/// How incoming compressed messages are to be inflated (the client's direction of the agreement).
#[napi(object)]
pub struct InflateOptions {
    /// The client resets its compressor after each message: the sink holds no inflater between
    /// messages.
    pub no_context_takeover: bool,
    /// The client's window (8 to 15).
    pub window_bits: u32,
}

impl InflateOptions {
    pub(crate) fn params(&self) -> StreamParams {
        StreamParams {
            window_bits: window_bits(self.window_bits),
            no_context_takeover: self.no_context_takeover,
        }
    }
}

/// A window size as the core takes it, clamped into 8 to 15 (callers checked it).
fn window_bits(bits: u32) -> u8 {
    bits.clamp(u32::from(MIN_WINDOW_BITS), u32::from(MAX_WINDOW_BITS)) as u8
}

/// Throws a `RangeError` naming `what`.
fn range_error(env: &Env, what: &str) -> Error {
    let message = format!("{what} must be an integer from {MIN_WINDOW_BITS} to {MAX_WINDOW_BITS}");
    match env.throw_range_error(&message, Some("ERR_OUT_OF_RANGE")) {
        Ok(()) => Error::new(Status::PendingException, message),
        Err(err) => err,
    }
}

/// A window option: absent, or an integer from 8 to 15.
fn window_option(env: &Env, bits: Option<u32>, what: &str) -> Result<Option<u8>> {
    match bits {
        None => Ok(None),
        Some(b) if (u32::from(MIN_WINDOW_BITS)..=u32::from(MAX_WINDOW_BITS)).contains(&b) => {
            Ok(Some(b as u8))
        }
        Some(_) => Err(range_error(env, what)),
    }
}

/// The server's answer to the `Sec-WebSocket-Extensions` header of a request (`offer`, several
/// header lines joined with ", "): the first permessage-deflate offer `options` can honour, or
/// `null` to answer without the extension. Throws a `RangeError` for a window option outside 8 to 15.
#[napi]
pub fn deflate_negotiate(
    env: Env,
    options: DeflateServerOptions,
    offer: String,
) -> Result<Option<DeflateAgreement>> {
    let opts = core_options(&env, &options)?;
    Ok(negotiate(&opts, &offer).map(|n| agreement_object(n.response, &n.agreement)))
}

/// The options as the core takes them; a `RangeError` for a window outside 8 to 15.
fn core_options(env: &Env, options: &DeflateServerOptions) -> Result<DeflateOptions> {
    let opts = DeflateOptions {
        server_no_context_takeover: options.server_no_context_takeover.unwrap_or(false),
        client_no_context_takeover: options.client_no_context_takeover.unwrap_or(false),
        server_max_window_bits: window_option(
            env,
            options.server_max_window_bits,
            "serverMaxWindowBits",
        )?,
        client_max_window_bits: window_option(
            env,
            options.client_max_window_bits,
            "clientMaxWindowBits",
        )?,
    };
    if let Err(NegotiationError::InvalidOption(field)) = opts.validate() {
        return Err(range_error(env, field));
    }
    Ok(opts)
}

fn agreement_object(response: String, agreement: &Agreement) -> DeflateAgreement {
    DeflateAgreement {
        response,
        server_no_context_takeover: agreement.server_no_context_takeover,
        client_no_context_takeover: agreement.client_no_context_takeover,
        server_max_window_bits: u32::from(agreement.server_max_window_bits),
        client_max_window_bits: u32::from(agreement.client_max_window_bits),
    }
}

/// A client's `Sec-WebSocket-Extensions` offer for `options` (one permessage-deflate element).
/// Throws a `RangeError` for a window option outside 8 to 15.
#[napi]
pub fn deflate_offer(env: Env, options: DeflateServerOptions) -> Result<String> {
    let opts = core_options(&env, &options)?;
    build_offer(&opts).map_err(|err| Error::new(Status::InvalidArg, err.to_string()))
}

/// A client's check of the server's `Sec-WebSocket-Extensions` answer (`response`, several header
/// lines joined with ", ") to the offer of `options`: the agreement (its `response` is the answer
/// as received), or `null` when the answer names no extension at all. When the client must fail
/// the connection it throws an `Error` whose message says why and whose `code` is
/// `ERR_DEFLATE_UNEXPECTED_EXTENSION` (an extension that was not offered, or permessage-deflate
/// twice) or `ERR_DEFLATE_INVALID_RESPONSE` (anything else).
#[napi]
pub fn deflate_accept_response(
    env: Env,
    options: DeflateServerOptions,
    response: String,
) -> Result<Option<DeflateAgreement>> {
    let opts = core_options(&env, &options)?;
    match validate_response(&opts, &response) {
        Ok(agreement) => Ok(agreement.map(|a| agreement_object(response.trim().to_owned(), &a))),
        Err(err) => {
            let code = match err {
                NegotiationError::UnexpectedExtension(_) => "ERR_DEFLATE_UNEXPECTED_EXTENSION",
                _ => "ERR_DEFLATE_INVALID_RESPONSE",
            };
            let message = err.to_string();
            match env.throw_error(&message, Some(code)) {
                Ok(()) => Err(Error::new(Status::PendingException, message)),
                Err(err) => Err(err),
            }
        }
    }
}

/// A compression level as zlib takes it: an integer from 0 to 9.
fn level_option(env: &Env, level: u32) -> Result<u32> {
    if level <= DEFLATE_MAX_LEVEL {
        return Ok(level);
    }
    let message = "level must be an integer from 0 to 9";
    match env.throw_range_error(message, Some("ERR_OUT_OF_RANGE")) {
        Ok(()) => Err(Error::new(Status::PendingException, message)),
        Err(err) => Err(err),
    }
}

thread_local! {
    /// The shared mode's deflaters: one per window size and level, each reset after every
    /// message, serving every connection of this thread that agreed them.
    static SHARED: RefCell<HashMap<(u8, u32), Deflater>> = RefCell::new(HashMap::new());
}

/// The compressed payload of one whole message in the shared mode (no context takeover: the
/// deflater of this thread for `window_bits` and `level` starts afresh with every message).
#[napi]
pub fn deflate_shared(env: Env, payload: &[u8], window_bits: u32, level: u32) -> Result<Buffer> {
    let bits = window_option(&env, Some(window_bits), "windowBits")?.unwrap_or(MAX_WINDOW_BITS);
    let level = level_option(&env, level)?;
    let mut out = Vec::new();
    SHARED
        .with(|shared| {
            let mut shared = shared.borrow_mut();
            let deflater = shared.entry((bits, level)).or_insert_with(|| {
                let params = StreamParams {
                    window_bits: bits,
                    no_context_takeover: true,
                };
                Deflater::new(params, level)
            });
            deflater.deflate(payload, &mut out)
        })
        .map_err(|err| Error::new(Status::GenericFailure, err.to_string()))?;
    Ok(out.into())
}

/// One connection's deflater in the dedicated mode: it keeps its window between messages (unless
/// the client asked for `server_no_context_takeover`), so each message may refer to earlier ones.
#[napi]
pub struct NativeDeflater {
    inner: Deflater,
}

#[napi]
impl NativeDeflater {
    /// Throws a `RangeError` for a window outside 8 to 15 or a level outside 0 to 9.
    #[napi(constructor)]
    pub fn new(env: Env, window_bits: u32, no_context_takeover: bool, level: u32) -> Result<Self> {
        let bits = window_option(&env, Some(window_bits), "windowBits")?.unwrap_or(MAX_WINDOW_BITS);
        let level = level_option(&env, level)?;
        let params = StreamParams {
            window_bits: bits,
            no_context_takeover,
        };
        Ok(NativeDeflater {
            inner: Deflater::new(params, level),
        })
    }

    /// The compressed payload of one whole message. A failure (an internal error of the library,
    /// never the data's) leaves the peer's window out of step: the connection must be closed (1011).
    #[napi]
    pub fn deflate(&mut self, payload: &[u8]) -> Result<Buffer> {
        let mut out = Vec::new();
        self.inner
            .deflate(payload, &mut out)
            .map_err(|err| Error::new(Status::GenericFailure, err.to_string()))?;
        Ok(out.into())
    }

    /// Lets go of the compressor's memory between messages, keeping only the stream's last bytes
    /// (at most the window); the next `deflate` continues the same stream. Returns the bytes kept.
    #[napi]
    pub fn release(&mut self) -> u32 {
        self.inner.release() as u32
    }
}
