//! The permessage-deflate inflater on arbitrary compressed payloads, split at points taken from
//! the input: no panic; never more than the limit of inflated bytes held, nor more than the
//! limit plus one byte of output capacity; the outcome does not depend on the split; and the
//! deflater's output for the same bytes, sent as several messages, inflates back to them.
#![no_main]

use daloy_ws_native::deflate::{Deflater, Inflater, StreamParams};
use libfuzzer_sys::fuzz_target;

/// Bytes at the start of the input that choose the parameters, the limit and the splits.
const CONFIG: usize = 4;

/// Inflates `payload` as one message cut at `cuts`, checking the bounds after every call.
fn inflate_cut(
    params: StreamParams,
    payload: &[u8],
    cuts: &[usize],
    limit: u64,
) -> Result<Vec<u8>, u16> {
    let mut inflater = Inflater::new(params);
    let mut out = Vec::new();
    let mut last = 0;
    for (i, &cut) in cuts.iter().chain([&payload.len()]).enumerate() {
        let cut = cut.clamp(last, payload.len());
        let fin = i == cuts.len();
        let before = out.len();
        let result = inflater.inflate(&payload[last..cut], fin, &mut out, limit);
        last = cut;
        assert!(out.len() as u64 <= limit, "{} > {limit}", out.len());
        if limit < u64::MAX {
            assert!(
                out.capacity() as u64 <= limit + 1,
                "capacity {} for {limit}",
                out.capacity()
            );
        }
        match result {
            Ok(n) => assert_eq!(out.len(), before + n),
            Err(err) => {
                assert_eq!(out.len(), before);
                if let Some((l, actual)) = err.size_limit() {
                    assert_eq!((l, actual), (limit, limit + 1));
                }
                return Err(err.close_code());
            }
        }
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((config, payload)) = data.split_first_chunk::<CONFIG>() else {
        return;
    };
    let params = StreamParams {
        window_bits: 8 + config[0] % 8,
        no_context_takeover: config[0] & 0x80 != 0,
    };
    let limit = match config[1] % 4 {
        0 => u64::MAX,
        1 => u64::from(config[2]),
        2 => u64::from(u16::from_be_bytes([config[2], config[3]])),
        _ => 1 << 20,
    };
    let a = usize::from(config[2]) % (payload.len() + 1);
    let b = usize::from(config[3]) % (payload.len() + 1);
    let cuts = [a.min(b), a.max(b)];

    // Arbitrary bytes as a compressed message.
    let whole = inflate_cut(params, payload, &[], limit);
    let split = inflate_cut(params, payload, &cuts, limit);
    assert_eq!(whole.is_ok(), split.is_ok(), "{whole:?} vs {split:?}");
    if let (Ok(x), Ok(y)) = (&whole, &split) {
        assert_eq!(x, y);
    }

    // The bytes as messages through the deflater and back, with the same parameters; with
    // context takeover each message may refer to the ones before.
    let level = u32::from(config[1] >> 4) % 10;
    let mut deflater = Deflater::new(params, level);
    let mut inflater = Inflater::new(params);
    let mut compressed = Vec::new();
    let mut inflated = Vec::new();
    for message in payload.split(|&b| b == b'|') {
        compressed.clear();
        inflated.clear();
        deflater.deflate(message, &mut compressed).expect("deflate");
        let (x, y) = compressed.split_at(usize::from(config[2]) % (compressed.len() + 1));
        inflater
            .inflate(x, false, &mut inflated, u64::MAX)
            .expect("inflate");
        inflater
            .inflate(y, true, &mut inflated, message.len() as u64)
            .expect("inflate");
        assert_eq!(inflated, message);
    }
});
