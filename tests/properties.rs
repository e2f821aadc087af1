//! Property tests over pseudo-random inputs: nothing panics, every invariant holds, and the
//! streaming sink agrees with the whole-buffer reference decoder however the bytes are split.

mod common;

use common::*;
use daloy_ws_native::close::{
    decode_close_payload, encode_close_payload, is_valid_wire_close_code,
};
use daloy_ws_native::handshake::{
    is_http_token, is_valid_key, parse_subprotocols, validate_upgrade, UpgradeHeaders,
};
use daloy_ws_native::header::{decode_header, parse_frame, DecodeOptions, MAX_SAFE_LENGTH};
use daloy_ws_native::sink::SinkOptions;
use daloy_ws_native::utf8::Utf8Validator;

#[test]
fn sink_agrees_with_the_reference_on_random_frame_streams_split_anywhere() {
    let mut rng = XorShift::new(0x5eed);
    for case in 0..400 {
        let opts = random_options(&mut rng);
        let frames = 1 + rng.below_usize(12);
        let stream = random_stream(&mut rng, frames);
        let expected = reference(opts, &stream);
        let arena = [0, 16, 4096, 1 << 20][rng.below_usize(4)];
        let whole = run_whole(opts, &stream, arena);
        assert_eq!(outcome(&whole), expected, "case {case}: whole");
        let cuts = random_cuts(&mut rng, stream.len());
        let split = run_cut(
            opts,
            &stream,
            &cuts,
            [0, 7, 300, 1 << 16][rng.below_usize(4)],
        );
        assert_eq!(outcome(&split), expected, "case {case}: cut at {cuts:?}");
        // The same pieces parsed in place, as the native transport's reads into the arena are.
        let mut pieces = Vec::new();
        let mut last = 0;
        for &cut in &cuts {
            pieces.push(&stream[last..cut]);
            last = cut;
        }
        pieces.push(&stream[last..]);
        let in_place = run_in_place(opts, pieces, [0, 7, 300, 1 << 16][rng.below_usize(4)]);
        assert_eq!(
            outcome(&in_place),
            expected,
            "case {case}: in place, cut at {cuts:?}"
        );
        let whole_in_place = run_in_place(opts, [stream.as_slice()], arena);
        assert_eq!(
            outcome(&whole_in_place),
            expected,
            "case {case}: whole, in place"
        );
        if stream.len() < 4096 {
            let bytewise = run_bytewise(opts, &stream, arena);
            assert_eq!(
                outcome(&bytewise),
                expected,
                "case {case}: one byte at a time"
            );
        }
    }
}

#[test]
fn sink_never_panics_on_random_bytes_and_ignores_the_split() {
    let mut rng = XorShift::new(0xbad);
    for case in 0..3000 {
        let opts = random_options(&mut rng);
        let len = rng.below_usize(200);
        let mut stream = rng.bytes(len);
        // Bias towards headers that decode: clear the RSV bits of the first byte now and then.
        if let Some(b0) = stream.first_mut() {
            if rng.one_in(2) {
                *b0 &= 0x8f;
            }
        }
        let expected = reference(opts, &stream);
        assert_eq!(
            outcome(&run_whole(opts, &stream, 64)),
            expected,
            "case {case}"
        );
        let cuts = random_cuts(&mut rng, stream.len());
        assert_eq!(
            outcome(&run_cut(opts, &stream, &cuts, rng.below_usize(100))),
            expected,
            "case {case}"
        );
        assert_eq!(
            outcome(&run_bytewise(opts, &stream, 0)),
            expected,
            "case {case}"
        );
    }
}

#[test]
fn sink_keeps_buffering_bounded_whatever_a_peer_sends() {
    let mut rng = XorShift::new(0x11);
    for _ in 0..200 {
        let limit = rng.below(5000);
        let opts = SinkOptions {
            require_mask: false,
            reject_mask: false,
            max_payload_length: limit,
            max_fragments: u32::MAX,
            deflate: None,
        };
        let stream = random_stream(&mut rng, 20);
        let cuts = random_cuts(&mut rng, stream.len());
        let run = run_cut(opts, &stream, &cuts, 128);
        assert!(
            run.max_buffered as u64 <= limit + 14 + 125,
            "held {} with limit {limit}",
            run.max_buffered
        );
    }
}

#[test]
fn decode_header_never_panics_and_is_consistent_with_parse_frame() {
    let mut rng = XorShift::new(0x4ead);
    for _ in 0..20_000 {
        let len = rng.below_usize(24);
        let buf = rng.bytes(len);
        let opts = DecodeOptions {
            require_mask: rng.one_in(2),
            reject_mask: rng.one_in(4),
            max_payload: if rng.one_in(2) {
                None
            } else {
                Some(rng.below(1 << 20))
            },
            allow_rsv1: rng.one_in(2),
        };
        let decoded = decode_header(&buf, &opts);
        let mut copy = buf.clone();
        let parsed = parse_frame(&mut copy, &opts);
        match decoded {
            Err(err) => assert_eq!(parsed, Err(err)),
            Ok(None) => assert_eq!(parsed, Ok(None)),
            Ok(Some(h)) => {
                assert!(h.header_len <= buf.len() && h.header_len <= 14);
                assert!(h.payload_len <= MAX_SAFE_LENGTH);
                if h.opcode & 8 != 0 {
                    assert!(h.fin && h.payload_len <= 125);
                }
                match parsed.unwrap() {
                    None => assert!(h.header_len as u64 + h.payload_len > buf.len() as u64),
                    Some(p) => {
                        assert_eq!(p.consumed as u64, h.header_len as u64 + h.payload_len);
                        assert!(p.consumed <= buf.len());
                        assert_eq!(&copy[p.consumed..], &buf[p.consumed..]);
                    }
                }
            }
        }
        // Decoding never depends on bytes past the header.
        if let Ok(Some(h)) = decode_header(&buf, &opts) {
            assert_eq!(decode_header(&buf[..h.header_len], &opts), Ok(Some(h)));
        }
    }
}

#[test]
fn utf8_validator_agrees_with_std_on_random_near_utf8_split_anywhere() {
    let mut rng = XorShift::new(0x7f8);
    let alphabet: [&[u8]; 12] = [
        b"a",
        "é".as_bytes(),
        "€".as_bytes(),
        "𝄞".as_bytes(),
        &[0x80],
        &[0xbf],
        &[0xc0],
        &[0xe0],
        &[0xed],
        &[0xf0],
        &[0xf4],
        &[0xff],
    ];
    for _ in 0..20_000 {
        let mut bytes = Vec::new();
        for _ in 0..rng.below_usize(12) {
            bytes.extend_from_slice(alphabet[rng.below_usize(alphabet.len())]);
        }
        let expected = std::str::from_utf8(&bytes).is_ok();
        let mut v = Utf8Validator::new();
        let cuts = random_cuts(&mut rng, bytes.len());
        let mut last = 0;
        let mut ok = true;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            let piece = &bytes[last..cut];
            last = cut;
            if v.feed(piece).is_err() {
                ok = false;
                // Failing early is only right when no continuation could repair the prefix.
                let prefix = &bytes[..cut];
                let err = std::str::from_utf8(prefix).unwrap_err();
                assert!(
                    err.error_len().is_some(),
                    "{bytes:02x?} failed at {cut} on a valid prefix"
                );
                break;
            }
            assert!(v.pending_len() <= 3);
        }
        if ok {
            ok = v.finish().is_ok();
        }
        assert_eq!(ok, expected, "{bytes:02x?}");
    }
}

#[test]
fn close_payloads_decode_without_panic_and_round_trip() {
    let mut rng = XorShift::new(0xc105e);
    for _ in 0..20_000 {
        let len = rng.below_usize(20);
        let mut payload = rng.bytes(len);
        if rng.one_in(2) && payload.len() >= 2 {
            payload[..2].copy_from_slice(&(1000 + rng.below(20) as u16).to_be_bytes());
        }
        if let Ok((code, reason)) = decode_close_payload(&payload) {
            assert!(code == 1005 && payload.is_empty() || is_valid_wire_close_code(code));
            if !payload.is_empty() {
                assert_eq!(encode_close_payload(code, reason).unwrap(), payload);
            }
        }
    }
}

#[test]
fn handshake_helpers_never_panic_on_random_strings() {
    let mut rng = XorShift::new(0x4a5);
    let pieces = [
        "\u{85}",
        "\u{feff}",
        "a",
        "Z",
        "=",
        "+",
        "/",
        ",",
        " ",
        "\t",
        "é",
        "upgrade",
        "websocket",
        "13",
        "dGhlIHNhbXBsZSBub25jZQ==",
    ];
    for _ in 0..5000 {
        let mut s = String::new();
        for _ in 0..rng.below_usize(8) {
            s.push_str(pieces[rng.below_usize(pieces.len())]);
        }
        if is_valid_key(&s) {
            assert_eq!(s.len(), 24);
        }
        for p in parse_subprotocols(&s) {
            assert!(!p.is_empty() && !p.contains(','));
            assert_eq!(
                p,
                p.trim_matches(|c: char| c.is_whitespace() && c != '\u{85}' || c == '\u{feff}')
            );
        }
        if is_http_token(&s) {
            assert!(!s.is_empty() && s.is_ascii());
        }
        let headers = UpgradeHeaders {
            upgrade: Some(&s),
            connection: Some(&s),
            version: Some(&s),
            key: Some(&s),
            protocol: Some(&s),
        };
        assert!(validate_upgrade(&headers).is_err());
    }
}
