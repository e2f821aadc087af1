//! What the sink asks of the allocator, observed through a counting global allocator: a header
//! alone never makes it reserve more than its look-ahead bound, and a fragmented message never
//! holds more than the payload limit.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::frame;
use daloy_ws_native::sink::{FrameSink, Payload, SinkOptions};

/// Records the largest single allocation or reallocation requested while armed.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);
static ARMED: AtomicUsize = AtomicUsize::new(0);
/// The tests of this file share the counter: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn note(size: usize) {
    if ARMED.load(Ordering::Relaxed) != 0 {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the wrapper only reads the
// requested sizes.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// The largest request made while `f` runs.
fn largest_request(f: impl FnOnce()) -> usize {
    LARGEST.store(0, Ordering::Relaxed);
    ARMED.store(1, Ordering::Relaxed);
    f();
    ARMED.store(0, Ordering::Relaxed);
    LARGEST.load(Ordering::Relaxed)
}

#[test]
fn does_not_reserve_a_huge_declared_length_up_front_when_unlimited() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let unlimited = SinkOptions {
        max_payload_length: u64::MAX,
        ..SinkOptions::default()
    };
    for b0 in [0x02u8, 0x82] {
        // A header declaring 2^45 bytes, then a few of them.
        let mut stream = vec![b0, 0x7f, 0, 0, 0x20, 0, 0, 0, 0, 0];
        stream.extend_from_slice(b"some bytes");
        let mut sink = FrameSink::new(unlimited);
        let mut events = Vec::new();
        let largest = largest_request(|| {
            let outcome = sink.push(&stream, &mut [0; 64], &mut events);
            assert_eq!(outcome.error, None);
        });
        assert!(
            largest <= 64 << 20,
            "first byte {b0:#x}: requested {largest} bytes"
        );
        assert_eq!(sink.buffered_len(), 10);
    }
}

#[test]
fn reserves_a_declared_length_within_the_limit_once() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let opts = SinkOptions {
        max_payload_length: 1 << 20,
        ..SinkOptions::default()
    };
    let payload = vec![7u8; 100_000];
    let stream = frame(false, 0x2, &payload, None);
    let mut sink = FrameSink::new(opts);
    let mut events = Vec::new();
    let largest = largest_request(|| {
        for piece in stream.chunks(1000) {
            sink.push(piece, &mut [], &mut events);
        }
    });
    assert_eq!(largest, 100_000, "one exact reservation for the frame");
    assert_eq!(sink.buffered_len(), 100_000);
}

#[test]
fn holds_no_more_than_the_limit_for_a_message_of_many_fragments() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let limit = 300_000u64;
    let opts = SinkOptions {
        max_payload_length: limit,
        ..SinkOptions::default()
    };
    let mut stream = Vec::new();
    for i in 0..1000u32 {
        let opcode = if i == 0 { 0x2 } else { 0x0 };
        stream.extend_from_slice(&frame(i == 999, opcode, &[i as u8; 300], None));
    }
    let mut sink = FrameSink::new(opts);
    let mut events = Vec::new();
    let largest = largest_request(|| {
        for piece in stream.chunks(4096) {
            let outcome = sink.push(piece, &mut [], &mut events);
            assert_eq!(outcome.error, None);
        }
    });
    assert!(
        largest as u64 <= limit,
        "requested {largest} bytes with a {limit}-byte limit"
    );
    assert_eq!(events.len(), 1);
    match &events[0].payload {
        Payload::Owned(bytes) => assert_eq!(bytes.len(), 300_000),
        other => panic!("expected an owned payload, got {other:?}"),
    }
}

#[test]
fn holds_no_more_than_the_limit_for_a_large_frame_arriving_in_small_reads() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let limit = 210_000u64;
    let opts = SinkOptions {
        max_payload_length: limit,
        ..SinkOptions::default()
    };
    let stream = frame(true, 0x2, &[9u8; 200_000], Some([1, 2, 3, 4]));
    let mut sink = FrameSink::new(opts);
    let mut events = Vec::new();
    let largest = largest_request(|| {
        for piece in stream.chunks(1500) {
            let outcome = sink.push(piece, &mut [], &mut events);
            assert_eq!(outcome.error, None);
        }
    });
    assert!(
        largest as u64 <= limit,
        "requested {largest} bytes with a {limit}-byte limit"
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload.len(), 200_000);
}

#[test]
fn replays_the_fuzzer_input_that_reserved_a_declared_terabyte() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // fuzz/corpus/sink/regression-unlimited-huge-fragment without its six option bytes: a
    // 2-byte binary message, then a fragment declaring 0x1_0900_0000_316c bytes.
    let stream = [
        0x82, 0x7e, 0x00, 0x02, 0xaa, 0xbb, 0x02, 0x7f, 0x00, 0x01, 0x09, 0x00, 0x00, 0x00, 0x31,
        0x6c, 0xcc,
    ];
    let unlimited = SinkOptions {
        max_payload_length: u64::MAX,
        ..SinkOptions::default()
    };
    let run = {
        let mut run = None;
        let largest = largest_request(|| run = Some(common::run_whole(unlimited, &stream, 125)));
        assert!(largest <= 64 << 20, "requested {largest} bytes");
        run.unwrap()
    };
    assert_eq!(run.error, None);
    assert_eq!(
        run.seen(),
        [(
            daloy_ws_native::sink::EventKind::Binary,
            &[0xaa, 0xbb][..],
            0
        )]
    );
}
