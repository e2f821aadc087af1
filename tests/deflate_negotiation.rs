//! permessage-deflate negotiation (RFC 7692 §5, §7.1): offer → response or decline for each
//! server configuration, and the client's check of a server's response.

use daloy_ws_native::deflate::{
    build_offer, negotiate, parse_offers, validate_response, Agreement, DeflateOptions,
    DeflateParams, NegotiationError, StreamParams,
};

const DEFAULT: DeflateOptions = DeflateOptions {
    server_no_context_takeover: false,
    client_no_context_takeover: false,
    server_max_window_bits: None,
    client_max_window_bits: None,
};

const SHARED: DeflateOptions = DeflateOptions {
    server_no_context_takeover: true,
    client_no_context_takeover: true,
    ..DEFAULT
};

fn answer(opts: &DeflateOptions, header: &str) -> Option<String> {
    negotiate(opts, header).map(|n| n.response)
}

fn check(opts: &DeflateOptions, table: &[(&str, Option<&str>)]) {
    for &(offer, expected) in table {
        assert_eq!(
            answer(opts, offer).as_deref(),
            expected,
            "{opts:?} offered {offer:?}"
        );
    }
}

#[test]
fn answers_offers_with_the_default_configuration() {
    check(
        &DEFAULT,
        &[
            ("permessage-deflate", Some("permessage-deflate")),
            (
                "permessage-deflate; client_max_window_bits",
                Some("permessage-deflate"),
            ),
            (
                "permessage-deflate; client_max_window_bits=10",
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                "permessage-deflate; server_max_window_bits=9",
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            (
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
            (
                "permessage-deflate;client_no_context_takeover;server_max_window_bits=15;client_max_window_bits=15",
                Some("permessage-deflate; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=15"),
            ),
            // RFC 6455 §9.1: a quoted value is the token it contains.
            (
                "permessage-deflate; server_max_window_bits=\"12\"",
                Some("permessage-deflate; server_max_window_bits=12"),
            ),
            // A peer that compresses with 8 bits is fine: it is inflated with a 9-bit window.
            (
                "permessage-deflate; client_max_window_bits=8",
                Some("permessage-deflate; client_max_window_bits=8"),
            ),
            ("x-webkit-deflate-frame, permessage-deflate", Some("permessage-deflate")),
            ("x-webkit-deflate-frame", None),
            ("", None),
            // Extension names are compared exactly.
            ("Permessage-Deflate", None),
        ],
    );
}

#[test]
fn declines_an_invalid_offer_and_takes_the_next() {
    let declined = [
        "permessage-deflate; foo",
        "permessage-deflate; foo=1",
        "permessage-deflate; Server_No_Context_Takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=1a",
        "permessage-deflate; server_max_window_bits=-9",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=\"\"",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"true\"",
        // Grammar errors: the element is declined like an invalid offer.
        "permessage-deflate; server_max_window_bits=1 0",
        "permessage-deflate;; client_max_window_bits",
        "permessage-deflate client_max_window_bits",
        "permessage-deflate; server_max_window_bits=\"1,0\"",
    ];
    for offer in declined {
        assert_eq!(answer(&DEFAULT, offer), None, "{offer:?}");
        let with_fallback = format!("{offer}, permessage-deflate; client_max_window_bits=12");
        assert_eq!(
            answer(&DEFAULT, &with_fallback).as_deref(),
            Some("permessage-deflate; client_max_window_bits=12"),
            "{with_fallback:?}"
        );
    }
}

#[test]
fn takes_the_first_acceptable_offer_across_joined_header_lines() {
    let header = [
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=10, permessage-deflate",
    ]
    .join(", ");
    assert_eq!(
        answer(&DEFAULT, &header).as_deref(),
        Some("permessage-deflate; server_max_window_bits=10")
    );
}

#[test]
fn adds_the_no_context_takeover_flags_in_shared_mode() {
    check(
        &SHARED,
        &[
            (
                "permessage-deflate",
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
            (
                "permessage-deflate; client_max_window_bits",
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
        ],
    );
}

#[test]
fn limits_the_server_window_to_the_smaller_of_offer_and_configuration() {
    let opts = DeflateOptions {
        server_max_window_bits: Some(10),
        ..DEFAULT
    };
    check(
        &opts,
        &[
            (
                "permessage-deflate",
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            (
                "permessage-deflate; server_max_window_bits=12",
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            (
                "permessage-deflate; server_max_window_bits=9",
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            // Compressed with 9 bits, which never reach back further than 8 bits hold.
            (
                "permessage-deflate; server_max_window_bits=8",
                Some("permessage-deflate; server_max_window_bits=8"),
            ),
        ],
    );
}

#[test]
fn limits_the_client_window_only_when_the_offer_allows_it() {
    let opts = DeflateOptions {
        client_max_window_bits: Some(10),
        ..DEFAULT
    };
    check(
        &opts,
        &[
            // §7.1.2.2: without the parameter in the offer the response "MUST NOT include" it,
            // and this server will not inflate with a larger window than configured.
            ("permessage-deflate", None),
            (
                "permessage-deflate; client_max_window_bits",
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                "permessage-deflate; client_max_window_bits=12",
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                "permessage-deflate; client_max_window_bits=9",
                Some("permessage-deflate; client_max_window_bits=9"),
            ),
            (
                "permessage-deflate, permessage-deflate; client_max_window_bits",
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
        ],
    );
}

#[test]
fn an_invalid_configuration_is_reported_and_negotiates_nothing() {
    for bits in [0, 7, 16, 255] {
        let server = DeflateOptions {
            server_max_window_bits: Some(bits),
            ..DEFAULT
        };
        assert_eq!(
            server.validate(),
            Err(NegotiationError::InvalidOption("server_max_window_bits"))
        );
        assert_eq!(answer(&server, "permessage-deflate"), None);
        let client = DeflateOptions {
            client_max_window_bits: Some(bits),
            ..DeflateOptions::default()
        };
        assert_eq!(
            build_offer(&client),
            Err(NegotiationError::InvalidOption("client_max_window_bits"))
        );
    }
}

#[test]
fn reports_why_an_offer_is_declined() {
    let offers = parse_offers(
        "permessage-deflate; a, permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate; client_max_window_bits=99, permessage-deflate;",
    );
    assert_eq!(
        offers,
        vec![
            Err(NegotiationError::UnknownParameter("a".into())),
            Err(NegotiationError::DuplicateParameter(
                "server_no_context_takeover".into()
            )),
            Err(NegotiationError::InvalidValue(
                "client_max_window_bits".into()
            )),
            Err(NegotiationError::Syntax),
        ]
    );
    assert_eq!(
        parse_offers("permessage-deflate; client_max_window_bits; server_max_window_bits=11"),
        vec![Ok(DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: Some(11),
            client_max_window_bits: Some(None),
        })]
    );
}

#[test]
fn gives_each_direction_its_parameters() {
    let negotiated = negotiate(
        &DEFAULT,
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
    )
    .unwrap();
    assert_eq!(
        negotiated.agreement,
        Agreement {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: 10,
            client_max_window_bits: 12,
        }
    );
    assert_eq!(
        negotiated.agreement.server_to_client(),
        StreamParams {
            window_bits: 10,
            no_context_takeover: true
        }
    );
    assert_eq!(
        negotiated.agreement.client_to_server(),
        StreamParams {
            window_bits: 12,
            no_context_takeover: false
        }
    );
    // §7.1.2.1: an offered server_max_window_bits is always answered, even with 15.
    assert_eq!(
        answer(&DEFAULT, "permessage-deflate; server_max_window_bits=15").as_deref(),
        Some("permessage-deflate; server_max_window_bits=15")
    );
}

#[test]
fn builds_client_offers() {
    assert_eq!(
        build_offer(&DeflateOptions::default()).unwrap(),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(
        build_offer(&DeflateOptions {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(11),
        })
        .unwrap(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11"
    );
}

fn agreement(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> Agreement {
    Agreement {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    }
}

#[test]
fn accepts_valid_server_responses() {
    let default = DeflateOptions::default();
    let table: &[(DeflateOptions, &str, Option<Agreement>)] = &[
        (default, "", None),
        (
            default,
            "permessage-deflate",
            Some(agreement(false, false, 15, 15)),
        ),
        (
            default,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            Some(agreement(true, true, 15, 15)),
        ),
        // Windows of 8 bits, both ways.
        (
            default,
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
            Some(agreement(false, false, 8, 8)),
        ),
        (
            DeflateOptions {
                client_max_window_bits: Some(11),
                client_no_context_takeover: true,
                ..default
            },
            "permessage-deflate",
            Some(agreement(false, true, 15, 11)),
        ),
        (
            DeflateOptions {
                client_max_window_bits: Some(11),
                ..default
            },
            "permessage-deflate; client_max_window_bits=10",
            Some(agreement(false, false, 15, 10)),
        ),
        (
            DeflateOptions {
                server_max_window_bits: Some(12),
                server_no_context_takeover: true,
                ..default
            },
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
            Some(agreement(true, false, 11, 15)),
        ),
    ];
    for (opts, response, expected) in table {
        assert_eq!(
            validate_response(opts, response),
            Ok(*expected),
            "{opts:?} got {response:?}"
        );
    }
}

#[test]
fn fails_on_invalid_server_responses() {
    let default = DeflateOptions::default();
    let wants_server_limits = DeflateOptions {
        server_no_context_takeover: true,
        server_max_window_bits: Some(10),
        ..default
    };
    let table: &[(DeflateOptions, &str, NegotiationError)] = &[
        (
            default,
            "x-webkit-deflate-frame",
            NegotiationError::UnexpectedExtension("x-webkit-deflate-frame".into()),
        ),
        (
            default,
            "permessage-deflate, permessage-deflate",
            NegotiationError::UnexpectedExtension("permessage-deflate".into()),
        ),
        (
            default,
            "permessage-deflate; x",
            NegotiationError::UnknownParameter("x".into()),
        ),
        (
            default,
            "permessage-deflate; client_max_window_bits",
            NegotiationError::InvalidValue("client_max_window_bits".into()),
        ),
        (default, "permessage-deflate;", NegotiationError::Syntax),
        (
            wants_server_limits,
            "permessage-deflate; server_max_window_bits=10",
            NegotiationError::MissingParameter("server_no_context_takeover"),
        ),
        (
            wants_server_limits,
            "permessage-deflate; server_no_context_takeover",
            NegotiationError::MissingParameter("server_max_window_bits"),
        ),
        (
            wants_server_limits,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
            NegotiationError::WindowBitsAboveOffer,
        ),
    ];
    for (opts, response, expected) in table {
        assert_eq!(
            validate_response(opts, response).as_ref(),
            Err(expected),
            "{opts:?} got {response:?}"
        );
    }
}

#[test]
fn client_and_server_reach_the_same_agreement() {
    let windows = [None, Some(8), Some(9), Some(12), Some(15)];
    for client_flags in 0..4u8 {
        for server_flags in 0..4u8 {
            for &cw in &windows {
                for &sw in &windows {
                    let client = DeflateOptions {
                        server_no_context_takeover: client_flags & 1 != 0,
                        client_no_context_takeover: client_flags & 2 != 0,
                        server_max_window_bits: sw,
                        client_max_window_bits: cw,
                    };
                    let server = DeflateOptions {
                        server_no_context_takeover: server_flags & 1 != 0,
                        client_no_context_takeover: server_flags & 2 != 0,
                        server_max_window_bits: cw,
                        client_max_window_bits: sw,
                    };
                    let offer = build_offer(&client).unwrap();
                    let negotiated = negotiate(&server, &offer)
                        .unwrap_or_else(|| panic!("{server:?} declined {offer:?}"));
                    let agreed = validate_response(&client, &negotiated.response)
                        .unwrap_or_else(|e| panic!("{client:?} refused {negotiated:?}: {e}"))
                        .unwrap();
                    assert_eq!(agreed, negotiated.agreement, "{offer:?} -> {negotiated:?}");
                }
            }
        }
    }
}
