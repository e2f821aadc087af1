//! Throughput, compressed size and memory of permessage-deflate backends, for the record in
//! docs/DEFLATE.md (a measurement, not a test):
//!
//! ```text
//! cargo run --release --no-default-features --example deflate_bench
//! ```
//!
//! Compares `flate2` on zlib-rs (the core's [`Deflater`] and [`Inflater`], as used) with
//! `miniz_oxide` driven directly (the pure-Rust alternative, `flate2`'s default backend), on
//! 1 KiB of JSON-like text and 64 KiB of English-like text, one message at a time without
//! context takeover (the shared mode). Each figure is the median of 5 runs of about 300 ms;
//! the hypervisor steal seen during the whole run and the load average are printed, since the
//! machine is shared: compare backends within one run, not across runs.

use std::alloc::System;
use std::time::{Duration, Instant};

use cap::Cap;
use daloy_ws_native::deflate::{mapped_bytes, Deflater, Inflater, StreamParams, TAIL};
use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
};
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// xorshift64*: the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Chat or API traffic: JSON objects with repeated keys and varying values.
fn json_like(rng: &mut Rng, len: usize) -> Vec<u8> {
    let names = ["ana", "bo", "chen", "dara", "eli", "farah", "gus"];
    let words = [
        "hello",
        "ok",
        "see you",
        "on my way",
        "lunch?",
        "done",
        "thanks!",
    ];
    let mut out = String::from("[");
    while out.len() < len {
        out.push_str(&format!(
            "{{\"id\":{},\"user\":\"{}\",\"text\":\"{} {}\",\"ts\":{},\"read\":{}}},",
            rng.next() % 100_000,
            rng.pick(&names),
            rng.pick(&words),
            rng.pick(&words),
            1_764_000_000 + rng.next() % 1_000_000,
            rng.next().is_multiple_of(2)
        ));
    }
    out.truncate(len);
    out.into_bytes()
}

/// Prose from a small vocabulary with English-like word frequencies.
fn text_like(rng: &mut Rng, len: usize) -> Vec<u8> {
    let words = [
        "the",
        "of",
        "and",
        "to",
        "a",
        "in",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "had",
        "they",
        "you",
        "were",
        "their",
        "one",
        "all",
        "we",
        "can",
        "her",
        "has",
        "there",
        "been",
        "if",
        "more",
        "when",
        "will",
        "would",
        "who",
        "so",
        "no",
        "message",
        "server",
        "connection",
        "window",
        "frame",
        "compression",
        "protocol",
    ];
    let mut out = String::new();
    while out.len() < len {
        // Zipf-like: low indices far more often.
        let i = ((rng.next() % 1000) as f64 / 1000.0).powi(3) * words.len() as f64;
        out.push_str(words[i as usize]);
        out.push(if rng.next().is_multiple_of(12) {
            '.'
        } else {
            ' '
        });
    }
    out.truncate(len);
    out.into_bytes()
}

trait Backend {
    fn compress(&mut self, message: &[u8], out: &mut Vec<u8>);
    fn decompress(&mut self, compressed: &[u8], out: &mut Vec<u8>);
}

struct Zlibrs {
    deflater: Deflater,
    inflater: Inflater,
}

impl Zlibrs {
    fn new(level: u32, window_bits: u8) -> Self {
        let params = StreamParams {
            window_bits,
            no_context_takeover: true,
        };
        Zlibrs {
            deflater: Deflater::new(params, level),
            inflater: Inflater::new(params),
        }
    }
}

impl Backend for Zlibrs {
    fn compress(&mut self, message: &[u8], out: &mut Vec<u8>) {
        self.deflater.deflate(message, out).expect("deflate");
    }
    fn decompress(&mut self, compressed: &[u8], out: &mut Vec<u8>) {
        self.inflater
            .inflate(compressed, true, out, u64::MAX)
            .expect("inflate");
    }
}

struct Miniz {
    compressor: Box<CompressorOxide>,
    state: Box<InflateState>,
    input: Vec<u8>,
}

impl Miniz {
    fn new(level: u8) -> Self {
        Miniz {
            compressor: Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                i32::from(level),
                -15,
                0,
            ))),
            state: InflateState::new_boxed(DataFormat::Raw),
            input: Vec::new(),
        }
    }
}

impl Backend for Miniz {
    fn compress(&mut self, message: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + message.len() + message.len() / 8 + 64, 0);
        let (_, consumed, written) = compress(
            &mut self.compressor,
            message,
            &mut out[start..],
            TDEFLFlush::Sync,
        );
        assert_eq!(consumed, message.len());
        out.truncate(start + written);
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - TAIL.len());
        self.compressor.reset();
    }
    fn decompress(&mut self, compressed: &[u8], out: &mut Vec<u8>) {
        self.input.clear();
        self.input.extend_from_slice(compressed);
        self.input.extend_from_slice(&TAIL);
        let mut input = &self.input[..];
        loop {
            let start = out.len();
            out.resize(start + 64 * 1024, 0);
            let r = inflate(&mut self.state, input, &mut out[start..], MZFlush::Sync);
            out.truncate(start + r.bytes_written);
            input = &input[r.bytes_consumed..];
            match r.status {
                // No progress left to make: the input is used up and the output not full.
                Err(MZError::Buf) => break,
                Err(e) => panic!("inflate: {e:?}"),
                Ok(_) if input.is_empty() && r.bytes_written < 64 * 1024 => break,
                Ok(_) => {}
            }
        }
        self.state.reset(DataFormat::Raw);
    }
}

/// Median bytes per second of `f` (which handles `bytes` bytes per call) over 5 runs.
fn throughput(bytes: usize, mut f: impl FnMut()) -> f64 {
    let mut rates = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            for _ in 0..16 {
                f();
            }
            calls += 16;
        }
        rates.push((calls * bytes as u64) as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    rates[2]
}

fn steal_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    (fields.get(7).copied().unwrap_or(0), fields.iter().sum())
}

fn main() {
    let (steal0, total0) = steal_ticks();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let inputs = [
        ("1 KiB JSON-like", json_like(&mut rng, 1024)),
        ("64 KiB text", text_like(&mut rng, 64 * 1024)),
    ];

    println!(
        "| backend | level | input | compressed bytes | ratio | compress MB/s | inflate MB/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for level in [1u8, 6] {
        let mut backends: [(&str, Box<dyn Backend>); 2] = [
            (
                "flate2 + zlib-rs",
                Box::new(Zlibrs::new(u32::from(level), 15)),
            ),
            ("miniz_oxide", Box::new(Miniz::new(level))),
        ];
        for (name, backend) in backends.iter_mut() {
            for (label, input) in &inputs {
                let mut compressed = Vec::new();
                backend.compress(input, &mut compressed);
                let mut check = Vec::new();
                backend.decompress(&compressed, &mut check);
                assert!(check == *input, "{name} round trip");
                let mut out = Vec::with_capacity(input.len() * 2);
                let compress_rate = throughput(input.len(), || {
                    out.clear();
                    backend.compress(input, &mut out);
                });
                let mut out = Vec::with_capacity(input.len() * 2);
                let inflate_rate = throughput(input.len(), || {
                    out.clear();
                    backend.decompress(&compressed, &mut out);
                });
                println!(
                    "| {name} | {level} | {label} | {} | {:.2} | {:.0} | {:.0} |",
                    compressed.len(),
                    input.len() as f64 / compressed.len() as f64,
                    compress_rate / 1e6,
                    inflate_rate / 1e6
                );
            }
        }
    }

    // The dedicated mode against the shared one: 64 different 1 KiB messages in rotation, so a
    // kept window helps as it would on a real connection, not by repeating one message.
    let messages: Vec<Vec<u8>> = (0..64).map(|_| json_like(&mut rng, 1024)).collect();
    println!();
    println!("| mode (flate2 + zlib-rs, 1 KiB JSON-like, 64 messages in rotation) | level | mean compressed bytes | compress MB/s |");
    println!("| --- | --- | --- | --- |");
    for level in [1u32, 6] {
        for (mode, no_context_takeover) in [
            ("shared (reset per message)", true),
            ("dedicated (context takeover)", false),
        ] {
            let params = StreamParams {
                window_bits: 15,
                no_context_takeover,
            };
            let mut deflater = Deflater::new(params, level);
            let mut out = Vec::with_capacity(4096);
            let mut total = 0;
            for message in &messages {
                out.clear();
                total += deflater.deflate(message, &mut out).expect("deflate");
            }
            let mut i = 0;
            let rate = throughput(1024, || {
                out.clear();
                deflater
                    .deflate(&messages[i % 64], &mut out)
                    .expect("deflate");
                i += 1;
            });
            println!("| {mode} | {level} | {} | {:.0} |", total / 64, rate / 1e6);
        }
    }

    println!();
    println!("| window bits | deflater level 1 | deflater level 6 | deflater level 9 | inflater |");
    println!("| --- | --- | --- | --- | --- |");
    let message = &inputs[0].1;
    for bits in 9..=15u8 {
        let params = StreamParams {
            window_bits: bits,
            no_context_takeover: false,
        };
        let mut compressed = Vec::with_capacity(4096);
        let mut row = format!("| {bits} |");
        for level in [1, 6, 9] {
            compressed.clear();
            let before = ALLOCATOR.allocated() + mapped_bytes();
            let mut deflater = Deflater::new(params, level);
            deflater.deflate(message, &mut compressed).expect("deflate");
            row.push_str(&format!(
                " {} |",
                kib(ALLOCATOR.allocated() + mapped_bytes() - before)
            ));
            drop(deflater);
        }
        let mut inflated = Vec::with_capacity(4096);
        let before = ALLOCATOR.allocated();
        let mut inflater = Inflater::new(params);
        inflater
            .inflate(&compressed, true, &mut inflated, u64::MAX)
            .expect("inflate");
        row.push_str(&format!(" {} |", kib(ALLOCATOR.allocated() - before)));
        println!("{row}");
    }

    let before = ALLOCATOR.allocated();
    let miniz = Miniz::new(6);
    let miniz_deflate = ALLOCATOR.allocated() - before;
    drop(miniz);
    let before = ALLOCATOR.allocated();
    let state = InflateState::new_boxed(DataFormat::Raw);
    let miniz_inflate = ALLOCATOR.allocated() - before;
    drop(state);
    println!();
    println!(
        "miniz_oxide (window 15 only): compressor {}, inflater {}",
        kib(miniz_deflate),
        kib(miniz_inflate)
    );

    let (steal1, total1) = steal_ticks();
    println!(
        "steal during the run: {:.1}% of CPU time; load average at the end: {}",
        100.0 * (steal1 - steal0) as f64 / (total1 - total0).max(1) as f64,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
