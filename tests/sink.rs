//! The streaming assembler against RFC 6455 §5.7's examples and every rule it enforces, each
//! input also fed split at every byte offset and one byte at a time, with arenas of several
//! sizes: the events must not depend on how the bytes arrive.

mod common;

use common::*;
use daloy_ws_native::error::{ErrorKind, ProtocolError};
use daloy_ws_native::message_buffers;
use daloy_ws_native::sink::{EventKind, FrameSink, Payload, SinkOptions, ARENA_MAX_COPY};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const ARENAS: [usize; 4] = [0, 7, 300, 1 << 20];

fn opts() -> SinkOptions {
    SinkOptions::default()
}

fn server() -> SinkOptions {
    SinkOptions {
        require_mask: true,
        ..SinkOptions::default()
    }
}

fn err(kind: ErrorKind) -> Option<ProtocolError> {
    Some(ProtocolError::new(kind))
}

/// Feeds `stream` whole, split in two at every offset, split in three at a spread of offsets and
/// one byte at a time, with every arena size; asserts that each run gives `expected` and returns
/// the largest `buffered_len` seen.
fn assert_stream(
    o: SinkOptions,
    stream: &[u8],
    expected: &[(EventKind, &[u8], u16)],
    error: Option<ProtocolError>,
) -> usize {
    let expected: Vec<Seen> = expected
        .iter()
        .map(|(k, b, c)| (*k, b.to_vec(), *c))
        .collect();
    let mut max_buffered = 0;
    let mut check = |run: Run, how: &str| {
        assert_eq!(outcome(&run), (expected.clone(), error), "{how}");
        max_buffered = max_buffered.max(run.max_buffered);
    };
    assert_eq!(
        reference(o, stream),
        (expected.clone(), error),
        "reference decoder"
    );
    for &arena in &ARENAS {
        check(
            run_whole(o, stream, arena),
            &format!("whole, arena {arena}"),
        );
        check(
            run_bytewise(o, stream, arena),
            &format!("one byte at a time, arena {arena}"),
        );
    }
    for cut in 0..=stream.len() {
        let arena = ARENAS[cut % ARENAS.len()];
        check(
            run_cut(o, stream, &[cut], arena),
            &format!("cut at {cut}, arena {arena}"),
        );
    }
    let step = (stream.len() / 17).max(1);
    for a in (0..=stream.len()).step_by(step) {
        for b in (a..=stream.len()).step_by(step) {
            check(
                run_cut(o, stream, &[a, b], 300),
                &format!("cut at {a} and {b}"),
            );
        }
    }
    max_buffered
}

#[test]
fn decodes_the_rfc_single_frame_unmasked_text() {
    let stream = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_stream(opts(), &stream, &[(EventKind::Text, b"Hello", 0)], None);
}

#[test]
fn decodes_the_rfc_single_frame_masked_text() {
    let stream = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_stream(server(), &stream, &[(EventKind::Text, b"Hello", 0)], None);
}

#[test]
fn reassembles_the_rfc_fragmented_unmasked_text() {
    let stream = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    assert_stream(opts(), &stream, &[(EventKind::Text, b"Hello", 0)], None);
}

#[test]
fn decodes_the_rfc_unmasked_ping() {
    let stream = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_stream(opts(), &stream, &[(EventKind::Ping, b"Hello", 0)], None);
}

#[test]
fn decodes_the_rfc_masked_pong() {
    let stream = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_stream(server(), &stream, &[(EventKind::Pong, b"Hello", 0)], None);
}

#[test]
fn decodes_the_rfc_256_byte_binary_with_a_16_bit_length() {
    let payload: Vec<u8> = (0..=255u8).collect();
    let mut stream = vec![0x82, 0x7e, 0x01, 0x00];
    stream.extend_from_slice(&payload);
    assert_stream(opts(), &stream, &[(EventKind::Binary, &payload, 0)], None);
}

#[test]
fn decodes_the_rfc_64_kib_binary_with_a_64_bit_length() {
    let mut rng = XorShift::new(64);
    let payload = rng.bytes(65536);
    let mut stream = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
    stream.extend_from_slice(&payload);
    let expected = [(EventKind::Binary, payload.as_slice(), 0)];
    assert_eq!(
        reference(opts(), &stream),
        (vec![(EventKind::Binary, payload.clone(), 0)], None)
    );
    for &arena in &ARENAS {
        assert_eq!(run_whole(opts(), &stream, arena).seen(), expected);
        assert_eq!(run_bytewise(opts(), &stream, arena).seen(), expected);
    }
    for cut in 0..=stream.len() {
        let run = run_cut(opts(), &stream, &[cut], ARENAS[cut % ARENAS.len()]);
        assert_eq!(
            (run.seen(), run.error),
            (expected.to_vec(), None),
            "cut at {cut}"
        );
    }
}

#[test]
fn decodes_a_masked_64_kib_text_split_anywhere() {
    let mut rng = XorShift::new(65);
    let payload = rng.text(70_000);
    let stream = frame(true, 0x1, &payload, Some([1, 2, 3, 4]));
    let expected = [(EventKind::Text, payload.as_slice(), 0)];
    for cut in (0..=stream.len()).step_by(97).chain(0..20) {
        let run = run_cut(server(), &stream, &[cut], 0);
        assert_eq!(
            (run.seen(), run.error),
            (expected.to_vec(), None),
            "cut at {cut}"
        );
    }
    assert_eq!(run_bytewise(server(), &stream, 1 << 20).seen(), expected);
}

#[test]
fn decodes_every_rfc_example_in_one_stream() {
    let mut stream = Vec::new();
    stream.extend_from_slice(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    stream.extend_from_slice(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    stream.extend_from_slice(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
    stream.extend_from_slice(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    stream.extend_from_slice(&[0x80, 0x02, 0x6c, 0x6f]);
    stream.extend_from_slice(&[
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    let payload: Vec<u8> = (0..=255u8).collect();
    stream.extend_from_slice(&[0x82, 0x7e, 0x01, 0x00]);
    stream.extend_from_slice(&payload);
    stream.extend_from_slice(&frame(true, 0x8, &[0x03, 0xe8, b'o', b'k'], Some(KEY)));
    stream.extend_from_slice(&frame(true, 0x1, b"ignored after CLOSE", None));
    assert_stream(
        opts(),
        &stream,
        &[
            (EventKind::Text, b"Hello", 0),
            (EventKind::Text, b"Hello", 0),
            (EventKind::Ping, b"Hello", 0),
            (EventKind::Text, b"Hello", 0),
            (EventKind::Pong, b"Hello", 0),
            (EventKind::Binary, &payload, 0),
            (EventKind::Close, b"ok", 1000),
        ],
        None,
    );
}

#[test]
fn reports_a_close_with_its_code_and_reason_then_ignores_the_rest() {
    let mut stream = frame(true, 0x8, &[0x0f, 0xa1, b'b', b'y', b'e'], Some(KEY));
    stream.extend_from_slice(&[0xff, 0xff, 0xff]);
    assert_stream(server(), &stream, &[(EventKind::Close, b"bye", 4001)], None);
}

#[test]
fn reports_an_empty_close_as_1005() {
    assert_stream(
        server(),
        &frame(true, 0x8, &[], Some(KEY)),
        &[(EventKind::Close, b"", 1005)],
        None,
    );
}

#[test]
fn ignores_every_push_after_a_close() {
    let mut sink = FrameSink::new(opts());
    let mut events = Vec::new();
    let outcome = sink.push(&frame(true, 0x8, &[0x03, 0xe8], None), &mut [], &mut events);
    assert_eq!(outcome.error, None);
    assert!(sink.is_done());
    events.clear();
    let outcome = sink.push(&frame(true, 0x1, b"late", None), &mut [0; 16], &mut events);
    assert_eq!(
        (outcome.arena_used, outcome.error, events.len()),
        (0, None, 0)
    );
}

#[test]
fn ignores_every_push_after_an_error() {
    let mut sink = FrameSink::new(opts());
    let mut events = Vec::new();
    let outcome = sink.push(&[0xc1, 0x00], &mut [], &mut events);
    assert_eq!(outcome.error, err(ErrorKind::ReservedBits { rsv1: true }));
    assert!(sink.is_done());
    let outcome = sink.push(&frame(true, 0x1, b"late", None), &mut [0; 16], &mut events);
    assert_eq!(
        (outcome.arena_used, outcome.error, events.len()),
        (0, None, 0)
    );
}

#[test]
fn keeps_the_events_completed_before_an_error() {
    let mut stream = frame(true, 0x2, b"one", None);
    stream.extend_from_slice(&frame(true, 0x9, b"two", None));
    stream.extend_from_slice(&[0x83, 0x00]);
    stream.extend_from_slice(&frame(true, 0x2, b"never", None));
    assert_stream(
        opts(),
        &stream,
        &[(EventKind::Binary, b"one", 0), (EventKind::Ping, b"two", 0)],
        err(ErrorKind::UnknownDataOpcode(3)),
    );
}

#[test]
fn delivers_control_frames_interleaved_between_fragments_in_wire_order() {
    let mut stream = frame(false, 0x1, "Hé".as_bytes(), Some(KEY));
    stream.extend_from_slice(&frame(true, 0x9, b"p1", Some(KEY)));
    stream.extend_from_slice(&frame(false, 0x0, "ll".as_bytes(), Some([9, 9, 9, 9])));
    stream.extend_from_slice(&frame(true, 0xa, b"", Some(KEY)));
    stream.extend_from_slice(&frame(true, 0x9, &[0x55; 125], Some(KEY)));
    stream.extend_from_slice(&frame(true, 0x0, "o€".as_bytes(), Some([1, 2, 3, 4])));
    stream.extend_from_slice(&frame(true, 0x2, &[1, 2, 3], Some(KEY)));
    assert_stream(
        server(),
        &stream,
        &[
            (EventKind::Ping, b"p1", 0),
            (EventKind::Pong, b"", 0),
            (EventKind::Ping, &[0x55; 125], 0),
            (EventKind::Text, "Héllo€".as_bytes(), 0),
            (EventKind::Binary, &[1, 2, 3], 0),
        ],
        None,
    );
}

#[test]
fn carries_the_mask_phase_across_splits_inside_fragments() {
    let mut rng = XorShift::new(7);
    let mut stream = Vec::new();
    let mut whole = Vec::new();
    for (i, len) in [1usize, 2, 3, 5, 6, 7, 9, 130].iter().enumerate() {
        let piece = rng.bytes(*len);
        whole.extend_from_slice(&piece);
        let fin = i == 7;
        let opcode = if i == 0 { 0x2 } else { 0x0 };
        stream.extend_from_slice(&frame(
            fin,
            opcode,
            &piece,
            Some([0x11 * i as u8, 0x22, 0x33, 0x44 + i as u8]),
        ));
    }
    assert_stream(server(), &stream, &[(EventKind::Binary, &whole, 0)], None);
}

#[test]
fn accepts_empty_messages_and_empty_fragments() {
    let mut stream = frame(true, 0x1, b"", None);
    stream.extend_from_slice(&frame(false, 0x2, b"", None));
    stream.extend_from_slice(&frame(false, 0x0, b"", None));
    stream.extend_from_slice(&frame(true, 0x0, b"", None));
    stream.extend_from_slice(&frame(false, 0x1, b"", None));
    stream.extend_from_slice(&frame(true, 0x0, b"x", None));
    assert_stream(
        opts(),
        &stream,
        &[
            (EventKind::Text, b"", 0),
            (EventKind::Binary, b"", 0),
            (EventKind::Text, b"x", 0),
        ],
        None,
    );
}

#[test]
fn accepts_a_non_minimal_length_encoding() {
    // RFC 6455 §5.2 asks senders for the minimal encoding; like DaloyJS and ws, a receiver
    // takes any encoding of a valid length.
    let stream = [
        0x82, 0x7e, 0x00, 0x02, 0xaa, 0xbb, 0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 1, 0xcc,
    ];
    assert_stream(
        opts(),
        &stream,
        &[
            (EventKind::Binary, &[0xaa, 0xbb], 0),
            (EventKind::Binary, &[0xcc], 0),
        ],
        None,
    );
}

#[test]
fn rejects_reserved_bits() {
    assert_stream(
        opts(),
        &[0xc1, 0x00],
        &[],
        err(ErrorKind::ReservedBits { rsv1: true }),
    );
    assert_stream(
        opts(),
        &[0xa1, 0x00],
        &[],
        err(ErrorKind::ReservedBits { rsv1: false }),
    );
    assert_stream(
        opts(),
        &[0x91, 0x00],
        &[],
        err(ErrorKind::ReservedBits { rsv1: false }),
    );
}

#[test]
fn rejects_a_control_frame_with_fin_clear() {
    assert_stream(
        opts(),
        &[0x09, 0x00],
        &[],
        err(ErrorKind::FragmentedControl),
    );
}

#[test]
fn rejects_a_control_frame_longer_than_125_bytes() {
    let stream = [&[0x89u8, 0x7e, 0x00, 0x7e][..], &[0u8; 126]].concat();
    assert_stream(opts(), &stream, &[], err(ErrorKind::ControlTooLong));
}

#[test]
fn rejects_unknown_control_and_data_opcodes() {
    for op in 0xb..=0xf {
        assert_stream(
            opts(),
            &[0x80 | op, 0x00],
            &[],
            err(ErrorKind::UnknownControlOpcode(op)),
        );
    }
    for op in 0x3..=0x7 {
        assert_stream(
            opts(),
            &[0x80 | op, 0x00],
            &[],
            err(ErrorKind::UnknownDataOpcode(op)),
        );
    }
}

#[test]
fn rejects_an_unmasked_frame_when_masks_are_required() {
    assert_stream(
        server(),
        &frame(true, 0x1, b"hi", None),
        &[],
        err(ErrorKind::UnmaskedFrame),
    );
    assert_stream(
        server(),
        &frame(true, 0x9, b"", None),
        &[],
        err(ErrorKind::UnmaskedFrame),
    );
}

#[test]
fn rejects_a_masked_frame_when_the_peer_is_a_server() {
    let client = SinkOptions {
        reject_mask: true,
        ..SinkOptions::default()
    };
    // The unmasked message before it is delivered, then the error.
    let stream = [
        frame(true, 0x1, b"ok", None),
        frame(true, 0x1, b"hi", Some([1, 2, 3, 4])),
    ]
    .concat();
    assert_stream(
        client,
        &stream,
        &[(EventKind::Text, b"ok", 0)],
        err(ErrorKind::MaskedFrame),
    );
}

#[test]
fn rejects_a_length_above_max_safe_integer() {
    let o = SinkOptions {
        max_payload_length: u64::MAX,
        ..opts()
    };
    assert_stream(
        o,
        &[0x82, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0],
        &[],
        err(ErrorKind::LengthOverflow),
    );
    assert_stream(
        o,
        &[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0],
        &[],
        err(ErrorKind::LengthOverflow),
    );
}

#[test]
fn rejects_a_continuation_without_a_message() {
    assert_stream(
        opts(),
        &frame(true, 0x0, b"x", None),
        &[],
        err(ErrorKind::UnexpectedContinuation),
    );
}

#[test]
fn rejects_a_data_frame_inside_a_fragmented_message() {
    let stream = [frame(false, 0x1, b"a", None), frame(true, 0x2, b"b", None)].concat();
    assert_stream(opts(), &stream, &[], err(ErrorKind::InterleavedDataFrame));
}

#[test]
fn rejects_invalid_utf8_in_a_single_frame_text() {
    let stream = [
        frame(true, 0x2, &[0xff], None),
        frame(true, 0x1, &[b'a', 0xc0, 0x80], Some(KEY)),
    ]
    .concat();
    assert_stream(
        opts(),
        &stream,
        &[(EventKind::Binary, &[0xff], 0)],
        err(ErrorKind::InvalidUtf8),
    );
}

#[test]
fn rejects_text_ending_inside_a_character() {
    assert_stream(
        opts(),
        &frame(true, 0x1, &[b'a', 0xe2, 0x82], None),
        &[],
        err(ErrorKind::InvalidUtf8),
    );
    let stream = [
        frame(false, 0x1, &[0xf0, 0x9f], None),
        frame(true, 0x0, &[0x98], None),
    ]
    .concat();
    assert_stream(opts(), &stream, &[], err(ErrorKind::InvalidUtf8));
}

#[test]
fn accepts_a_character_split_across_fragments() {
    let stream = [
        frame(false, 0x1, &[0xf0], Some(KEY)),
        frame(false, 0x0, &[0x9f, 0x98], Some(KEY)),
        frame(true, 0x0, &[0x80], Some(KEY)),
    ]
    .concat();
    assert_stream(
        server(),
        &stream,
        &[(EventKind::Text, "😀".as_bytes(), 0)],
        None,
    );
}

#[test]
fn fails_fast_on_invalid_utf8_inside_an_unfinished_frame() {
    // The frame declares 1000 bytes; the bad sequence is in the first ten. The error must come
    // with the push that brings it, not when the frame would be complete.
    let payload = [&b"abcd"[..], &[0xed, 0xa0, 0x80], &[b'x'; 993]].concat();
    let stream = frame(true, 0x1, &payload, Some(KEY));
    let header_len = 2 + 2 + 4;
    let mut sink = FrameSink::new(server());
    let mut events = Vec::new();
    let first = sink.push(&stream[..header_len + 5], &mut [0; 64], &mut events);
    assert_eq!(
        first.error, None,
        "ED alone may still start a valid character"
    );
    let second = sink.push(
        &stream[header_len + 5..header_len + 6],
        &mut [0; 64],
        &mut events,
    );
    assert_eq!(
        second.error,
        err(ErrorKind::InvalidUtf8),
        "ED A0 is a surrogate"
    );
    assert!(events.is_empty());
    assert_eq!(sink.buffered_len(), 0);
}

#[test]
fn fails_fast_on_invalid_utf8_in_an_early_fragment() {
    // The first fragment already holds F4 90 (above U+10FFFF): the ping after it is never seen.
    let stream = [
        frame(false, 0x1, &[b'o', b'k', 0xf4, 0x90], None),
        frame(true, 0x9, b"never", None),
        frame(true, 0x0, &[0x80, 0x80], None),
    ]
    .concat();
    assert_stream(opts(), &stream, &[], err(ErrorKind::InvalidUtf8));
}

#[test]
fn does_not_validate_binary_messages() {
    let stream = frame(true, 0x2, &[0xff, 0xfe, 0xc0], None);
    assert_stream(
        opts(),
        &stream,
        &[(EventKind::Binary, &[0xff, 0xfe, 0xc0], 0)],
        None,
    );
}

#[test]
fn rejects_a_one_byte_close_payload() {
    assert_stream(
        server(),
        &frame(true, 0x8, &[0x03], Some(KEY)),
        &[],
        err(ErrorKind::ClosePayloadTooShort),
    );
}

#[test]
fn rejects_a_close_with_an_invalid_code() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
        let stream = frame(true, 0x8, &code.to_be_bytes(), Some(KEY));
        assert_stream(
            server(),
            &stream,
            &[],
            err(ErrorKind::InvalidCloseCode(code)),
        );
    }
}

#[test]
fn rejects_a_close_reason_that_is_not_utf8() {
    let stream = frame(true, 0x8, &[0x03, 0xe8, b'a', 0xff], Some(KEY));
    assert_stream(server(), &stream, &[], err(ErrorKind::InvalidCloseReason));
}

#[test]
fn rejects_a_declared_frame_length_over_the_limit_before_the_mask_arrives() {
    let o = SinkOptions {
        require_mask: true,
        max_payload_length: 100,
        ..opts()
    };
    // 16-bit length 101, then the mask key would follow: the error needs only the first 4 bytes.
    let stream = [0x82, 0xfe, 0x00, 0x65];
    let max = assert_stream(
        o,
        &stream,
        &[],
        err(ErrorKind::PayloadTooLarge {
            limit: 100,
            actual: 101,
        }),
    );
    assert!(max <= 3);
    // Even unmasked (which the server refuses too), the limit is checked first.
    let stream = [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
    assert_stream(
        o,
        &stream,
        &[],
        err(ErrorKind::PayloadTooLarge {
            limit: 100,
            actual: 65536,
        }),
    );
}

#[test]
fn rejects_a_message_whose_fragments_sum_over_the_limit() {
    let o = SinkOptions {
        max_payload_length: 10,
        ..opts()
    };
    let stream = [
        frame(false, 0x2, &[1; 4], None),
        frame(true, 0x9, &[0; 20], None),
        frame(false, 0x0, &[2; 6], None),
        frame(true, 0x0, &[3; 1], None),
    ]
    .concat();
    assert_stream(
        o,
        &stream,
        &[(EventKind::Ping, &[0; 20], 0)],
        err(ErrorKind::PayloadTooLarge {
            limit: 10,
            actual: 11,
        }),
    );
}

#[test]
fn accepts_a_message_of_exactly_the_limit() {
    let o = SinkOptions {
        max_payload_length: 10,
        ..opts()
    };
    let stream = [
        frame(false, 0x2, &[1; 4], None),
        frame(true, 0x0, &[2; 6], None),
        frame(true, 0x1, &[b'a'; 10], None),
    ]
    .concat();
    let whole = [[1u8; 4].as_slice(), &[2; 6]].concat();
    assert_stream(
        o,
        &stream,
        &[
            (EventKind::Binary, &whole, 0),
            (EventKind::Text, &[b'a'; 10], 0),
        ],
        None,
    );
}

#[test]
fn applies_no_limit_to_control_frames() {
    let o = SinkOptions {
        max_payload_length: 0,
        ..opts()
    };
    let stream = [
        frame(true, 0x9, &[7; 125], None),
        frame(true, 0x1, b"", None),
        frame(true, 0x1, b"x", None),
    ]
    .concat();
    assert_stream(
        o,
        &stream,
        &[(EventKind::Ping, &[7; 125], 0), (EventKind::Text, b"", 0)],
        err(ErrorKind::PayloadTooLarge {
            limit: 0,
            actual: 1,
        }),
    );
}

#[test]
fn checks_the_limit_before_the_continuation_and_fragment_rules() {
    // A continuation without a message, declaring more than the limit: the length rule comes
    // first, as in DaloyJS where parseFrame throws before the assembler sees the frame.
    let o = SinkOptions {
        max_payload_length: 3,
        ..opts()
    };
    assert_stream(
        o,
        &frame(true, 0x0, b"abcd", None),
        &[],
        err(ErrorKind::PayloadTooLarge {
            limit: 3,
            actual: 4,
        }),
    );
    // An interleaved data frame within the limit on its own is an opcode error, whatever the
    // bytes of the message in progress.
    let stream = [
        frame(false, 0x2, b"ab", None),
        frame(true, 0x2, b"cd", None),
    ]
    .concat();
    assert_stream(o, &stream, &[], err(ErrorKind::InterleavedDataFrame));
}

#[test]
fn rejects_more_fragments_than_allowed() {
    let o = SinkOptions {
        max_fragments: 3,
        ..opts()
    };
    let ok = [
        frame(false, 0x1, b"a", None),
        frame(false, 0x0, b"b", None),
        frame(true, 0x0, b"c", None),
    ]
    .concat();
    assert_stream(o, &ok, &[(EventKind::Text, b"abc", 0)], None);
    let stream = [
        frame(false, 0x1, b"a", None),
        frame(false, 0x0, b"b", None),
        frame(true, 0xa, b"", None),
        frame(false, 0x0, b"c", None),
        frame(true, 0x0, b"d", None),
    ]
    .concat();
    assert_stream(
        o,
        &stream,
        &[(EventKind::Pong, b"", 0)],
        err(ErrorKind::TooManyFragments { limit: 3 }),
    );
    // The count restarts with each message.
    let again = [ok.clone(), ok.clone(), ok].concat();
    assert_stream(o, &again, &[(EventKind::Text, &b"abc"[..], 0); 3], None);
}

#[test]
fn keeps_memory_bounded_under_dribbled_headers_and_payloads() {
    let limit = 4096u64;
    let o = SinkOptions {
        require_mask: true,
        reject_mask: false,
        max_payload_length: limit,
        max_fragments: 1000,
        deflate: None,
    };
    let mut rng = XorShift::new(11);
    let mut stream = Vec::new();
    let mut whole = Vec::new();
    for i in 0..8 {
        let piece = rng.bytes(512);
        whole.extend_from_slice(&piece);
        stream.extend_from_slice(&frame(
            i == 7,
            if i == 0 { 0x2 } else { 0x0 },
            &piece,
            Some([i, 1, 2, 3]),
        ));
        stream.extend_from_slice(&frame(true, 0x9, &[i; 125], Some([3, 2, 1, i])));
    }
    let run = run_bytewise(o, &stream, 64);
    assert_eq!(run.error, None);
    assert_eq!(run.events.len(), 9);
    assert!(
        run.events[7] == (EventKind::Binary, whole, 0),
        "the message comes after the seventh ping"
    );
    assert!(
        run.max_buffered as u64 <= limit + 14 + 125,
        "held {}",
        run.max_buffered
    );
    // One byte over the limit, dribbled: refused when the last length byte arrives, with
    // nothing held for the payload.
    let mut over = frame(false, 0x2, &[0; 4000], Some(KEY));
    over.extend_from_slice(&[0x80, 0xfe, 0x00, 0x61]);
    let run = run_bytewise(o, &over, 0);
    assert_eq!(
        run.error,
        err(ErrorKind::PayloadTooLarge {
            limit,
            actual: 4097
        })
    );
    assert!(run.max_buffered <= 4000 + 3);
}

#[test]
fn places_payloads_in_the_arena_only_when_they_fit() {
    let mut sink = FrameSink::new(opts());
    let mut events = Vec::new();
    let stream = [
        frame(true, 0x2, b"abcd", None),
        frame(true, 0x2, b"efgh", None),
        frame(true, 0x9, b"ij", None),
    ]
    .concat();
    let mut arena = [0u8; 6];
    let outcome = sink.push(&stream, &mut arena, &mut events);
    assert_eq!(outcome.arena_used, 6);
    assert_eq!(events[0].payload, Payload::Arena { start: 0, len: 4 });
    assert_eq!(events[1].payload, Payload::Owned(b"efgh".to_vec()));
    assert_eq!(events[2].payload, Payload::Arena { start: 4, len: 2 });
    assert_eq!(&arena, b"abcdij");
}

#[test]
fn hands_over_assembled_messages_above_the_copy_threshold() {
    let mut rng = XorShift::new(3);
    let big = rng.bytes(ARENA_MAX_COPY + 1);
    let small = rng.bytes(ARENA_MAX_COPY);
    let stream = [
        frame(false, 0x2, &big[..100], None),
        frame(true, 0x0, &big[100..], None),
        frame(false, 0x2, &small[..100], None),
        frame(true, 0x0, &small[100..], None),
    ]
    .concat();
    let mut sink = FrameSink::new(opts());
    let mut events = Vec::new();
    let mut arena = vec![0u8; 1 << 20];
    let outcome = sink.push(&stream, &mut arena, &mut events);
    assert_eq!(outcome.error, None);
    assert_eq!(events[0].payload, Payload::Owned(big));
    assert_eq!(
        events[1].payload,
        Payload::Arena {
            start: 0,
            len: ARENA_MAX_COPY
        }
    );
    assert_eq!(events[1].payload.bytes(&arena), small.as_slice());
    assert_eq!(sink.buffered_len(), 0);
}

#[test]
fn unmasks_a_whole_single_frame_message_into_the_arena() {
    let mut sink = FrameSink::new(server());
    let mut events = Vec::new();
    let mut arena = [0u8; 16];
    let stream = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let outcome = sink.push(&stream, &mut arena, &mut events);
    assert_eq!(
        outcome,
        daloy_ws_native::sink::PushOutcome {
            arena_used: 5,
            error: None,
        }
    );
    assert_eq!(events[0].payload, Payload::Arena { start: 0, len: 5 });
    assert_eq!(&arena[..5], b"Hello");
    assert_eq!(sink.buffered_len(), 0);
}

#[test]
fn holds_only_the_partial_header_between_pushes() {
    let mut sink = FrameSink::new(server());
    let mut events = Vec::new();
    let stream = frame(true, 0x2, &[0; 70_000], Some(KEY));
    for i in 0..13 {
        sink.push(&stream[i..i + 1], &mut [], &mut events);
        assert_eq!(sink.buffered_len(), i + 1);
    }
    sink.push(&stream[13..14], &mut [], &mut events);
    assert_eq!(sink.buffered_len(), 0);
    sink.push(&stream[14..100], &mut [], &mut events);
    assert_eq!(sink.buffered_len(), 86);
    assert!(events.is_empty());
}

#[test]
fn uses_the_default_limits() {
    assert_eq!(
        SinkOptions::default(),
        SinkOptions {
            require_mask: false,
            reject_mask: false,
            max_payload_length: 1_048_576,
            max_fragments: 131_072,
            deflate: None,
        }
    );
    let stream = [0x82, 0x7f, 0, 0, 0, 0, 0, 0x10, 0, 1];
    assert_stream(
        opts(),
        &stream,
        &[],
        err(ErrorKind::PayloadTooLarge {
            limit: 1_048_576,
            actual: 1_048_577,
        }),
    );
}

#[test]
fn assembles_many_small_fragments_in_linear_time() {
    // 65 536 fragments of 64 bytes (Autobahn 9.3.1's shape): each reserve must not copy the
    // whole message again, or this would take minutes.
    let o = SinkOptions {
        max_payload_length: 8 << 20,
        ..opts()
    };
    let mut stream = Vec::with_capacity(66 * 65536);
    for i in 0..65536u32 {
        let opcode = if i == 0 { 0x2 } else { 0x0 };
        stream.extend_from_slice(&frame(i == 65535, opcode, &[i as u8; 64], None));
    }
    let run = run_cut(o, &stream, &[stream.len() / 3, stream.len() / 2], 0);
    assert_eq!(run.error, None);
    assert_eq!(run.events.len(), 1);
    assert_eq!(run.events[0].1.len(), 64 * 65536);
    assert!(run.events[0]
        .1
        .chunks(64)
        .enumerate()
        .all(|(i, c)| c.iter().all(|&b| b == i as u8)));
}

#[test]
fn assembles_a_large_single_frame_message_in_a_kept_buffer_taken_at_its_header() {
    let mut rng = XorShift::new(11);
    // Large enough to be kept for reuse (message_buffers::KEEP_MIN).
    let big = rng.bytes(5 * ARENA_MAX_COPY + 7);
    let key = [0x11, 0x22, 0x33, 0x44];
    let stream = frame(true, 0x2, &big, Some(key));
    let (first, rest) = stream.split_at(1000);
    let (second, third) = rest.split_at(20_001);
    // A buffer the engine collected earlier, kept for reuse: the message is assembled in it.
    let kept = message_buffers::take(big.len() + 100).unwrap();
    let address = kept.as_ptr();
    message_buffers::give_back(kept);
    let mut sink = FrameSink::new(server());
    let mut events = Vec::new();
    let mut arena = vec![0u8; 4096];

    let outcome = sink.push(first, &mut arena, &mut events);
    assert_eq!(outcome.arena_used, 0);
    assert!(events.is_empty());
    assert_eq!(
        message_buffers::kept_bytes(),
        0,
        "the buffer is taken when the header arrives"
    );
    // A 64-bit length and a masking key: a 14-byte header.
    assert_eq!(sink.buffered_len(), first.len() - 14);
    sink.push(second, &mut arena, &mut events);
    assert_eq!(sink.buffered_len(), first.len() + second.len() - 14);

    let outcome = sink.push(third, &mut arena, &mut events);
    assert_eq!(outcome.error, None);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Binary);
    let Payload::Owned(bytes) = &events[0].payload else {
        panic!("handed over as an owned buffer");
    };
    assert_eq!(bytes.as_slice(), big.as_slice());
    assert_eq!(bytes.as_ptr(), address, "the kept buffer, not a copy");
    assert_eq!(sink.buffered_len(), 0);
}

#[test]
fn gives_the_buffer_of_a_failed_large_message_back() {
    let mut text = vec![b'a'; 5 * ARENA_MAX_COPY];
    text[ARENA_MAX_COPY + 5] = 0xff;
    let stream = frame(true, 0x1, &text, Some([1, 2, 3, 4]));
    let before = message_buffers::kept_bytes();
    let mut sink = FrameSink::new(server());
    let mut events = Vec::new();
    let mut arena = vec![0u8; 1024];
    sink.push(&stream[..100], &mut arena, &mut events);
    let outcome = sink.push(&stream[100..], &mut arena, &mut events);
    assert_eq!(outcome.error, err(ErrorKind::InvalidUtf8));
    assert!(events.is_empty());
    assert_eq!(sink.buffered_len(), 0);
    assert_eq!(
        message_buffers::kept_bytes(),
        before + text.len(),
        "kept for a later message"
    );
}

#[test]
fn hands_a_large_message_over_in_its_own_buffer() {
    let mut rng = XorShift::new(12);
    let big = rng.bytes(2 * ARENA_MAX_COPY);
    let stream = frame(true, 0x1, &vec![b'a'; big.len()], Some([9, 8, 7, 6]));
    let run = run_cut(server(), &stream, &[100, 5000, 30_000], 1 << 20);
    assert_eq!(run.error, None);
    assert_eq!(run.events.len(), 1);
    assert_eq!(run.owned, 1, "handed over as an owned buffer");
}

#[test]
fn validates_text_written_to_the_dest_as_it_arrives() {
    let mut text = vec![b'a'; 2 * ARENA_MAX_COPY];
    text[ARENA_MAX_COPY + 5] = 0xff;
    let stream = frame(true, 0x1, &text, Some([1, 2, 3, 4]));
    // Cut before the bad byte, and stop feeding well before the frame ends.
    let pieces = [&stream[..500], &stream[500..ARENA_MAX_COPY + 20]];
    let run = run_pieces(server(), pieces, 1024);
    assert!(run.events.is_empty());
    assert_eq!(run.error, err(ErrorKind::InvalidUtf8));
}

/// Every connection holds a sink for its lifetime: the room for an inflater, a control payload split
/// across reads or the lists of a push is allocated only while used (inline they made it 480 bytes).
#[test]
fn a_sink_between_frames_holds_no_room_for_what_it_rarely_needs() {
    let size = std::mem::size_of::<FrameSink>();
    assert!(size <= 192, "FrameSink is {size} bytes");
}
