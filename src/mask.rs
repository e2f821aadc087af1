//! Payload masking (RFC 6455 §5.3).
//!
//! RFC 6455 §5.3: octet i of the transformed data is octet i of the original data XOR octet
//! (i MOD 4) of the masking key. Masking and unmasking are the same operation.
//!
//! The XOR runs eight bytes at a time on a `u64` holding the key twice, rotated so that the
//! first byte of the slice lines up with key octet `phase`. Because 8 is a multiple of 4 the
//! rotation stays aligned for every word; the compiler turns the word loop into vector code,
//! which measured as fast as hand-written SIMD.
//!
//! On x86-64 the same loops are also compiled for AVX2 and chosen at run time when the CPU has
//! it (`multiversion`): the baseline target only allows SSE2, whose 16-byte vectors took twice as
//! long as AVX2's 32-byte ones on a 64 KiB payload in cache on an AMD EPYC (1.15 against 0.58 µs).

use multiversion::multiversion;

/// The key repeated twice as the bytes of one word, starting at key octet `phase % 4`.
#[inline]
fn key_word(key: [u8; 4], phase: usize) -> ([u8; 4], u64) {
    let mut rotated = [0u8; 4];
    for (i, byte) in rotated.iter_mut().enumerate() {
        *byte = key[(i + phase) & 3];
    }
    let [a, b, c, d] = rotated;
    // Native byte order: the word is only ever XORed with words read the same way, so each
    // byte meets the key octet at the same position whatever the platform's endianness.
    (rotated, u64::from_ne_bytes([a, b, c, d, a, b, c, d]))
}

/// XORs `buf` in place with `key`, as if the first byte of `buf` were byte `phase` of the
/// payload (only `phase % 4` matters). Unmasking a payload in pieces, passing each piece the
/// number of payload bytes already processed, gives the same bytes as unmasking it whole.
#[multiversion(targets("x86_64+avx2"))]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) {
    apply_mask_words(buf, key, phase);
}

/// The loop of [`apply_mask`], inlined into each of its versions.
#[inline(always)]
fn apply_mask_words(buf: &mut [u8], key: [u8; 4], phase: usize) {
    let (rotated, word) = key_word(key, phase);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for chunk in words {
        *chunk = (u64::from_ne_bytes(*chunk) ^ word).to_ne_bytes();
    }
    for (i, byte) in tail.iter_mut().enumerate() {
        *byte ^= rotated[i & 3];
    }
}

/// Copies `src` into `dst` and XORs it with `key` in the same pass, `phase` as for
/// [`apply_mask`]. Expects `dst.len() == src.len()`; with unequal lengths only the first
/// `min(dst.len(), src.len())` bytes are written.
#[multiversion(targets("x86_64+avx2"))]
pub fn unmask_into(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) {
    unmask_into_words(dst, src, key, phase);
}

/// The loop of [`unmask_into`], inlined into each of its versions.
#[inline(always)]
fn unmask_into_words(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) {
    let (rotated, word) = key_word(key, phase);
    let len = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..len], &src[..len]);
    let (dst_words, dst_tail) = dst.as_chunks_mut::<8>();
    let (src_words, src_tail) = src.as_chunks::<8>();
    for (d, s) in dst_words.iter_mut().zip(src_words) {
        *d = (u64::from_ne_bytes(*s) ^ word).to_ne_bytes();
    }
    for (i, (d, s)) in dst_tail.iter_mut().zip(src_tail).enumerate() {
        *d = s ^ rotated[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::{apply_mask, apply_mask_words, unmask_into, unmask_into_words};

    fn reference(data: &[u8], key: [u8; 4], phase: usize) -> Vec<u8> {
        data.iter()
            .enumerate()
            .map(|(i, b)| b ^ key[(i + phase) % 4])
            .collect()
    }

    #[test]
    fn unmasks_the_rfc_masked_hello() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    // Lengths past several unrolled iterations of the widest (AVX2) loop, each with every tail,
    // for the version the CPU running the test gets and for the baseline loop.
    #[test]
    fn matches_the_bytewise_definition_for_every_length_and_phase() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i as u8).wrapping_mul(37).wrapping_add(11))
            .collect();
        for len in 0..data.len() {
            for phase in 0..8 {
                let expected = reference(&data[..len], key, phase);
                let mut in_place = data[..len].to_vec();
                apply_mask(&mut in_place, key, phase);
                assert_eq!(in_place, expected, "apply_mask len {len} phase {phase}");
                let mut in_place = data[..len].to_vec();
                apply_mask_words(&mut in_place, key, phase);
                assert_eq!(
                    in_place, expected,
                    "apply_mask_words len {len} phase {phase}"
                );
                let mut copied = vec![0u8; len];
                unmask_into(&mut copied, &data[..len], key, phase);
                assert_eq!(copied, expected, "unmask_into len {len} phase {phase}");
                let mut copied = vec![0u8; len];
                unmask_into_words(&mut copied, &data[..len], key, phase);
                assert_eq!(
                    copied, expected,
                    "unmask_into_words len {len} phase {phase}"
                );
            }
        }
    }

    // A slice that starts at every alignment inside a buffer, as payloads do inside a read.
    #[test]
    fn unaligned_slices_match_the_bytewise_definition() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let data: Vec<u8> = (0..1200u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..64 {
            let slice = &data[start..start + 1024];
            let expected = reference(slice, key, start);
            let mut buf = data.clone();
            apply_mask(&mut buf[start..start + 1024], key, start);
            assert_eq!(
                &buf[start..start + 1024],
                &expected[..],
                "apply_mask start {start}"
            );
            let mut copied = vec![0u8; 1024 + 64];
            unmask_into(&mut copied[start..start + 1024], slice, key, start);
            assert_eq!(
                &copied[start..start + 1024],
                &expected[..],
                "unmask_into start {start}"
            );
        }
    }

    #[test]
    fn carries_the_phase_across_pieces() {
        let key = [0xa1, 0xb2, 0xc3, 0xd4];
        let data: Vec<u8> = (0..61u8).collect();
        let whole = reference(&data, key, 0);
        for cut in 0..=data.len() {
            let mut pieces = data.clone();
            let (first, second) = pieces.split_at_mut(cut);
            apply_mask(first, key, 0);
            apply_mask(second, key, cut);
            assert_eq!(pieces, whole, "cut at {cut}");
        }
    }

    #[test]
    fn masking_twice_restores_the_payload() {
        let key = [9, 8, 7, 6];
        let data: Vec<u8> = (0..=255u8).collect();
        let mut buf = data.clone();
        apply_mask(&mut buf, key, 3);
        apply_mask(&mut buf, key, 3);
        assert_eq!(buf, data);
    }

    #[test]
    fn unmask_into_writes_only_the_common_length() {
        let mut dst = [0u8; 3];
        unmask_into(&mut dst, &[1, 2, 3, 4, 5], [1, 1, 1, 1], 0);
        assert_eq!(dst, [0, 3, 2]);
        let mut dst = [7u8; 5];
        unmask_into(&mut dst, &[1, 2], [0, 0, 0, 0], 0);
        assert_eq!(dst, [1, 2, 7, 7, 7]);
    }
}
