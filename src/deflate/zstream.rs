//! The compressor behind [`super::Deflater`]: zlib-rs through its zlib-compatible interface
//! (`libz-rs-sys`), which, unlike `flate2` and zlib-rs's own safe API, exposes `deflateTune` and
//! `memLevel`. This file is the core's one use of `unsafe`: each call hands zlib-rs a
//! `z_stream` that this type alone owns, and buffers that outlive the call.
//!
//! On Unix the compressor's memory (one block of about 370 KiB at window 15) is mapped on its own
//! (`mmap`), not taken from malloc: glibc serves a block of that size from its heap once a block of
//! that size has been freed (its mmap threshold rises), and memory freed inside the heap stays in the
//! process. Mapped, a released or dropped compressor gives its pages back to the system at once,
//! which is what releasing an idle connection's compressor is for.
//!
//! zlib-rs zeroes its window, chain and hash table when it starts a stream (256 KiB at window 15),
//! and its symbol buffer after every block (48 KiB), which makes all of them resident before the
//! first message is through, though a small message writes only the first pages of the window and
//! the chain. So after a compressor's first message the pages of its mappings that hold only zeros
//! are handed back (`madvise(MADV_DONTNEED)`: they read as zeros again, and come back one at a
//! time if the compressor writes there). Done once per compressor, after its first message rather
//! than at its start: the pages that message touched (the hash table's, mostly) stay, instead of
//! being handed back and faulted in again at once.

#![allow(unsafe_code)]

use std::mem::MaybeUninit;

use libz_rs_sys as z;

/// zlib's default `memLevel` (what Node's zlib, and so `ws`, uses): 16 Ki symbols per block.
const MEM_LEVEL: i32 = 8;

/// Longest input handed to zlib in one call (its counters are 32-bit).
const MAX_CHUNK: usize = 1 << 30;

/// Match-search settings set with `deflateTune` after every (re)initialisation: zlib's
/// `good_length`, `max_lazy`, `nice_length` and `max_chain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tune {
    pub good_length: i32,
    pub max_lazy: i32,
    pub nice_length: i32,
    pub max_chain: i32,
}

/// One raw-deflate stream (no zlib header), at a window of `window_bits` (9 to 15).
pub(super) struct RawDeflate {
    /// Boxed: zlib's state may refer back to its stream, so it must not move. `None` when
    /// zlib-rs could not allocate its state (every call then fails).
    stream: Option<Box<z::z_stream>>,
    tune: Option<Tune>,
    /// The record of the blocks zlib-rs took (Unix), which `stream.opaque` points to: owned here
    /// (a leaked box), freed after the stream is ended.
    #[cfg(unix)]
    blocks: std::ptr::NonNull<mapped::Blocks>,
    /// No message compressed yet (see the module's documentation).
    first: bool,
}

impl std::fmt::Debug for RawDeflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDeflate")
            .field("ready", &self.stream.is_some())
            .field("tune", &self.tune)
            .finish()
    }
}

impl RawDeflate {
    pub(super) fn new(level: i32, window_bits: u8, tune: Option<Tune>) -> Self {
        // SAFETY: an all-zero z_stream is what zlib expects before init (no allocator set: the
        // library picks its own, here Rust's global allocator).
        let mut stream: Box<z::z_stream> = Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        #[cfg(unix)]
        let blocks = std::ptr::NonNull::from(Box::leak(Box::<mapped::Blocks>::default()));
        #[cfg(unix)]
        {
            stream.zalloc = Some(mapped::zalloc);
            stream.zfree = Some(mapped::zfree);
            stream.opaque = blocks.as_ptr().cast();
        }
        // SAFETY: `stream` is a valid, zeroed z_stream; the version string and size are the
        // library's own.
        let rc = unsafe {
            z::deflateInit2_(
                &mut *stream,
                level,
                z::Z_DEFLATED,
                -i32::from(window_bits),
                MEM_LEVEL,
                z::Z_DEFAULT_STRATEGY,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as i32,
            )
        };
        let mut raw = RawDeflate {
            stream: (rc == z::Z_OK).then_some(stream),
            tune,
            #[cfg(unix)]
            blocks,
            first: true,
        };
        raw.apply_tune();
        raw
    }

    /// Hands back the pages of zeros (see the module's documentation).
    fn drop_zero_pages(&self) {
        // SAFETY: `blocks` is alive until drop, and no zlib call is running.
        #[cfg(unix)]
        unsafe { self.blocks.as_ref() }.drop_zero_pages();
    }

    /// Bytes of this compressor's memory resident right now (Unix; elsewhere what it allocated is
    /// not known here, and the answer is 0).
    pub(super) fn resident_bytes(&self) -> usize {
        // SAFETY: `blocks` is alive until drop, and no zlib call is running.
        #[cfg(unix)]
        return unsafe { self.blocks.as_ref() }.resident_bytes();
        #[cfg(not(unix))]
        return 0;
    }

    fn apply_tune(&mut self) {
        if let (Some(stream), Some(t)) = (self.stream.as_deref_mut(), self.tune) {
            // SAFETY: `stream` was initialised by deflateInit2_ and not ended.
            unsafe {
                z::deflateTune(
                    stream,
                    t.good_length,
                    t.max_lazy,
                    t.nice_length,
                    t.max_chain,
                )
            };
        }
    }

    /// Starts a new stream (the window is forgotten); the tuning is set again.
    pub(super) fn reset(&mut self) {
        if let Some(stream) = self.stream.as_deref_mut() {
            // SAFETY: initialised and not ended.
            unsafe { z::deflateReset(stream) };
        }
        self.apply_tune();
    }

    /// The last bytes this stream compressed that a later match may refer to (at most the
    /// window), empty when it compressed nothing since its last reset.
    pub(super) fn dictionary(&self) -> Vec<u8> {
        let Some(stream) = self.stream.as_deref() else {
            return Vec::new();
        };
        let mut len: u32 = 0;
        // SAFETY: initialised and not ended; a null buffer asks for the length only.
        unsafe { z::deflateGetDictionary(stream, std::ptr::null_mut(), &mut len) };
        let mut dictionary = vec![0u8; len as usize];
        // SAFETY: `dictionary` has room for the `len` bytes the call copies.
        unsafe { z::deflateGetDictionary(stream, dictionary.as_mut_ptr(), &mut len) };
        dictionary.truncate(len as usize);
        dictionary
    }

    /// Primes a stream that has compressed nothing yet with `dictionary`: what it compresses next
    /// may refer back into it. `Err(())` when the library refuses.
    pub(super) fn set_dictionary(&mut self, dictionary: &[u8]) -> Result<(), ()> {
        let stream = self.stream.as_deref_mut().ok_or(())?;
        if dictionary.is_empty() {
            return Ok(());
        }
        // SAFETY: initialised; zlib reads `dictionary.len()` bytes of `dictionary` during the call.
        let rc = unsafe {
            z::deflateSetDictionary(stream, dictionary.as_ptr(), dictionary.len() as u32)
        };
        if rc == z::Z_OK {
            Ok(())
        } else {
            Err(())
        }
    }

    /// Compresses all of `input` with a sync flush, appending to `out`. `Err(())` on a library
    /// failure (then `out` may hold part of the output; the caller truncates and resets).
    pub(super) fn compress_sync(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
        let stream = self.stream.as_deref_mut().ok_or(())?;
        let start = out.len();
        loop {
            let chunk = input.len().min(MAX_CHUNK);
            let last = chunk == input.len();
            // Text of the kind worth compressing shrinks well; the buffer doubles when not.
            let written = out.len() - start;
            out.reserve(written.max(chunk / 4) + 64);
            let room = (out.capacity() - out.len()).min(MAX_CHUNK);
            stream.next_in = input.as_ptr().cast_mut();
            stream.avail_in = chunk as u32;
            // SAFETY: the spare capacity of `out` is `room` writable bytes past its length.
            stream.next_out = unsafe { out.as_mut_ptr().add(out.len()) };
            stream.avail_out = room as u32;
            let flush = if last { z::Z_SYNC_FLUSH } else { z::Z_NO_FLUSH };
            // SAFETY: `stream` is initialised; next_in/avail_in describe `input`, which zlib
            // only reads, and next_out/avail_out the spare capacity of `out`; both outlive the call.
            let rc = unsafe { z::deflate(stream, flush) };
            let consumed = chunk - stream.avail_in as usize;
            let produced = room - stream.avail_out as usize;
            // SAFETY: zlib wrote `produced` bytes into the spare capacity.
            unsafe { out.set_len(out.len() + produced) };
            stream.next_in = std::ptr::null_mut();
            stream.next_out = std::ptr::null_mut();
            input = input.get(consumed..).unwrap_or_default();
            let done = last && input.is_empty() && stream.avail_out > 0;
            match rc {
                // zlib: the flush is complete once a call returns with output room to spare; a
                // repeated flush with nothing new to write answers Z_BUF_ERROR.
                z::Z_OK | z::Z_BUF_ERROR if done => {
                    if std::mem::take(&mut self.first) {
                        self.drop_zero_pages();
                    }
                    return Ok(());
                }
                z::Z_OK | z::Z_BUF_ERROR if consumed > 0 || produced > 0 => {}
                _ => return Err(()),
            }
        }
    }
}

impl Drop for RawDeflate {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.as_deref_mut() {
            // SAFETY: initialised and not yet ended; ended once, here.
            unsafe { z::deflateEnd(stream) };
        }
        // SAFETY: the box leaked in `new`, freed once, here; the stream that
        // pointed to it is ended.
        #[cfg(unix)]
        drop(unsafe { Box::from_raw(self.blocks.as_ptr()) });
    }
}

/// Bytes of compressor memory mapped outside the heap right now (Unix; 0 elsewhere): with a
/// counting global allocator's figure, what the deflaters hold.
pub fn mapped_bytes() -> usize {
    #[cfg(unix)]
    return mapped::LIVE.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(unix))]
    return 0;
}

/// zlib allocation functions that map every block on its own (see the module's documentation),
/// and the record of one stream's blocks they keep through zlib's `opaque` pointer.
#[cfg(unix)]
mod mapped {
    use std::ffi::c_void;
    use std::ptr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Bytes mapped by `zalloc` and not yet unmapped.
    pub(super) static LIVE: AtomicUsize = AtomicUsize::new(0);

    /// Bytes before the block handed to zlib: the mapping's length, kept for `munmap`.
    const HEADER: usize = 16;

    /// The mappings one stream holds, as (start, length).
    #[derive(Default)]
    pub(super) struct Blocks(Vec<(usize, usize)>);

    impl Blocks {
        /// Hands back to the system every page of these mappings that holds only zeros: it reads as
        /// zeros again afterwards, so nothing the stream sees changes.
        pub(super) fn drop_zero_pages(&self) {
            let page = page_size();
            for &(base, len) in &self.0 {
                let mut run: Option<usize> = None;
                let mut at = base;
                // Whole pages only: the last one may extend past the mapping's length.
                while at + page <= base + len {
                    // SAFETY: `at..at + page` lies inside a live mapping of this stream, readable
                    // and page-aligned (mappings start on a page); nothing writes it during the call.
                    let words = unsafe { std::slice::from_raw_parts(at as *const u64, page / 8) };
                    let zero = words
                        .chunks(64)
                        .all(|chunk| chunk.iter().fold(0, |acc, w| acc | w) == 0);
                    match (zero, run) {
                        (true, None) => run = Some(at),
                        (false, Some(start)) => {
                            discard(start, at - start);
                            run = None;
                        }
                        _ => {}
                    }
                    at += page;
                }
                if let Some(start) = run {
                    discard(start, at - start);
                }
            }
        }

        /// Bytes of these mappings resident in memory now.
        pub(super) fn resident_bytes(&self) -> usize {
            let page = page_size();
            let mut resident = 0;
            for &(base, len) in &self.0 {
                let mut pages = vec![0u8; len.div_ceil(page)];
                // SAFETY: `base..base + len` is a live mapping; `pages` has a byte per page of it.
                let rc = unsafe { libc::mincore(base as *mut c_void, len, pages.as_mut_ptr()) };
                if rc == 0 {
                    resident += pages.iter().filter(|p| *p & 1 == 1).count() * page;
                }
            }
            resident
        }
    }

    fn page_size() -> usize {
        // SAFETY: sysconf has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size).unwrap_or(4096)
    }

    /// Lets the system take back `len` bytes of zeros at `start` (page-aligned, inside a private
    /// anonymous mapping, which reads as zeros afterwards).
    fn discard(start: usize, len: usize) {
        // SAFETY: the range is whole pages of a live private anonymous mapping whose content there
        // is zero, so dropping the pages changes nothing that can be read.
        unsafe { libc::madvise(start as *mut c_void, len, libc::MADV_DONTNEED) };
    }

    pub(super) unsafe extern "C" fn zalloc(
        opaque: *mut c_void,
        items: u32,
        size: u32,
    ) -> *mut c_void {
        let Some(len) = (items as usize)
            .checked_mul(size as usize)
            .and_then(|n| n.checked_add(HEADER))
        else {
            return ptr::null_mut();
        };
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return ptr::null_mut();
        }
        LIVE.fetch_add(len, Ordering::Relaxed);
        // SAFETY: `opaque` is the stream's `Blocks` (set by `RawDeflate::new`), alive while the
        // stream is, and used by one call at a time.
        if let Some(blocks) = unsafe { opaque.cast::<Blocks>().as_mut() } {
            blocks.0.push((base as usize, len));
        }
        // SAFETY: the mapping is at least HEADER bytes long and page-aligned.
        unsafe {
            base.cast::<usize>().write(len);
            base.cast::<u8>().add(HEADER).cast()
        }
    }

    pub(super) unsafe extern "C" fn zfree(opaque: *mut c_void, block: *mut c_void) {
        if block.is_null() {
            return;
        }
        // SAFETY: `block` came from `zalloc`, HEADER bytes into a mapping whose length is stored
        // at its start; zlib frees each block once.
        unsafe {
            let base = block.cast::<u8>().sub(HEADER).cast::<c_void>();
            let len = base.cast::<usize>().read();
            // SAFETY: as in `zalloc`.
            if let Some(blocks) = opaque.cast::<Blocks>().as_mut() {
                blocks.0.retain(|&(start, _)| start != base as usize);
            }
            libc::munmap(base, len);
            LIVE.fetch_sub(len, Ordering::Relaxed);
        }
    }
}
