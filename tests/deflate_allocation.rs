//! What permessage-deflate costs the allocator, through a counting global allocator: inflating
//! a compression bomb never holds more than the message limit plus the inflater's fixed state,
//! and a deflater and an inflater hold a bounded state between messages.

mod deflate_support;

use std::alloc::System;

use cap::Cap;
use daloy_ws_native::deflate::{mapped_bytes, Deflater, Inflater, StreamParams};
use daloy_ws_native::error::ErrorKind;
use deflate_support::zero_bomb;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// The most an inflater's own state may take: zlib-rs allocates its state and a 32 KiB window
/// (about 45 KiB at every window size, docs/DEFLATE.md), with room to spare.
const INFLATER_STATE_MAX: usize = 64 * 1024;

/// The most a deflater's own state may take at level 6 and a 15-bit window: zlib-rs holds
/// about 371 KiB there (docs/DEFLATE.md), with room to spare.
const DEFLATER_STATE_MAX: usize = 400 * 1024;

// One test in this file: the allocator's counters are process-wide.
#[test]
fn a_gigabyte_bomb_costs_the_limit_plus_a_fixed_bound_and_states_stay_bounded() {
    // 1 GiB of zeros in about 1 MiB, the most DEFLATE's 1032:1 ratio allows.
    let bomb = zero_bomb(1023);
    let limit: u64 = 16 << 20;

    let before = ALLOCATOR.allocated();
    let mut inflater = Inflater::new(StreamParams {
        window_bits: 15,
        no_context_takeover: false,
    });
    let mut out = Vec::new();
    // Frames of 64 KiB, each inflated as it arrives, as the sink will feed them.
    let mut error = None;
    for frame in bomb.chunks(64 * 1024) {
        if let Err(err) = inflater.inflate(frame, false, &mut out, limit) {
            error = Some(err);
            break;
        }
    }
    let peak = ALLOCATOR.max_allocated();
    assert_eq!(
        error.map(|e| e.kind),
        Some(ErrorKind::PayloadTooLarge {
            limit,
            actual: limit + 1
        })
    );
    let bound = before + limit as usize + 1 + INFLATER_STATE_MAX;
    assert!(
        peak <= bound,
        "peak {peak} bytes, bound {bound} (live before {before})"
    );
    drop(out);

    drop(inflater);

    // Between messages: what each holds once a message went through it.
    let params = StreamParams {
        window_bits: 15,
        no_context_takeover: false,
    };
    let message = b"{\"id\":1,\"text\":\"hello\"}".repeat(40);
    let mut compressed = Vec::with_capacity(4096);
    let mut inflated = Vec::with_capacity(4096);
    // The heap and, on Unix, the compressor's own mapping.
    let holds = || ALLOCATOR.allocated() + mapped_bytes();
    let before = holds();
    let mut deflater = Deflater::new(params, 6);
    deflater.deflate(&message, &mut compressed).unwrap();
    let deflater_holds = holds() - before;
    let before = ALLOCATOR.allocated();
    let mut inflater = Inflater::new(params);
    inflater
        .inflate(&compressed, true, &mut inflated, u64::MAX)
        .unwrap();
    let inflater_holds = ALLOCATOR.allocated() - before;
    assert_eq!(inflated, message);
    assert!(
        deflater_holds <= DEFLATER_STATE_MAX,
        "deflater holds {deflater_holds}"
    );
    assert!(
        inflater_holds <= INFLATER_STATE_MAX,
        "inflater holds {inflater_holds}"
    );
    assert!(
        inflater_holds > 0 && deflater_holds > 300 * 1024,
        "deflater holds {deflater_holds}"
    );

    // Released, the deflater keeps only the stream's last bytes (here the whole message).
    let before = holds() - deflater_holds;
    let kept = deflater.release();
    assert_eq!(kept, message.len());
    assert!(holds() <= before + kept, "{} > {before} + {kept}", holds());
}
