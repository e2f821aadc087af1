use napi_derive::napi;

use crate::handshake::{self, UpgradeHeaders};

/// `base64(SHA-1(key + GUID))`, RFC 6455 §4.2.2.
#[napi]
pub fn compute_accept_key(key: String) -> String {
    handshake::compute_accept_key(&key)
}

/// Outcome of [`validate_upgrade_headers`]: `ok` with `acceptKey` and `protocols`, or `status` and
/// `reason` for the HTTP error response.
#[napi(object)]
pub struct UpgradeVerdict {
    pub ok: bool,
    pub accept_key: Option<String>,
    pub protocols: Option<Vec<String>>,
    pub status: Option<u32>,
    pub reason: Option<String>,
}

/// Checks the opening handshake's headers in RFC 6455 §4.2.1 order.
#[napi]
pub fn validate_upgrade_headers(
    upgrade: Option<String>,
    connection: Option<String>,
    version: Option<String>,
    key: Option<String>,
    protocol: Option<String>,
) -> UpgradeVerdict {
    let headers = UpgradeHeaders {
        upgrade: upgrade.as_deref(),
        connection: connection.as_deref(),
        version: version.as_deref(),
        key: key.as_deref(),
        protocol: protocol.as_deref(),
    };
    match handshake::validate_upgrade(&headers) {
        Ok(accepted) => UpgradeVerdict {
            ok: true,
            accept_key: Some(accepted.accept_key),
            protocols: Some(accepted.protocols),
            status: None,
            reason: None,
        },
        Err(rejection) => UpgradeVerdict {
            ok: false,
            accept_key: None,
            protocols: None,
            status: Some(u32::from(rejection.status)),
            reason: Some(rejection.reason.to_owned()),
        },
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
