//! The streaming sink on arbitrary bytes, with options, arena size and split points taken from
//! the input. The shared test driver checks the sink's invariants after every push (arena
//! bounds, event layout, bounded buffering, done state); the result must not depend on the
//! split, nor on whether a destination is offered for large messages or the pieces are parsed in place, and must match the
//! whole-buffer reference decoder. With permessage-deflate on (a bit of the configuration; the
//! reference decoder knows no compression), the result of every split must match the whole-buffer
//! run.
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;

use common::{outcome, random_cuts, reference, run_bytewise, run_cut, run_whole, XorShift};
use daloy_ws_native::deflate::StreamParams;
use daloy_ws_native::sink::SinkOptions;
use libfuzzer_sys::fuzz_target;

/// Bytes at the start of the input that choose the options, the arena and the split.
const CONFIG: usize = 6;

fuzz_target!(|data: &[u8]| {
    let Some((config, stream)) = data.split_first_chunk::<CONFIG>() else {
        return;
    };
    let opts = SinkOptions {
        require_mask: config[0] & 1 != 0,
        reject_mask: config[0] & 0x20 != 0,
        max_payload_length: match (config[0] >> 1) & 3 {
            0 => u64::MAX,
            1 => u64::from(config[1]),
            2 => u64::from(u16::from_be_bytes([config[1], config[2]])),
            _ => 1 << 20,
        },
        max_fragments: match (config[0] >> 3) & 3 {
            0 => u32::from(config[2] % 8),
            1 => u32::from(config[2]),
            _ => 131_072,
        },
        deflate: (config[0] & 0x20 != 0).then_some(StreamParams {
            window_bits: 15,
            no_context_takeover: config[0] & 0x40 != 0,
        }),
    };
    let arenas = [0, 1, 8, 125, 4096, 1 << 16];
    let arena = arenas[usize::from(config[3]) % arenas.len()];
    let split_arena = arenas[usize::from(config[3] >> 4) % arenas.len()];
    let mut rng = XorShift::new(u64::from(u16::from_be_bytes([config[4], config[5]])));
    let cuts = random_cuts(&mut rng, stream.len());

    let whole = outcome(&run_whole(opts, stream, arena));
    let expected = if opts.deflate.is_some() {
        whole
    } else {
        let expected = reference(opts, stream);
        assert_eq!(whole, expected, "whole");
        expected
    };
    assert_eq!(
        outcome(&run_cut(opts, stream, &cuts, split_arena)),
        expected,
        "cut at {cuts:?}"
    );
    // The same cuts pushed in place (each piece at the start of the free arena, as the native
    // transport reads): the same result.
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut last = 0;
    for &cut in &cuts {
        pieces.push(&stream[last..cut]);
        last = cut;
    }
    pieces.push(&stream[last..]);
    assert_eq!(
        outcome(&common::run_in_place(opts, pieces.iter().copied(), arena)),
        expected,
        "in place, cut at {cuts:?}"
    );
    if stream.len() <= 1024 {
        assert_eq!(
            outcome(&run_bytewise(opts, stream, arena)),
            expected,
            "one byte at a time"
        );
    }
});
