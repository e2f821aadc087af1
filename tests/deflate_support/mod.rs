//! Inputs shared by the permessage-deflate tests.

use flate2::{Compress, Compression, FlushCompress};

/// A raw DEFLATE stream of `repeats + 1` MiB of zeros in about 1 KiB per MiB (DEFLATE expands
/// at most about 1032:1): one sync-flushed segment that starts the zeros, then a segment that
/// only copies from the window, repeated.
pub fn zero_bomb(repeats: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new_with_window_bits(Compression::best(), false, 15);
    let mut first = Vec::with_capacity(4096);
    c.compress_vec(&zeros, &mut first, FlushCompress::Sync)
        .expect("compress");
    let mut steady = Vec::with_capacity(4096);
    c.compress_vec(&zeros, &mut steady, FlushCompress::Sync)
        .expect("compress");
    let mut bomb = first;
    for _ in 0..repeats {
        bomb.extend_from_slice(&steady);
    }
    bomb
}
