//! The streaming assembler with permessage-deflate negotiated (RFC 7692): RSV1 accepted on the
//! first frame of a data message only, compressed messages inflated within the payload limit,
//! fragments and fail-fast UTF-8 on the inflated bytes. Every stream is also fed split at every
//! byte offset and one byte at a time, with arenas of several sizes: the events must not depend on
//! how the bytes arrive.

mod common;

use common::*;
use daloy_ws_native::deflate::{Deflater, StreamParams};
use daloy_ws_native::error::{ErrorKind, ProtocolError};
use daloy_ws_native::sink::{EventKind, SinkOptions};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const ARENAS: [usize; 4] = [0, 7, 300, 1 << 20];

fn params(no_context_takeover: bool) -> StreamParams {
    StreamParams {
        window_bits: 15,
        no_context_takeover,
    }
}

fn deflate_opts(no_context_takeover: bool) -> SinkOptions {
    SinkOptions {
        require_mask: true,
        deflate: Some(params(no_context_takeover)),
        ..SinkOptions::default()
    }
}

/// Feeds `stream` whole, split at every offset and byte by byte, with every arena size, and checks
/// that each run reports `expected`.
fn assert_stream(opts: SinkOptions, stream: &[u8], expected: &(Vec<Seen>, Option<ProtocolError>)) {
    for arena in ARENAS {
        assert_eq!(
            &outcome(&run_whole(opts, stream, arena)),
            expected,
            "whole, arena {arena}"
        );
        assert_eq!(
            &outcome(&run_bytewise(opts, stream, arena)),
            expected,
            "bytewise, arena {arena}"
        );
        for cut in 0..=stream.len() {
            assert_eq!(
                &outcome(&run_cut(opts, stream, &[cut], arena)),
                expected,
                "cut at {cut}, arena {arena}"
            );
        }
    }
}

fn text(bytes: &[u8]) -> Seen {
    (EventKind::Text, bytes.to_vec(), 0)
}

fn err(kind: ErrorKind) -> Option<ProtocolError> {
    Some(ProtocolError::new(kind))
}

/// RFC 7692 §7.2.3.1: "Hello" compressed, in one frame.
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

#[test]
fn inflates_the_rfc_hello_in_one_frame() {
    for nct in [false, true] {
        let stream = raw_frame(0xc1, &HELLO, Some(KEY));
        assert_stream(deflate_opts(nct), &stream, &(vec![text(b"Hello")], None));
    }
}

#[test]
fn inflates_the_rfc_hello_in_two_fragments_with_a_ping_between() {
    // §7.2.3.1: the same compressed data in two frames; RSV1 only on the first.
    let mut stream = raw_frame(0x41, &HELLO[..3], Some(KEY));
    stream.extend(frame(true, 0x9, b"hi", Some(KEY)));
    stream.extend(raw_frame(0x80, &HELLO[3..], Some(KEY)));
    let expected = vec![(EventKind::Ping, b"hi".to_vec(), 0), text(b"Hello")];
    assert_stream(deflate_opts(false), &stream, &(expected, None));
}

#[test]
fn inflates_the_second_hello_with_context_takeover() {
    // §7.2.3.2: the second "Hello" refers back to the first.
    let mut stream = raw_frame(0xc1, &HELLO, Some(KEY));
    stream.extend(raw_frame(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00], Some(KEY)));
    let expected = vec![text(b"Hello"), text(b"Hello")];
    assert_stream(deflate_opts(false), &stream, &(expected, None));
    // Without context takeover the reference back is invalid data (1007).
    assert_stream(
        deflate_opts(true),
        &stream,
        &(vec![text(b"Hello")], err(ErrorKind::InvalidCompressedData)),
    );
}

#[test]
fn mixes_compressed_and_uncompressed_messages() {
    let mut stream = frame(true, 0x2, &[1, 2, 3], Some(KEY));
    stream.extend(raw_frame(0xc1, &HELLO, Some(KEY)));
    stream.extend(frame(true, 0x1, b"plain", Some(KEY)));
    // An empty compressed message: the single byte 0x00 (§7.2.3.6), and no byte at all.
    stream.extend(raw_frame(0xc2, &[0x00], Some(KEY)));
    stream.extend(raw_frame(0xc2, &[], Some(KEY)));
    let expected = vec![
        (EventKind::Binary, vec![1, 2, 3], 0),
        text(b"Hello"),
        text(b"plain"),
        (EventKind::Binary, vec![], 0),
        (EventKind::Binary, vec![], 0),
    ];
    assert_stream(deflate_opts(false), &stream, &(expected, None));
}

#[test]
fn refuses_rsv1_without_the_extension() {
    let stream = raw_frame(0xc1, &HELLO, Some(KEY));
    let opts = SinkOptions {
        require_mask: true,
        ..SinkOptions::default()
    };
    assert_stream(
        opts,
        &stream,
        &(vec![], err(ErrorKind::ReservedBits { rsv1: true })),
    );
}

#[test]
fn refuses_rsv1_on_control_frames_and_continuations() {
    let rsv1 = err(ErrorKind::ReservedBits { rsv1: true });
    for b0 in [0xc9u8, 0xca, 0xc8] {
        let stream = raw_frame(b0, &[], Some(KEY));
        assert_stream(deflate_opts(false), &stream, &(vec![], rsv1));
    }
    // A continuation with RSV1, after a compressed and after an uncompressed first frame.
    for (first, part) in [(0x41u8, &HELLO[..3]), (0x01, &b"Hel"[..])] {
        let mut stream = raw_frame(first, part, Some(KEY));
        stream.extend(raw_frame(0xc0, &HELLO[3..], Some(KEY)));
        assert_stream(deflate_opts(false), &stream, &(vec![], rsv1));
    }
    // RSV2 and RSV3 stay errors.
    for b0 in [0xa1u8, 0x91, 0xe1] {
        let stream = raw_frame(b0, &HELLO, Some(KEY));
        let rsv1 = b0 & 0x40 != 0;
        assert_stream(
            deflate_opts(false),
            &stream,
            &(vec![], err(ErrorKind::ReservedBits { rsv1 })),
        );
    }
}

#[test]
fn round_trips_deflater_messages_split_at_every_offset() {
    for nct in [false, true] {
        let mut deflater = Deflater::new(params(nct), 6);
        let messages: Vec<Vec<u8>> = (0..4)
            .map(|i| {
                format!("{{\"id\":{i},\"name\":\"ünïcødé {i}\",\"tags\":[\"a\",\"b\",\"c\"]}}")
                    .repeat(3 + i)
                    .into_bytes()
            })
            .collect();
        let mut stream = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            let mut compressed = Vec::new();
            deflater.deflate(message, &mut compressed).unwrap();
            if i % 2 == 0 {
                stream.extend(raw_frame(0xc1, &compressed, Some(KEY)));
            } else {
                // Fragmented in three, RSV1 on the first only.
                let (a, rest) = compressed.split_at(compressed.len() / 3);
                let (b, c) = rest.split_at(rest.len() / 2);
                stream.extend(raw_frame(0x41, a, Some(KEY)));
                stream.extend(raw_frame(0x00, b, Some(KEY)));
                stream.extend(raw_frame(0x80, c, Some(KEY)));
            }
        }
        let expected = messages.iter().map(|m| text(m)).collect();
        assert_stream(deflate_opts(nct), &stream, &(expected, None));
    }
}

#[test]
fn refuses_a_message_that_inflates_past_the_limit() {
    let mut deflater = Deflater::new(params(true), 6);
    let mut compressed = Vec::new();
    deflater.deflate(&[b'a'; 5000], &mut compressed).unwrap();
    assert!(compressed.len() < 100);
    let stream = raw_frame(0xc2, &compressed, Some(KEY));
    let opts = SinkOptions {
        max_payload_length: 4999,
        ..deflate_opts(true)
    };
    assert_stream(
        opts,
        &stream,
        &(
            vec![],
            err(ErrorKind::PayloadTooLarge {
                limit: 4999,
                actual: 5000,
            }),
        ),
    );
    let exact = SinkOptions {
        max_payload_length: 5000,
        ..deflate_opts(true)
    };
    let expected = vec![(EventKind::Binary, vec![b'a'; 5000], 0)];
    assert_stream(exact, &stream, &(expected, None));
}

#[test]
fn refuses_a_small_frame_that_inflates_to_a_megabyte_while_holding_at_most_the_limit() {
    let mut deflater = Deflater::new(params(true), 9);
    let mut compressed = Vec::new();
    deflater
        .deflate(&vec![0u8; 1 << 20], &mut compressed)
        .unwrap();
    assert!(compressed.len() < 2048, "{}", compressed.len());
    let stream = raw_frame(0xc2, &compressed, Some(KEY));
    let opts = SinkOptions {
        max_payload_length: 64 * 1024,
        ..deflate_opts(true)
    };
    for cuts in [vec![], (1..stream.len()).step_by(97).collect::<Vec<_>>()] {
        let run = run_cut(opts, &stream, &cuts, 300);
        assert_eq!(run.events, vec![]);
        assert!(matches!(
            run.error.map(|e| e.kind),
            Some(ErrorKind::PayloadTooLarge { limit: 65536, .. })
        ));
        assert!(run.max_buffered <= 64 * 1024 + 1, "{}", run.max_buffered);
    }
}

#[test]
fn fails_fast_on_invalid_inflated_utf8() {
    // A compressed text message whose second fragment never arrives: the invalid byte in the first
    // part is refused as soon as it is inflated.
    let mut deflater = Deflater::new(params(true), 6);
    let mut compressed = Vec::new();
    let mut payload = b"valid text, then ".to_vec();
    payload.push(0xff);
    payload.extend_from_slice(&[b'x'; 200]);
    deflater.deflate(&payload, &mut compressed).unwrap();
    let stream = raw_frame(0x41, &compressed, Some(KEY));
    assert_stream(
        deflate_opts(true),
        &stream,
        &(vec![], err(ErrorKind::InvalidUtf8)),
    );
    // A truncated sequence at the end of the message.
    let mut compressed = Vec::new();
    deflater
        .deflate(&[b'a', 0xe2, 0x82], &mut compressed)
        .unwrap();
    let stream = raw_frame(0xc1, &compressed, Some(KEY));
    assert_stream(
        deflate_opts(true),
        &stream,
        &(vec![], err(ErrorKind::InvalidUtf8)),
    );
}

#[test]
fn refuses_data_that_is_not_deflate() {
    let stream = raw_frame(0xc2, &[0xff, 0xff, 0xff, 0xff], Some(KEY));
    assert_stream(
        deflate_opts(false),
        &stream,
        &(vec![], err(ErrorKind::InvalidCompressedData)),
    );
}

#[test]
fn reports_invalid_inflated_utf8_before_later_corrupt_data_whatever_the_split() {
    // Text, the end of the empty stored block the sync flush began, then a block of reserved type
    // (0xff: BFINAL, BTYPE 11). With an invalid byte in the text the UTF-8 error comes first in the
    // inflated bytes, so it is the one reported, however the bytes arrive; without, the data error.
    let cases: [(&[u8], ErrorKind); 2] = [
        (b"valid, then \xff and more", ErrorKind::InvalidUtf8),
        (b"valid text only", ErrorKind::InvalidCompressedData),
    ];
    let mut deflater = Deflater::new(params(true), 6);
    for (text, kind) in cases {
        let mut compressed = Vec::new();
        deflater.deflate(text, &mut compressed).unwrap();
        compressed.extend_from_slice(&[0x00, 0x00, 0xff, 0xff, 0xff]);
        let stream = raw_frame(0xc1, &compressed, Some(KEY));
        assert_stream(deflate_opts(true), &stream, &(vec![], err(kind)));
    }
}
