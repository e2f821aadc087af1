//! The handshake helpers on arbitrary header values: no panic, keys accepted only in canonical
//! base64 of 16 bytes (checked here by hand), subprotocols trimmed and non-empty, and
//! `validate_upgrade` accepting exactly when every rule holds.
#![no_main]

use daloy_ws_native::handshake::{
    compute_accept_key, is_http_token, is_valid_key, parse_subprotocols, validate_upgrade,
    UpgradeHeaders,
};
use libfuzzer_sys::fuzz_target;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// 22 alphabet characters whose last one carries no bits past the 128th, then `==`.
fn canonical_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b[22..] == *b"=="
        && b[..22].iter().all(|c| ALPHABET.contains(c))
        && ALPHABET
            .iter()
            .position(|&c| c == b[21])
            .is_some_and(|i| i & 0x0f == 0)
}

/// The characters JavaScript's `String.prototype.trim` removes (DaloyJS trims subprotocols with
/// it): Unicode White_Space except U+0085, plus U+FEFF.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Five fields separated by NUL; a field of a single `~` stands for an absent header.
    let mut fields = text.split('\0').map(|f| (f != "~").then_some(f));
    let mut next = || fields.next().flatten();
    let headers = UpgradeHeaders {
        upgrade: next(),
        connection: next(),
        version: next(),
        key: next(),
        protocol: next(),
    };

    for value in [
        headers.upgrade,
        headers.connection,
        headers.version,
        headers.key,
        headers.protocol,
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(is_valid_key(value), canonical_key(value), "{value:?}");
        for protocol in parse_subprotocols(value) {
            assert!(!protocol.is_empty() && !protocol.contains(','));
            assert!(!protocol.starts_with(is_js_space) && !protocol.ends_with(is_js_space));
        }
        if is_http_token(value) {
            assert!(!value.is_empty() && value.is_ascii() && parse_subprotocols(value) == [value]);
        }
    }

    let upgrade_ok = headers
        .upgrade
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let connection_ok = headers.connection.is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim_matches([' ', '\t']).eq_ignore_ascii_case("upgrade"))
    });
    let version_ok = headers.version == Some("13");
    let key_ok = headers.key.is_some_and(canonical_key);
    match validate_upgrade(&headers) {
        Ok(accepted) => {
            assert!(upgrade_ok && connection_ok && version_ok && key_ok);
            let key = headers.key.unwrap_or_default();
            assert_eq!(accepted.accept_key, compute_accept_key(key));
            assert_eq!(accepted.accept_key.len(), 28);
            let expected: Vec<&str> = headers.protocol.map(parse_subprotocols).unwrap_or_default();
            assert_eq!(accepted.protocols, expected);
        }
        Err(rejection) => {
            let expected = if !upgrade_ok {
                (400, "Missing or invalid Upgrade header")
            } else if !connection_ok {
                (400, "Missing or invalid Connection header")
            } else if !version_ok {
                (426, "Unsupported Sec-WebSocket-Version")
            } else {
                assert!(!key_ok);
                (400, "Missing or invalid Sec-WebSocket-Key")
            };
            assert_eq!((rejection.status, rejection.reason), expected);
        }
    }
});
