use napi::bindgen_prelude::Either;
use napi_derive::napi;

use crate::handshake::{self, UpgradeHeaders};

/// `base64(SHA-1(key + GUID))`, RFC 6455 §4.2.2.
#[napi]
pub fn compute_accept_key(key: String) -> String {
    handshake::compute_accept_key(&key)
}

/// Why [`validate_upgrade_headers`] refused a handshake: the HTTP status and reason to answer with.
#[napi(object)]
pub struct UpgradeRejection {
    pub status: u32,
    pub reason: String,
}

/// Checks the opening handshake's headers in RFC 6455 §4.2.1 order: the accept key when they pass,
/// else the rejection. A string rather than an object with the offered subprotocols: the common
/// case then crosses back with no object built (JavaScript parses a `Sec-WebSocket-Protocol`
/// header, when there is one, with [`parse_subprotocols`]).
#[napi]
pub fn validate_upgrade_headers(
    upgrade: Option<String>,
    connection: Option<String>,
    version: Option<String>,
    key: Option<String>,
) -> Either<String, UpgradeRejection> {
    let headers = UpgradeHeaders {
        upgrade: upgrade.as_deref(),
        connection: connection.as_deref(),
        version: version.as_deref(),
        key: key.as_deref(),
        protocol: None,
    };
    match handshake::validate_upgrade(&headers) {
        Ok(accepted) => Either::A(accepted.accept_key),
        Err(rejection) => Either::B(UpgradeRejection {
            status: u32::from(rejection.status),
            reason: rejection.reason.to_owned(),
        }),
    }
}

/// Offered subprotocols of a `Sec-WebSocket-Protocol` header, trimmed, empties dropped, in order.
#[napi]
pub fn parse_subprotocols(header: String) -> Vec<String> {
    handshake::parse_subprotocols(&header)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Whether `value` is an HTTP token (RFC 9110 §5.6.2), as a subprotocol must be.
#[napi]
pub fn is_http_token(value: String) -> bool {
    handshake::is_http_token(&value)
}
