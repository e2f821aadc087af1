//! permessage-deflate negotiation on arbitrary `Sec-WebSocket-Extensions` values: no panic; the
//! extension grammar yields only tokens; the server's answer is the first offer it can accept,
//! states exactly the agreement and honours its configuration; the client's check agrees with
//! the server on the server's own answers.
#![no_main]

use daloy_ws_native::deflate::{
    accept_offer, negotiate, parse_offers, validate_response, DeflateOptions,
};
use daloy_ws_native::extensions::parse_extensions;
use daloy_ws_native::handshake::is_http_token;
use libfuzzer_sys::fuzz_target;

fn window(byte: u8) -> Option<u8> {
    match byte % 9 {
        0 => None,
        n => Some(n + 7),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((config, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let header = String::from_utf8_lossy(rest);
    let server = DeflateOptions {
        server_no_context_takeover: config[0] & 1 != 0,
        client_no_context_takeover: config[0] & 2 != 0,
        server_max_window_bits: window(config[0] >> 2),
        client_max_window_bits: window(config[1]),
    };
    let client = DeflateOptions {
        server_no_context_takeover: config[1] & 0x10 != 0,
        client_no_context_takeover: config[1] & 0x20 != 0,
        server_max_window_bits: window(config[1] >> 4),
        client_max_window_bits: window(config[0] >> 4),
    };

    for element in parse_extensions(&header).into_iter().flatten() {
        assert!(is_http_token(element.name));
        for param in &element.params {
            assert!(is_http_token(param.name));
            if let Some(value) = &param.value {
                assert!(is_http_token(value), "{value:?}");
            }
        }
    }

    let expected = parse_offers(&header)
        .into_iter()
        .find_map(|offer| offer.and_then(|o| accept_offer(&server, &o)).ok());
    let negotiated = negotiate(&server, &header);
    assert_eq!(negotiated, expected);
    if let Some(n) = negotiated {
        assert!(server.validate().is_ok());
        let a = n.agreement;
        assert!((8..=15).contains(&a.server_max_window_bits));
        assert!((8..=15).contains(&a.client_max_window_bits));
        assert!(a.server_no_context_takeover >= server.server_no_context_takeover);
        assert!(a.client_no_context_takeover >= server.client_no_context_takeover);
        assert!(a.server_max_window_bits <= server.server_max_window_bits.unwrap_or(15));
        assert!(a.client_max_window_bits <= server.client_max_window_bits.unwrap_or(15));
        // The answer is itself a valid element that states exactly the agreement.
        let reparsed = parse_offers(&n.response);
        assert_eq!(reparsed.len(), 1);
        let Ok(stated) = reparsed[0] else {
            panic!("{:?}", n.response)
        };
        assert_eq!(
            stated.server_no_context_takeover,
            a.server_no_context_takeover
        );
        assert_eq!(
            stated.client_no_context_takeover,
            a.client_no_context_takeover
        );
        assert_eq!(
            stated.server_max_window_bits.unwrap_or(15),
            a.server_max_window_bits
        );
        assert_eq!(
            stated.client_max_window_bits.flatten().unwrap_or(15),
            a.client_max_window_bits
        );
        assert_ne!(stated.client_max_window_bits, Some(None));
        // A client with no requirements accepts it and reaches the same agreement.
        match validate_response(&DeflateOptions::default(), &n.response) {
            Ok(Some(agreed)) => assert_eq!(agreed, a),
            other => panic!("answer {:?} read as {other:?}", n.response),
        }
    }

    // The client's check on arbitrary answers: no panic, and never an agreement it cannot keep.
    if let Ok(Some(agreed)) = validate_response(&client, &header) {
        assert!((8..=15).contains(&agreed.client_max_window_bits));
        assert!(agreed.client_max_window_bits <= client.client_max_window_bits.unwrap_or(15));
        assert!(agreed.server_max_window_bits <= client.server_max_window_bits.unwrap_or(15));
        assert!(agreed.server_no_context_takeover >= client.server_no_context_takeover);
    }
});
