//! The server side of the opening handshake (RFC 6455 §4.2).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 §1.3 appends to the client's key to derive `Sec-WebSocket-Accept`.
pub const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: RFC 6455 §4.2.2, "the base64-encoded
/// SHA-1 of the concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the
/// string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"".
pub fn compute_accept_key(key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(WS_GUID.as_bytes());
    STANDARD.encode(sha1.finalize())
}

/// Whether `key` is a valid `Sec-WebSocket-Key`: RFC 6455 §4.1, "a randomly selected 16-byte value
/// that has been base64-encoded". Only the canonical encoding is accepted: 24 characters of the
/// standard alphabet ending in `==`, no whitespace, no stray bits in the last character.
pub fn is_valid_key(key: &str) -> bool {
    // 16 bytes always encode to 24 characters: refuse anything else before decoding.
    key.len() == 24 && matches!(STANDARD.decode(key), Ok(bytes) if bytes.len() == 16)
}

/// JavaScript's `String.prototype.trim` set: the subprotocol list is trimmed as DaloyJS trims it.
fn is_js_whitespace(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// The subprotocols a `Sec-WebSocket-Protocol` header offers, in the client's order of
/// preference: the value split on `,`, each item trimmed, empty items dropped.
pub fn parse_subprotocols(header: &str) -> Vec<&str> {
    header
        .split(',')
        .map(|item| item.trim_matches(is_js_whitespace))
        .filter(|item| !item.is_empty())
        .collect()
}

/// Whether `value` is an HTTP token (RFC 9110 §5.6.2: one or more of ``!#$%&'*+-.^_`|~``, digits
/// and letters). RFC 6455 §4.1 requires each subprotocol to be one.
pub fn is_http_token(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// The handshake headers of an upgrade request, each `None` when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpgradeHeaders<'a> {
    /// `Upgrade`.
    pub upgrade: Option<&'a str>,
    /// `Connection`.
    pub connection: Option<&'a str>,
    /// `Sec-WebSocket-Version`.
    pub version: Option<&'a str>,
    /// `Sec-WebSocket-Key`.
    pub key: Option<&'a str>,
    /// `Sec-WebSocket-Protocol`.
    pub protocol: Option<&'a str>,
}

/// A handshake the server may accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The value of the response's `Sec-WebSocket-Accept` header.
    pub accept_key: String,
    /// The subprotocols the client offered, in its order of preference.
    pub protocols: Vec<String>,
}

/// A handshake the server must refuse, with the HTTP status and reason to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// 400, or 426 for an unsupported version.
    pub status: u16,
    /// Why: `Missing or invalid Upgrade header`, `Missing or invalid Connection header`,
    /// `Unsupported Sec-WebSocket-Version` or `Missing or invalid Sec-WebSocket-Key`.
    pub reason: &'static str,
}

/// Whether a `Connection` value lists the `upgrade` option: a comma-separated list of tokens
/// (RFC 9110 §7.6.1), compared without regard to ASCII case.
fn connection_has_upgrade(value: &str) -> bool {
    value.split(',').any(|token| {
        token
            .trim_matches([' ', '\t'])
            .eq_ignore_ascii_case("upgrade")
    })
}

/// Checks an upgrade request's handshake headers in DaloyJS's order and, when they are valid,
/// computes the accept key.
pub fn validate_upgrade(headers: &UpgradeHeaders<'_>) -> Result<Accepted, Rejection> {
    // RFC 6455 §4.2.1 item 3: "An |Upgrade| header field containing the value "websocket",
    // treated as an ASCII case-insensitive value."
    if !headers
        .upgrade
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    {
        return Err(Rejection {
            status: 400,
            reason: "Missing or invalid Upgrade header",
        });
    }
    // RFC 6455 §4.2.1 item 4: "A |Connection| header field that includes the token "Upgrade",
    // treated as an ASCII case-insensitive value."
    if !headers.connection.is_some_and(connection_has_upgrade) {
        return Err(Rejection {
            status: 400,
            reason: "Missing or invalid Connection header",
        });
    }
    // RFC 6455 §4.2.1 item 6: "A |Sec-WebSocket-Version| header field, with a value of 13";
    // §4.4: otherwise answer 426 Upgrade Required.
    if headers.version != Some("13") {
        return Err(Rejection {
            status: 426,
            reason: "Unsupported Sec-WebSocket-Version",
        });
    }
    // RFC 6455 §4.2.1 item 5: a |Sec-WebSocket-Key| that "when decoded, is 16 bytes in length".
    let key = match headers.key {
        Some(key) if is_valid_key(key) => key,
        _ => {
            return Err(Rejection {
                status: 400,
                reason: "Missing or invalid Sec-WebSocket-Key",
            })
        }
    };
    Ok(Accepted {
        accept_key: compute_accept_key(key),
        protocols: headers
            .protocol
            .map(parse_subprotocols)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn valid_headers() -> UpgradeHeaders<'static> {
        UpgradeHeaders {
            upgrade: Some("websocket"),
            connection: Some("Upgrade"),
            version: Some("13"),
            key: Some(RFC_KEY),
            protocol: None,
        }
    }

    #[test]
    fn computes_the_rfc_accept_key() {
        assert_eq!(compute_accept_key(RFC_KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn accepts_canonical_base64_of_16_bytes() {
        assert!(is_valid_key(RFC_KEY));
        assert!(is_valid_key("AAAAAAAAAAAAAAAAAAAAAA=="));
        assert!(is_valid_key("/////////////////////w=="));
    }

    #[test]
    fn rejects_keys_that_are_not_canonical_base64_of_16_bytes() {
        for key in [
            "",
            "dGhlIHNhbXBsZSBub25jZQ",
            "dGhlIHNhbXBsZSBub25jZQ=",
            " dGhlIHNhbXBsZSBub25jZQ==",
            "dGhlIHNhbXBsZSBub25jZQ== ",
            "dGhlIHNhbXBsZSBub25jZR==",
            "dGhlIHNhbXBsZSBub25jZQ==AAAA",
            "dGhlIHNhbXBsZSBub25j",
            "dGhlIHNhbXBsZSBub25jZQ-_",
            "AAAAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
            "dGhlIHNhbXBsZS_ub25jZQ==",
        ] {
            assert!(!is_valid_key(key), "{key:?}");
        }
    }

    #[test]
    fn parses_subprotocols_trimmed_without_empties_in_order() {
        assert_eq!(
            parse_subprotocols("chat, superchat ,, \t v2.json "),
            vec!["chat", "superchat", "v2.json"]
        );
        assert!(parse_subprotocols("").is_empty());
        assert!(parse_subprotocols(" , ,").is_empty());
        assert_eq!(parse_subprotocols("\u{feff}a\u{a0}"), vec!["a"]);
        // JavaScript's trim, which DaloyJS uses, keeps NEL (U+0085).
        assert_eq!(
            parse_subprotocols("\u{85}b\u{85}, c"),
            vec!["\u{85}b\u{85}", "c"]
        );
    }

    #[test]
    fn recognises_http_tokens() {
        assert!(is_http_token("chat"));
        assert!(is_http_token("v2.json!#$%&'*+-^_`|~09AZaz"));
        for bad in ["", "a b", "a,b", "a\"b", "a/b", "a:b", "é", "a\r\nb"] {
            assert!(!is_http_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn accepts_a_valid_upgrade_with_its_accept_key_and_protocols() {
        let headers = UpgradeHeaders {
            protocol: Some("chat, superchat"),
            ..valid_headers()
        };
        let accepted = validate_upgrade(&headers).unwrap();
        assert_eq!(accepted.accept_key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(
            accepted.protocols,
            vec!["chat".to_owned(), "superchat".to_owned()]
        );
        assert!(validate_upgrade(&valid_headers())
            .unwrap()
            .protocols
            .is_empty());
    }

    #[test]
    fn compares_upgrade_and_connection_without_ascii_case() {
        let headers = UpgradeHeaders {
            upgrade: Some("WebSocket"),
            connection: Some("keep-alive, UPGRADE"),
            ..valid_headers()
        };
        assert!(validate_upgrade(&headers).is_ok());
    }

    #[test]
    fn rejects_a_missing_or_wrong_upgrade_header_first() {
        for upgrade in [None, Some(""), Some("websockets"), Some("h2c")] {
            let headers = UpgradeHeaders {
                upgrade,
                version: None,
                key: None,
                connection: None,
                ..valid_headers()
            };
            assert_eq!(
                validate_upgrade(&headers),
                Err(Rejection {
                    status: 400,
                    reason: "Missing or invalid Upgrade header"
                })
            );
        }
    }

    #[test]
    fn rejects_a_connection_header_without_the_upgrade_token() {
        for connection in [
            None,
            Some(""),
            Some("keep-alive"),
            Some("upgraded"),
            Some("keep-alive upgrade"),
        ] {
            let headers = UpgradeHeaders {
                connection,
                version: None,
                key: None,
                ..valid_headers()
            };
            assert_eq!(
                validate_upgrade(&headers),
                Err(Rejection {
                    status: 400,
                    reason: "Missing or invalid Connection header"
                })
            );
        }
    }

    #[test]
    fn rejects_a_version_other_than_13_with_426() {
        for version in [None, Some(""), Some("8"), Some(" 13"), Some("13, 8")] {
            let headers = UpgradeHeaders {
                version,
                key: None,
                ..valid_headers()
            };
            assert_eq!(
                validate_upgrade(&headers),
                Err(Rejection {
                    status: 426,
                    reason: "Unsupported Sec-WebSocket-Version"
                })
            );
        }
    }

    #[test]
    fn rejects_a_missing_or_invalid_key_last() {
        for key in [
            None,
            Some(""),
            Some("short"),
            Some("dGhlIHNhbXBsZSBub25jZQ"),
        ] {
            let headers = UpgradeHeaders {
                key,
                ..valid_headers()
            };
            assert_eq!(
                validate_upgrade(&headers),
                Err(Rejection {
                    status: 400,
                    reason: "Missing or invalid Sec-WebSocket-Key"
                })
            );
        }
    }
}
