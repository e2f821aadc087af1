//! permessage-deflate compression (RFC 7692 §7.2): the RFC's byte examples, round trips
//! against a reference deflate at every level and window, input split at every byte offset,
//! context takeover and its absence, windows, and the inflated-size limit.

mod common;
mod deflate_support;

use common::XorShift;
use daloy_ws_native::deflate::{Deflater, Inflater, StreamParams, INFLATE_STEP, TAIL};
use daloy_ws_native::error::{ErrorKind, ProtocolError};
use deflate_support::zero_bomb;
use flate2::{Compress, Compression, FlushCompress};

const TAKEOVER: StreamParams = StreamParams {
    window_bits: 15,
    no_context_takeover: false,
};

const NO_TAKEOVER: StreamParams = StreamParams {
    window_bits: 15,
    no_context_takeover: true,
};

const NO_LIMIT: u64 = u64::MAX;

/// Inflates one message given as frame payloads.
fn inflate_frames(
    inflater: &mut Inflater,
    frames: &[&[u8]],
    limit: u64,
) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        inflater.inflate(frame, i + 1 == frames.len(), &mut out, limit)?;
    }
    Ok(out)
}

fn inflate_one(params: StreamParams, payload: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    inflate_frames(&mut Inflater::new(params), &[payload], NO_LIMIT)
}

fn deflate(deflater: &mut Deflater, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    deflater.deflate(payload, &mut out).unwrap();
    out
}

/// A reference compressor: `flate2` driven directly, sync flush, tail stripped.
fn reference_deflate(data: &[u8], level: u32, window_bits: u8) -> Vec<u8> {
    let mut c = Compress::new_with_window_bits(Compression::new(level), false, window_bits);
    let mut out = Vec::with_capacity(data.len() * 2 + 64);
    c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
    assert_eq!(c.total_in() as usize, data.len());
    assert!(out.ends_with(&TAIL));
    out.truncate(out.len() - 4);
    out
}

/// Text that compresses like chat or JSON traffic, with repeats near and far.
fn json_like(rng: &mut XorShift, len: usize) -> Vec<u8> {
    let words: [&[u8]; 8] = [
        b"{\"id\":",
        b"\"user\":\"",
        b"\"text\":\"hello ",
        b"\",\"ts\":",
        b"},",
        b"\"tags\":[\"a\",\"b\"]",
        b"null",
        b"true",
    ];
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        out.extend_from_slice(words[rng.below_usize(words.len())]);
        out.extend_from_slice(rng.below(100_000).to_string().as_bytes());
    }
    out.truncate(len);
    out
}

// RFC 7692 §7.2.3.1: "Hello" in one compressed DEFLATE block.
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

#[test]
fn compresses_hello_as_rfc_7692_shows() {
    let mut deflater = Deflater::new(NO_TAKEOVER, 6);
    assert_eq!(deflate(&mut deflater, b"Hello"), HELLO);
    assert_eq!(deflate(&mut deflater, b"Hello"), HELLO);
}

#[test]
fn inflates_hello_in_one_frame_and_in_two_fragments() {
    assert_eq!(inflate_one(TAKEOVER, &HELLO).unwrap(), b"Hello");
    // §7.2.3.1: the same payload split across two frames.
    let mut inflater = Inflater::new(TAKEOVER);
    assert_eq!(
        inflate_frames(
            &mut inflater,
            &[&[0xf2, 0x48, 0xcd], &[0xc9, 0xc9, 0x07, 0x00]],
            NO_LIMIT
        )
        .unwrap(),
        b"Hello"
    );
}

#[test]
fn shares_the_window_across_messages_with_context_takeover() {
    // §7.2.3.2: the second "Hello" refers back to the first.
    const SECOND: [u8; 5] = [0xf2, 0x00, 0x11, 0x00, 0x00];
    let mut deflater = Deflater::new(TAKEOVER, 6);
    assert_eq!(deflate(&mut deflater, b"Hello"), HELLO);
    assert_eq!(deflate(&mut deflater, b"Hello"), SECOND);

    let mut inflater = Inflater::new(TAKEOVER);
    assert_eq!(
        inflate_frames(&mut inflater, &[&HELLO], NO_LIMIT).unwrap(),
        b"Hello"
    );
    assert_eq!(
        inflate_frames(&mut inflater, &[&SECOND], NO_LIMIT).unwrap(),
        b"Hello"
    );

    // Without context takeover the inflater starts afresh: the back reference is invalid.
    let mut fresh = Inflater::new(NO_TAKEOVER);
    assert_eq!(
        inflate_frames(&mut fresh, &[&HELLO], NO_LIMIT).unwrap(),
        b"Hello"
    );
    assert_eq!(
        inflate_frames(&mut fresh, &[&SECOND], NO_LIMIT)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidCompressedData
    );
}

#[test]
fn inflates_a_block_with_no_compression() {
    // §7.2.3.3.
    let payload = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(inflate_one(TAKEOVER, &payload).unwrap(), b"Hello");
}

#[test]
fn inflates_a_block_with_bfinal_set_and_starts_a_new_stream_after_it() {
    // §7.2.3.4: the final block, then one byte so the tail makes an empty stored block.
    let payload = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    let mut inflater = Inflater::new(TAKEOVER);
    assert_eq!(
        inflate_frames(&mut inflater, &[&payload], NO_LIMIT).unwrap(),
        b"Hello"
    );
    assert_eq!(
        inflate_frames(&mut inflater, &[&HELLO], NO_LIMIT).unwrap(),
        b"Hello"
    );
}

#[test]
fn inflates_two_blocks_in_one_message() {
    // §7.2.3.5.
    let payload = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(inflate_one(TAKEOVER, &payload).unwrap(), b"Hello");
}

#[test]
fn inflates_a_message_ending_with_an_empty_fragment() {
    // §7.2.3.6: the sender flushed after "Hello", then sent an empty fragment as the last frame.
    let first = [
        0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff,
    ];
    let mut inflater = Inflater::new(TAKEOVER);
    assert_eq!(
        inflate_frames(&mut inflater, &[&first, &[0x00]], NO_LIMIT).unwrap(),
        b"Hello"
    );
    assert_eq!(
        inflate_frames(&mut inflater, &[&HELLO], NO_LIMIT).unwrap(),
        b"Hello"
    );
}

#[test]
fn compresses_an_empty_message_to_one_zero_byte() {
    for params in [TAKEOVER, NO_TAKEOVER] {
        let mut deflater = Deflater::new(params, 6);
        assert_eq!(deflate(&mut deflater, b""), [0x00]);
        assert_eq!(deflate(&mut deflater, b""), [0x00]);
        deflate(&mut deflater, b"Hello");
        assert_eq!(deflate(&mut deflater, b""), [0x00]);
    }
}

#[test]
fn inflates_empty_messages_without_disturbing_the_window() {
    let mut deflater = Deflater::new(TAKEOVER, 6);
    let mut inflater = Inflater::new(TAKEOVER);
    let messages: [&[u8]; 5] = [b"Hello", b"", b"Hello", b"", b"Hello, Hello"];
    for message in messages {
        let compressed = deflate(&mut deflater, message);
        assert_eq!(
            inflate_frames(&mut inflater, &[&compressed], NO_LIMIT).unwrap(),
            message
        );
        // A message whose payload is empty altogether (no 0x00 byte) is empty too.
        assert_eq!(
            inflate_frames(&mut inflater, &[&[]], NO_LIMIT).unwrap(),
            b""
        );
        assert_eq!(
            inflate_frames(&mut inflater, &[&[], &[]], NO_LIMIT).unwrap(),
            b""
        );
    }
}

#[test]
fn round_trips_reference_output_at_every_level_and_window() {
    let mut rng = XorShift::new(7);
    let samples = [
        json_like(&mut rng, 1024),
        json_like(&mut rng, 70_000),
        rng.bytes(5000),
        vec![b'a'; 100_000],
        Vec::new(),
    ];
    for window_bits in 9..=15u8 {
        let params = StreamParams {
            window_bits,
            no_context_takeover: true,
        };
        let mut inflater = Inflater::new(params);
        for level in [0, 1, 6, 9] {
            for sample in &samples {
                let compressed = reference_deflate(sample, level, window_bits);
                let inflated = inflate_frames(&mut inflater, &[&compressed], NO_LIMIT).unwrap();
                assert!(
                    inflated == *sample,
                    "level {level} window {window_bits} len {}",
                    sample.len()
                );

                // And the other way: this deflater's output, inflated by the reference.
                let mut deflater = Deflater::new(params, level);
                let ours = deflate(&mut deflater, sample);
                let mut d = flate2::Decompress::new_with_window_bits(false, window_bits);
                let mut back = Vec::with_capacity(sample.len() + 16);
                let mut input = ours.clone();
                input.extend_from_slice(&TAIL);
                d.decompress_vec(&input, &mut back, flate2::FlushDecompress::Sync)
                    .unwrap();
                assert!(
                    back == *sample,
                    "level {level} window {window_bits} len {}",
                    sample.len()
                );
            }
        }
    }
}

#[test]
fn inflates_the_same_at_every_split_point() {
    let mut rng = XorShift::new(11);
    let text = json_like(&mut rng, 3000);
    let compressed = reference_deflate(&text, 6, 15);
    for cut in 0..=compressed.len() {
        let mut inflater = Inflater::new(TAKEOVER);
        let (a, b) = compressed.split_at(cut);
        assert_eq!(
            inflate_frames(&mut inflater, &[a, b], NO_LIMIT).unwrap(),
            text,
            "cut {cut}"
        );
        // The context carries on after a split message.
        assert_eq!(
            inflate_frames(&mut inflater, &[&HELLO], NO_LIMIT).unwrap(),
            b"Hello"
        );
    }
    let mut inflater = Inflater::new(TAKEOVER);
    let bytes: Vec<&[u8]> = compressed.chunks(1).collect();
    assert_eq!(
        inflate_frames(&mut inflater, &bytes, NO_LIMIT).unwrap(),
        text
    );
}

#[test]
fn the_rfc_examples_inflate_the_same_at_every_split_point() {
    let examples: [&[u8]; 4] = [
        &HELLO,
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ],
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
        &[
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ],
    ];
    for example in examples {
        for cut in 0..=example.len() {
            for cut2 in cut..=example.len() {
                let pieces = [&example[..cut], &example[cut..cut2], &example[cut2..]];
                let mut inflater = Inflater::new(TAKEOVER);
                assert_eq!(
                    inflate_frames(&mut inflater, &pieces, NO_LIMIT).unwrap(),
                    b"Hello",
                    "{example:x?} cut at {cut} and {cut2}"
                );
            }
        }
    }
}

#[test]
fn round_trips_messages_in_sequence_with_and_without_context_takeover() {
    let mut rng = XorShift::new(3);
    for window_bits in [9, 10, 12, 15] {
        for no_context_takeover in [false, true] {
            let params = StreamParams {
                window_bits,
                no_context_takeover,
            };
            let mut deflater = Deflater::new(params, 6);
            let mut inflater = Inflater::new(params);
            let mut with_takeover_total = 0;
            for i in 0..40 {
                let message = json_like(&mut rng, [0, 1, 100, 1024, 20_000][i % 5]);
                let compressed = deflate(&mut deflater, &message);
                with_takeover_total += compressed.len();
                // Frames of random sizes, each also split across reads.
                let mut pieces = Vec::new();
                let mut rest = &compressed[..];
                while !rest.is_empty() {
                    let n = 1 + rng.below_usize(rest.len());
                    pieces.push(&rest[..n]);
                    rest = &rest[n..];
                }
                assert_eq!(
                    inflate_frames(&mut inflater, &pieces, NO_LIMIT).unwrap(),
                    message
                );
            }
            assert!(with_takeover_total > 0);
        }
    }
}

#[test]
fn context_takeover_compresses_repeated_messages_better() {
    let mut rng = XorShift::new(5);
    let message = json_like(&mut rng, 1024);
    let mut shared = Deflater::new(NO_TAKEOVER, 6);
    let mut dedicated = Deflater::new(TAKEOVER, 6);
    let first = deflate(&mut dedicated, &message).len();
    let again = deflate(&mut dedicated, &message).len();
    assert_eq!(deflate(&mut shared, &message).len(), first);
    assert_eq!(deflate(&mut shared, &message).len(), first);
    assert!(again * 10 < first, "{again} vs {first}");
}

#[test]
fn level_6_sends_a_message_repeating_the_last_but_for_its_first_bytes_as_level_9_does() {
    // Counters stamped on one 1 KiB record, as a feed sends them: with context takeover each
    // message is a few literals and back-references to the one before. zlib's level 6 (what `ws`
    // sends) finds the whole of those matches, and so must this deflater's level 6: message after
    // message, within 1 % of the bytes of level 9 (zlib-rs's lazy matcher with its longest chains).
    let mut rng = XorShift::new(21);
    let record = json_like(&mut rng, 1008);
    let mut level_6 = Deflater::new(TAKEOVER, 6);
    let mut level_9 = Deflater::new(TAKEOVER, 9);
    let mut inflater = Inflater::new(TAKEOVER);
    let (mut bytes_6, mut bytes_9) = (0, 0);
    for seq in 0..200u64 {
        let mut message = format!("{seq:016x}").into_bytes();
        message.extend_from_slice(&record);
        let compressed = deflate(&mut level_6, &message);
        assert!(inflate_frames(&mut inflater, &[&compressed], NO_LIMIT).unwrap() == message);
        let reference = deflate(&mut level_9, &message).len();
        if seq > 0 {
            bytes_6 += compressed.len();
            bytes_9 += reference;
        }
    }
    assert!(
        bytes_6 * 100 <= bytes_9 * 101,
        "level 6: {bytes_6} bytes for 199 repeats, level 9: {bytes_9}"
    );
}

#[cfg(unix)]
#[test]
fn a_deflater_keeps_no_page_of_zeros_resident_after_its_first_message() {
    // zlib-rs zeroes its window, chain and hash table (256 KiB at window 15) when a stream starts
    // and its symbol buffer (48 KiB) after every block; a small message writes only the first
    // pages of the window and the chain.
    let mut deflater = Deflater::new(TAKEOVER, 6);
    let fresh = deflater.resident_bytes();
    let mut rng = XorShift::new(8);
    let message = json_like(&mut rng, 1536);
    let compressed = deflate(&mut deflater, &message);
    let after_one = deflater.resident_bytes();
    assert!(
        fresh >= 256 * 1024,
        "{fresh} bytes resident before any message"
    );
    // What stays: the hash table's pages (its 128 KiB are indexed by hash, a message touches
    // most of them), the stream's own state and the first pages of the window and buffers.
    assert!(
        after_one <= 160 * 1024,
        "{after_one} bytes resident after one message"
    );
    let mut inflater = Inflater::new(TAKEOVER);
    assert!(inflate_frames(&mut inflater, &[&compressed], NO_LIMIT).unwrap() == message);
    // The zeros it reads where pages were handed back are zeros: the stream goes on, and what a
    // message writes comes back.
    for _ in 0..3 {
        let next = deflate(&mut deflater, &message);
        assert!(inflate_frames(&mut inflater, &[&next], NO_LIMIT).unwrap() == message);
    }
    assert!(deflater.resident_bytes() > after_one);
    assert_eq!(deflater.release(), 4 * message.len());
    assert_eq!(deflater.resident_bytes(), 0);
}

#[test]
fn keeps_to_the_agreed_window_when_compressing() {
    // 600 distinct bytes twice, as two messages: with a 15-bit window the second message is a
    // single match 600 bytes back; with a 9-bit (512-byte) window it cannot be.
    let mut rng = XorShift::new(9);
    let block = rng.bytes(600);
    let mut wide = Deflater::new(TAKEOVER, 9);
    deflate(&mut wide, &block);
    assert!(deflate(&mut wide, &block).len() < 20);
    // A window of 8 bits is compressed (and inflated) with 9.
    for window_bits in [8, 9] {
        let params = StreamParams {
            window_bits,
            no_context_takeover: false,
        };
        let mut deflater = Deflater::new(params, 9);
        let mut inflater = Inflater::new(params);
        let first = deflate(&mut deflater, &block);
        let second = deflate(&mut deflater, &block);
        assert!(second.len() > 500, "{}", second.len());
        for compressed in [first, second] {
            assert_eq!(
                inflate_frames(&mut inflater, &[&compressed], NO_LIMIT).unwrap(),
                block
            );
        }
    }
    // Without context takeover too: the reset between messages keeps the window size.
    let twice = [block.clone(), block.clone()].concat();
    let params = StreamParams {
        window_bits: 9,
        no_context_takeover: true,
    };
    let mut deflater = Deflater::new(params, 9);
    let mut inflater = Inflater::new(params);
    for _ in 0..3 {
        let compressed = deflate(&mut deflater, &twice);
        assert!(compressed.len() > 1100, "{}", compressed.len());
        assert_eq!(
            inflate_frames(&mut inflater, &[&compressed], NO_LIMIT).unwrap(),
            twice
        );
    }
    let mut wide = Deflater::new(NO_TAKEOVER, 9);
    assert!(deflate(&mut wide, &twice).len() < 700);
}

#[test]
fn refuses_data_that_is_not_deflate() {
    for payload in [
        &[0xff, 0xff, 0xff, 0xff][..],
        // BTYPE 11 is reserved.
        &[0x07],
        // A stored block whose NLEN is not the complement of LEN.
        &[0x00, 0x05, 0x00, 0x00, 0x00, b'H'],
    ] {
        let mut inflater = Inflater::new(TAKEOVER);
        let mut out = b"kept".to_vec();
        let err = inflater
            .inflate(payload, true, &mut out, NO_LIMIT)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidCompressedData, "{payload:x?}");
        assert_eq!(err.close_code(), 1007);
        assert_eq!(out, b"kept");
        // The inflater was reset: the next message inflates.
        assert_eq!(
            inflate_frames(&mut inflater, &[&HELLO], NO_LIMIT).unwrap(),
            b"Hello"
        );
    }
}

#[test]
fn accepts_a_message_of_exactly_the_limit_and_refuses_one_byte_more() {
    let message = vec![b'x'; 10_000];
    let compressed = reference_deflate(&message, 6, 15);
    let mut inflater = Inflater::new(NO_TAKEOVER);
    assert_eq!(
        inflate_frames(&mut inflater, &[&compressed], 10_000).unwrap(),
        message
    );
    let err = inflate_frames(&mut inflater, &[&compressed], 9_999).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::PayloadTooLarge {
            limit: 9_999,
            actual: 10_000
        }
    );
    assert_eq!(err.close_code(), 1009);
    // The limit is on the whole message, summed over its frames.
    let (a, b) = compressed.split_at(compressed.len() / 2);
    assert!(inflate_frames(&mut inflater, &[a, b], 9_999).is_err());
    assert_eq!(
        inflate_frames(&mut inflater, &[a, b], 10_000).unwrap(),
        message
    );
}

#[test]
fn stops_a_gigabyte_bomb_at_the_limit() {
    // DEFLATE expands at most about 1032:1, so 1 GiB takes about 1 MiB of compressed input.
    let bomb = zero_bomb(1023);
    assert!(bomb.len() < 1_100_000, "{}", bomb.len());
    let reference_len = {
        let mut d = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(8 << 20);
        d.decompress_vec(&bomb[..8192], &mut out, flate2::FlushDecompress::Sync)
            .unwrap();
        out.len()
    };
    assert!(
        reference_len > 4 << 20,
        "8 KiB of the bomb inflates to {reference_len}"
    );

    for limit in [0u64, 1, 1000, 65_536, 1 << 20] {
        // In one call.
        let mut inflater = Inflater::new(TAKEOVER);
        let mut out = Vec::new();
        let err = inflater.inflate(&bomb, true, &mut out, limit).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::PayloadTooLarge {
                limit,
                actual: limit + 1
            }
        );
        assert!(out.is_empty());
        assert!(
            out.capacity() as u64 <= limit + 1,
            "capacity {} for limit {limit}",
            out.capacity()
        );

        // Frame by frame: 1 KiB frames, each inflated as it arrives.
        let mut inflater = Inflater::new(TAKEOVER);
        let mut out = Vec::new();
        let mut fed = 0;
        let mut failed = None;
        for frame in bomb.chunks(1024) {
            fed += frame.len();
            if let Err(err) = inflater.inflate(frame, false, &mut out, limit) {
                failed = Some(err);
                break;
            }
            assert!(out.len() as u64 <= limit);
        }
        assert_eq!(
            failed.map(|e| e.kind),
            Some(ErrorKind::PayloadTooLarge {
                limit,
                actual: limit + 1
            })
        );
        assert!(
            out.capacity() as u64 <= limit + 1,
            "capacity {} for limit {limit}",
            out.capacity()
        );
        // It stopped within about one frame of the crossing, not after the gigabyte.
        assert!(
            fed as u64 <= limit / 1000 + 4096,
            "fed {fed} for limit {limit}"
        );
    }
}

#[test]
fn without_a_limit_the_output_grows_in_bounded_steps() {
    let bomb = zero_bomb(3);
    let mut inflater = Inflater::new(NO_TAKEOVER);
    let mut out = Vec::new();
    inflater.inflate(&bomb, true, &mut out, NO_LIMIT).unwrap();
    assert_eq!(out.len(), 4 << 20);
    assert!(out.iter().all(|&b| b == 0));
    // Doubling from what was needed, at most one step beyond the size reached.
    assert!(
        out.capacity() <= 2 * (out.len() + INFLATE_STEP),
        "{}",
        out.capacity()
    );
}

#[test]
fn a_small_frame_that_inflates_far_past_the_limit_is_refused() {
    // About 1 KiB that inflates to 1 MiB, against a 64 KiB limit.
    let bomb = zero_bomb(0);
    assert!(bomb.len() < 1200, "{}", bomb.len());
    let mut inflater = Inflater::new(NO_TAKEOVER);
    let mut out = Vec::with_capacity(16);
    let err = inflater.inflate(&bomb, true, &mut out, 65_536).unwrap_err();
    assert_eq!(err.size_limit(), Some((65_536, 65_537)));
    assert!(out.capacity() <= 65_537, "{}", out.capacity());
}

#[test]
fn the_limit_counts_only_the_message_not_what_out_already_held() {
    let mut inflater = Inflater::new(TAKEOVER);
    let mut out = vec![1u8; 50];
    assert_eq!(inflater.inflate(&HELLO, true, &mut out, 5).unwrap(), 5);
    assert_eq!(&out[50..], b"Hello");
    assert_eq!(out.len(), 55);
}

#[test]
fn inflated_text_can_be_checked_as_it_is_produced() {
    use daloy_ws_native::utf8::Utf8Validator;
    // A text message whose invalid byte comes early, then a long valid tail: the check on each
    // call's output refuses it before the rest is inflated, as the sink's fail-fast check will.
    let mut message = b"caf\xc3".to_vec();
    message.extend_from_slice(b"(not a continuation byte)");
    message.extend(std::iter::repeat_n(b'a', 200_000));
    let mut deflater = Deflater::new(TAKEOVER, 6);
    let compressed = deflate(&mut deflater, &message);
    let mut inflater = Inflater::new(TAKEOVER);
    let mut out = Vec::new();
    let mut utf8 = Utf8Validator::new();
    let mut checked = 0;
    let mut refused_after = None;
    for (i, piece) in compressed.chunks(16).enumerate() {
        let fin = (i + 1) * 16 >= compressed.len();
        inflater.inflate(piece, fin, &mut out, NO_LIMIT).unwrap();
        if utf8.feed(&out[checked..]).is_err() {
            refused_after = Some(out.len());
            break;
        }
        checked = out.len();
    }
    let refused_after = refused_after.expect("invalid UTF-8 found");
    assert!(refused_after < 100_000, "{refused_after}");
}

#[test]
fn round_trips_with_an_independent_implementation() {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    };
    use miniz_oxide::inflate::stream::{inflate, InflateState};
    use miniz_oxide::{DataFormat, MZFlush};

    let mut rng = XorShift::new(13);
    let samples = [
        json_like(&mut rng, 1024),
        json_like(&mut rng, 40_000),
        rng.bytes(3000),
    ];
    for level in [1, 6, 9] {
        // miniz_oxide compresses (sync flush, raw), this inflater reads it, message after message
        // with context takeover.
        let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(level, -15, 0));
        let mut inflater = Inflater::new(TAKEOVER);
        for sample in &samples {
            let mut buf = vec![0; sample.len() * 2 + 64];
            let (_, consumed, written) =
                compress(&mut compressor, sample, &mut buf, TDEFLFlush::Sync);
            assert_eq!(consumed, sample.len());
            buf.truncate(written);
            assert!(buf.ends_with(&TAIL));
            buf.truncate(written - TAIL.len());
            assert!(inflate_frames(&mut inflater, &[&buf], NO_LIMIT).unwrap() == *sample);
        }

        // This deflater compresses, miniz_oxide inflates.
        let mut deflater = Deflater::new(TAKEOVER, level as u32);
        let mut state = InflateState::new_boxed(DataFormat::Raw);
        for sample in &samples {
            let mut input = deflate(&mut deflater, sample);
            input.extend_from_slice(&TAIL);
            let mut out = vec![0; sample.len() + 64];
            let r = inflate(&mut state, &input, &mut out, MZFlush::Sync);
            assert!(r.status.is_ok(), "{:?}", r.status);
            assert_eq!(r.bytes_consumed, input.len());
            assert!(out[..r.bytes_written] == *sample);
        }
    }
}

#[test]
fn a_released_deflater_continues_the_same_stream() {
    // Context takeover across release(): the messages after each release still refer back to
    // the ones before it (they stay tiny) and the peer's one inflater reads them all.
    for bits in [9u8, 12, 15] {
        let params = StreamParams {
            window_bits: bits,
            no_context_takeover: false,
        };
        let mut rng = XorShift::new(u64::from(bits));
        let message = json_like(&mut rng, 1024);
        let mut deflater = Deflater::new(params, 6);
        let mut inflater = Inflater::new(params);
        let first = deflate(&mut deflater, &message);
        assert_eq!(
            inflate_frames(&mut inflater, &[&first], NO_LIMIT).unwrap(),
            message
        );
        for round in 0..5 {
            let kept = deflater.release();
            assert!(deflater.is_released());
            assert!(kept > 0 && kept <= 1 << bits, "bits {bits}: kept {kept}");
            assert_eq!(
                deflater.release(),
                kept,
                "a second release keeps the same bytes"
            );
            let again = deflate(&mut deflater, &message);
            assert!(!deflater.is_released());
            if bits == 15 {
                assert!(
                    again.len() * 10 < first.len(),
                    "round {round}: {} vs {}",
                    again.len(),
                    first.len()
                );
            }
            assert_eq!(
                inflate_frames(&mut inflater, &[&again], NO_LIMIT).unwrap(),
                message,
                "bits {bits} round {round}"
            );
        }
    }
}

#[test]
fn a_released_shared_deflater_keeps_nothing() {
    let mut rng = XorShift::new(3);
    let message = json_like(&mut rng, 1024);
    let mut deflater = Deflater::new(NO_TAKEOVER, 6);
    let first = deflate(&mut deflater, &message);
    assert_eq!(deflater.release(), 0);
    assert_eq!(deflate(&mut deflater, &message), first);
    assert_eq!(inflate_one(NO_TAKEOVER, &first).unwrap(), message);
}
