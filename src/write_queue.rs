//! The bytes of one connection that the kernel has not taken yet: what the native transport
//! (src/binding/transport.rs) keeps after a write that went out only in part, in order, until the
//! socket is writable again.
//!
//! Sans-IO: the binding asks for the front slices (`front`, for one vectored write), performs the
//! write, and reports how many bytes the kernel took (`consume`). Chunks are refcounted `Bytes`, so
//! a frame queued on many connections is one allocation.

use bytes::Bytes;
use std::collections::VecDeque;

/// Queued bytes in order, with their total.
#[derive(Debug, Default)]
pub struct WriteQueue {
    chunks: VecDeque<Bytes>,
    len: usize,
}

impl WriteQueue {
    pub fn new() -> Self {
        WriteQueue::default()
    }

    /// Total bytes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a chunk (an empty one is ignored).
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.len += chunk.len();
        self.chunks.push_back(chunk);
    }

    /// Appends a copy of `bytes`: the tail of a caller's buffer that the kernel did not take.
    pub fn push_copy(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.push(Bytes::copy_from_slice(bytes));
        }
    }

    /// Up to `max` slices from the front, for one vectored write.
    pub fn front(&self, max: usize) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().take(max).map(|chunk| chunk.as_ref())
    }

    /// Drops the first `n` bytes (what a write handed to the kernel); `n` beyond the queue's
    /// length empties it.
    pub fn consume(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                break;
            };
            if n < front.len() {
                // `Bytes::advance` moves the start without copying.
                let _ = front.split_to(n);
                self.len -= n;
                return;
            }
            n -= front.len();
            self.len -= front.len();
            self.chunks.pop_front();
        }
    }

    /// Drops everything (the connection closed).
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(q: &WriteQueue) -> Vec<u8> {
        q.front(usize::MAX).flatten().copied().collect()
    }

    #[test]
    fn keeps_order_and_length() {
        let mut q = WriteQueue::new();
        q.push_copy(b"abc");
        q.push(Bytes::from_static(b""));
        q.push(Bytes::from_static(b"defg"));
        assert_eq!(q.len(), 7);
        assert_eq!(flat(&q), b"abcdefg");
        assert_eq!(q.front(1).count(), 1);
    }

    #[test]
    fn consume_splits_chunks() {
        let mut q = WriteQueue::new();
        q.push_copy(b"abc");
        q.push_copy(b"defg");
        q.consume(2);
        assert_eq!(flat(&q), b"cdefg");
        assert_eq!(q.len(), 5);
        q.consume(1);
        assert_eq!(flat(&q), b"defg");
        q.consume(3);
        assert_eq!(flat(&q), b"g");
        q.consume(10);
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        q.push_copy(b"x");
        q.clear();
        assert!(q.is_empty());
    }

    #[test]
    fn shared_chunk_is_not_copied() {
        let frame = Bytes::from(vec![7u8; 1000]);
        let mut a = WriteQueue::new();
        let mut b = WriteQueue::new();
        a.push(frame.clone());
        b.push(frame.clone());
        a.consume(10);
        assert_eq!(b.front(1).next().unwrap().as_ptr(), frame.as_ptr());
        assert_eq!(a.front(1).next().unwrap().as_ptr(), frame[10..].as_ptr());
    }
}
