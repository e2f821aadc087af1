//! permessage-deflate parameter negotiation (RFC 7692 §5 and §7.1): the server's answer to a
//! client's offers, and the client's offer and its check of the server's answer.

use std::fmt;

use super::{StreamParams, EXTENSION_NAME, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::extensions::{parse_extensions, Extension};

/// Why an offer (on the server) or a response (on the client) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiationError {
    /// The element breaks the `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1).
    Syntax,
    /// A parameter RFC 7692 does not define (§7.1: "MUST decline").
    UnknownParameter(String),
    /// A parameter given twice (§7.1: "MUST decline").
    DuplicateParameter(String),
    /// A parameter with a value it may not have, or without a value it needs (§7.1.1, §7.1.2).
    InvalidValue(String),
    /// The server is configured to limit the client's window, and the offer does not say the
    /// client supports `client_max_window_bits` (§7.1.2.2: the response then "MUST NOT include"
    /// it).
    ClientWindowBitsNotOffered,
    /// The response names an extension the client did not offer, or permessage-deflate twice
    /// (RFC 6455 §9.1: the client then "MUST _Fail the WebSocket Connection_").
    UnexpectedExtension(String),
    /// The response leaves out a parameter the offer required it to answer (§7.1.1.1,
    /// §7.1.2.1).
    MissingParameter(&'static str),
    /// The response's `server_max_window_bits` is larger than the offer allowed (§7.1.2.1).
    WindowBitsAboveOffer,
    /// A window-bits option outside 8..=15: names the field.
    InvalidOption(&'static str),
}

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NegotiationError::Syntax => f.write_str("Invalid Sec-WebSocket-Extensions header"),
            NegotiationError::UnknownParameter(p) => write!(f, "Unknown parameter \"{p}\""),
            NegotiationError::DuplicateParameter(p) => write!(f, "Duplicate parameter \"{p}\""),
            NegotiationError::InvalidValue(p) => write!(f, "Invalid value for parameter \"{p}\""),
            NegotiationError::ClientWindowBitsNotOffered => {
                f.write_str("The offer does not allow limiting client_max_window_bits")
            }
            NegotiationError::UnexpectedExtension(e) => {
                write!(
                    f,
                    "Server indicated an extension that was not requested: {e}"
                )
            }
            NegotiationError::MissingParameter(p) => {
                write!(f, "Expected parameter \"{p}\" in the response")
            }
            NegotiationError::WindowBitsAboveOffer => {
                f.write_str("server_max_window_bits in the response exceeds the offer")
            }
            NegotiationError::InvalidOption(o) => {
                write!(f, "{o} must be an integer from 8 to 15")
            }
        }
    }
}

impl std::error::Error for NegotiationError {}

/// The parameters of one permessage-deflate element, checked against RFC 7692 §7.1: every
/// parameter known, none twice, each value of the right form. Which combinations are acceptable
/// depends on the side ([`accept_offer`], [`validate_response`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeflateParams {
    /// `server_no_context_takeover` (§7.1.1.1).
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover` (§7.1.1.2).
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N` (§7.1.2.1): a value is required.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits[=N]` (§7.1.2.2): `None` when absent, `Some(None)` when present
    /// without a value (an offer's "I support it"), `Some(Some(n))` with a value.
    pub client_max_window_bits: Option<Option<u8>>,
}

/// A window-bits value: §7.1.2.1, "a decimal integer value without leading zeroes between 8 to
/// 15, inclusive".
fn parse_window_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

/// Checks the parameters of a permessage-deflate element (the caller has checked its name).
pub fn parse_params(ext: &Extension<'_>) -> Result<DeflateParams, NegotiationError> {
    let mut params = DeflateParams::default();
    let mut seen = [false; 4];
    for param in &ext.params {
        let index = match param.name {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            other => return Err(NegotiationError::UnknownParameter(other.to_owned())),
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(NegotiationError::DuplicateParameter(param.name.to_owned()));
        }
        let invalid = || NegotiationError::InvalidValue(param.name.to_owned());
        let bits = match &param.value {
            Some(v) => Some(parse_window_bits(v).ok_or_else(invalid)?),
            None => None,
        };
        match index {
            // §7.1.1: "This extension parameter has no value."
            0 | 1 if param.value.is_some() => return Err(invalid()),
            0 => params.server_no_context_takeover = true,
            1 => params.client_no_context_takeover = true,
            // §7.1.2.1: server_max_window_bits "has a value".
            2 => params.server_max_window_bits = Some(bits.ok_or_else(invalid)?),
            _ => params.client_max_window_bits = Some(bits),
        }
    }
    Ok(params)
}

/// The parameters both ends use once the extension is agreed. Window bits are the effective
/// ones: 15 where no limit was agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The largest window the server's compressor uses (8 to 15).
    pub server_max_window_bits: u8,
    /// The largest window the client's compressor uses (8 to 15).
    pub client_max_window_bits: u8,
}

impl Agreement {
    /// What the server's messages use: the server's deflater, the client's inflater.
    pub fn server_to_client(&self) -> StreamParams {
        StreamParams {
            window_bits: self.server_max_window_bits,
            no_context_takeover: self.server_no_context_takeover,
        }
    }

    /// What the client's messages use: the client's deflater, the server's inflater.
    pub fn client_to_server(&self) -> StreamParams {
        StreamParams {
            window_bits: self.client_max_window_bits,
            no_context_takeover: self.client_no_context_takeover,
        }
    }
}

fn check_window_option(bits: Option<u8>, field: &'static str) -> Result<(), NegotiationError> {
    match bits {
        Some(b) if !(MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&b) => {
            Err(NegotiationError::InvalidOption(field))
        }
        _ => Ok(()),
    }
}

/// One side's configuration of the extension, with `ws`'s option names (which `ws` also uses
/// for both sides). Each window is `None` or 8 to 15 ([`DeflateOptions::validate`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeflateOptions {
    /// Server: always reset its compressor after each message, even when the client did not
    /// ask (what lets one compressor serve every connection: the "shared" mode). Client: ask the
    /// server to (the answer must then include it).
    pub server_no_context_takeover: bool,
    /// Server: always ask the client to reset its compressor after each message, so the
    /// server's inflater holds no window between messages. Client: announce that it does.
    pub client_no_context_takeover: bool,
    /// Server: the largest window it compresses with; `None` is 15 unless the client asks for
    /// less. Client: ask the server to compress with at most this window.
    pub server_max_window_bits: Option<u8>,
    /// Server: the largest window the client may compress with; as in `ws`, an offer that does
    /// not allow limiting the client's window is then declined. Client: compress with at most
    /// this window, announced as a hint.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateOptions {
    /// Checks the window-bits options: each `None` or 8 to 15.
    pub fn validate(&self) -> Result<(), NegotiationError> {
        check_window_option(self.server_max_window_bits, "server_max_window_bits")?;
        check_window_option(self.client_max_window_bits, "client_max_window_bits")
    }
}

/// A permessage-deflate offer the server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The agreed parameters.
    pub agreement: Agreement,
    /// The value of the response's `Sec-WebSocket-Extensions` header.
    pub response: String,
}

/// The server's answer to one offer, or why it declines it.
///
/// RFC 7692 §7.1: `server_no_context_takeover` offered is always honoured; the server adds its
/// own `*_no_context_takeover` when configured to. `server_max_window_bits=N` offered is
/// answered with the smaller of N and the configured window (§7.1.2.1: "equal to or smaller
/// than"). `client_max_window_bits` is answered only when offered
/// (§7.1.2.2): with the configured limit (at most the client's hint), or by echoing the
/// client's hint; a configured limit with no such parameter in the offer declines it.
pub fn accept_offer(
    opts: &DeflateOptions,
    offer: &DeflateParams,
) -> Result<Negotiated, NegotiationError> {
    opts.validate()?;
    let mut response = String::from(EXTENSION_NAME);
    let server_no_context_takeover =
        offer.server_no_context_takeover || opts.server_no_context_takeover;
    if server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    let client_no_context_takeover =
        offer.client_no_context_takeover || opts.client_no_context_takeover;
    if client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    let server_bits = match (offer.server_max_window_bits, opts.server_max_window_bits) {
        (Some(offered), configured) => Some(offered.min(configured.unwrap_or(MAX_WINDOW_BITS))),
        // §7.1.2.1 lets the server announce a limit nobody asked for: the client's inflater
        // may then use a smaller window.
        (None, configured) => configured,
    };
    if let Some(bits) = server_bits {
        response.push_str(&format!("; server_max_window_bits={bits}"));
    }
    let client_bits = match (offer.client_max_window_bits, opts.client_max_window_bits) {
        (None, Some(_)) => return Err(NegotiationError::ClientWindowBitsNotOffered),
        (None, None) | (Some(None), None) => None,
        (Some(hint), Some(limit)) => Some(limit.min(hint.unwrap_or(MAX_WINDOW_BITS))),
        (Some(Some(hint)), None) => Some(hint),
    };
    if let Some(bits) = client_bits {
        response.push_str(&format!("; client_max_window_bits={bits}"));
    }
    Ok(Negotiated {
        agreement: Agreement {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits: server_bits.unwrap_or(MAX_WINDOW_BITS),
            client_max_window_bits: client_bits.unwrap_or(MAX_WINDOW_BITS),
        },
        response,
    })
}

/// Every permessage-deflate offer of a `Sec-WebSocket-Extensions` value (several header lines
/// joined with `", "`), in the client's order of preference, each checked on its own: a broken
/// or invalid offer is an `Err` in its place. Other extensions are left out.
pub fn parse_offers(header: &str) -> Vec<Result<DeflateParams, NegotiationError>> {
    parse_extensions(header)
        .into_iter()
        .filter_map(|element| match element {
            Ok(ext) if ext.name == EXTENSION_NAME => Some(parse_params(&ext)),
            Ok(_) => None,
            // An element whose grammar broke may have been meant as an offer: the server
            // declines it like any other invalid offer.
            Err(_) => Some(Err(NegotiationError::Syntax)),
        })
        .collect()
}

/// The server's side of the negotiation: the first offer of `header` (in the client's order of
/// preference) that is valid and that `opts` can honour, or `None` to answer without the
/// extension. Invalid offers are declined one by one (RFC 7692 §5: the server "MUST decline"
/// an offer with an unknown or duplicate parameter or a bad value, and then considers the
/// next); the handshake itself never fails here.
pub fn negotiate(opts: &DeflateOptions, header: &str) -> Option<Negotiated> {
    parse_offers(header)
        .into_iter()
        .find_map(|offer| offer.and_then(|o| accept_offer(opts, &o)).ok())
}

/// The client's offer: one permessage-deflate element with the requested parameters, always
/// with `client_max_window_bits` (with the configured value as a hint, or bare) since this
/// client can honour any window the server asks for.
pub fn build_offer(opts: &DeflateOptions) -> Result<String, NegotiationError> {
    opts.validate()?;
    let mut offer = String::from(EXTENSION_NAME);
    if opts.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if opts.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = opts.server_max_window_bits {
        offer.push_str(&format!("; server_max_window_bits={bits}"));
    }
    match opts.client_max_window_bits {
        Some(bits) => offer.push_str(&format!("; client_max_window_bits={bits}")),
        None => offer.push_str("; client_max_window_bits"),
    }
    Ok(offer)
}

/// The client's check of the server's `Sec-WebSocket-Extensions` answer to [`build_offer`]'s
/// offer: `Ok(None)` when the server answered without the extension (an empty value), the
/// agreement when it accepted, an error when the client must fail the connection (RFC 6455
/// §4.1 and RFC 7692 §7.1: an extension not offered, an invalid parameter, or a parameter the
/// offer required left out or answered with a larger window).
pub fn validate_response(
    opts: &DeflateOptions,
    header: &str,
) -> Result<Option<Agreement>, NegotiationError> {
    opts.validate()?;
    let mut found: Option<DeflateParams> = None;
    for element in parse_extensions(header) {
        let ext = element.map_err(|_| NegotiationError::Syntax)?;
        if ext.name != EXTENSION_NAME || found.is_some() {
            return Err(NegotiationError::UnexpectedExtension(ext.name.to_owned()));
        }
        found = Some(parse_params(&ext)?);
    }
    let Some(params) = found else {
        return Ok(None);
    };
    // §7.1.1.1: a server accepting an offer with server_no_context_takeover "MUST include" it.
    if opts.server_no_context_takeover && !params.server_no_context_takeover {
        return Err(NegotiationError::MissingParameter(
            "server_no_context_takeover",
        ));
    }
    // §7.1.2.1: for an offer with server_max_window_bits the response "MUST include" it, with
    // "the same or smaller value".
    if let Some(asked) = opts.server_max_window_bits {
        match params.server_max_window_bits {
            None => return Err(NegotiationError::MissingParameter("server_max_window_bits")),
            Some(bits) if bits > asked => return Err(NegotiationError::WindowBitsAboveOffer),
            Some(_) => {}
        }
    }
    let client_bits = match params.client_max_window_bits {
        // §7.1.2.2: in a response the parameter "has a value".
        Some(None) => {
            return Err(NegotiationError::InvalidValue(
                "client_max_window_bits".to_owned(),
            ))
        }
        Some(Some(bits)) => bits,
        None => MAX_WINDOW_BITS,
    };
    Ok(Some(Agreement {
        server_no_context_takeover: params.server_no_context_takeover,
        client_no_context_takeover: params.client_no_context_takeover
            || opts.client_no_context_takeover,
        server_max_window_bits: params.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
        client_max_window_bits: client_bits
            .min(opts.client_max_window_bits.unwrap_or(MAX_WINDOW_BITS)),
    }))
}
