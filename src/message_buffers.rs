//! Memory for incoming messages too large for the arena. Such a message is assembled in a buffer
//! of its own, which the binding hands to JavaScript without a copy and which belongs to the
//! receiver from then on. When the engine collects it, the binding gives its memory back here, and
//! it is kept (up to [`KEEP_MAX_BYTES`] per thread) for a later message instead of going back to the
//! allocator: the allocator returned large freed blocks to the system, so every large message was
//! written into fresh pages, a page fault per 4 KiB. A buffer is reused only after the engine has
//! freed it, so nothing a receiver can still reach is ever written again.

use std::cell::RefCell;

/// Freed buffers at least this large are kept for reuse.
pub const KEEP_MIN: usize = 64 * 1024;
/// The most bytes kept for reuse, per thread (one engine per thread).
pub const KEEP_MAX_BYTES: usize = 64 << 20;

/// Freed buffers kept for reuse, and their total capacity.
struct Kept {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

thread_local! {
    static KEPT: RefCell<Kept> = const {
        RefCell::new(Kept {
            buffers: Vec::new(),
            bytes: 0,
        })
    };
}

/// A buffer of `len` bytes for a message (its content is unspecified: the caller writes every
/// byte). A kept one when one holds `len` bytes without being more than twice as large, else a
/// new one; `None` when the allocator refuses.
pub fn take(len: usize) -> Option<Vec<u8>> {
    let kept = KEPT
        .try_with(|kept| {
            let mut kept = kept.borrow_mut();
            let index = kept
                .buffers
                .iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= len && b.capacity() / 2 <= len)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(index, _)| index)?;
            let buffer = kept.buffers.swap_remove(index);
            kept.bytes -= buffer.capacity();
            Some(buffer)
        })
        .ok()
        .flatten();
    let mut buffer = match kept {
        Some(buffer) => buffer,
        None => {
            let mut buffer = Vec::new();
            buffer.try_reserve_exact(len).ok()?;
            buffer
        }
    };
    buffer.resize(len, 0);
    Some(buffer)
}

/// Keeps a buffer nothing refers to any more for reuse, when it is large enough and there is
/// room; drops it otherwise.
pub fn give_back(buffer: Vec<u8>) {
    let cap = buffer.capacity();
    if cap < KEEP_MIN {
        return;
    }
    // At thread exit the list may be gone already: the buffer is then simply dropped.
    let _ = KEPT.try_with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.bytes + cap <= KEEP_MAX_BYTES {
            kept.bytes += cap;
            kept.buffers.push(buffer);
        }
    });
}

/// Bytes kept for reuse on this thread.
pub fn kept_bytes() -> usize {
    KEPT.try_with(|kept| kept.borrow().bytes).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_buffer_is_reused_for_a_message_it_fits() {
        let first = take(100_000).unwrap();
        let address = first.as_ptr();
        give_back(first);
        assert_eq!(kept_bytes(), 100_000);
        // Too small for it: a new buffer.
        let large = take(200_001).unwrap();
        assert_eq!(kept_bytes(), 100_000);
        // Less than half of it: a new buffer, the kept one stays.
        let small = take(40_000).unwrap();
        assert_eq!(kept_bytes(), 100_000);
        let again = take(90_000).unwrap();
        assert_eq!(again.as_ptr(), address);
        assert_eq!(again.len(), 90_000);
        assert_eq!(kept_bytes(), 0);
        drop((large, small));
    }

    #[test]
    fn small_buffers_and_buffers_beyond_the_bound_are_not_kept() {
        give_back(take(KEEP_MIN - 1).unwrap());
        assert_eq!(kept_bytes(), 0);
        for _ in 0..(KEEP_MAX_BYTES >> 20) + 4 {
            give_back(vec![0u8; 1 << 20]);
        }
        assert_eq!(kept_bytes(), KEEP_MAX_BYTES);
    }
}
