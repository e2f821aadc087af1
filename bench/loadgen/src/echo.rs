//! Echo and large-message modes: a closed loop per connection with P messages in flight. The fan-out mode
//! runs the same loop on each room's publisher (its publishes come back to it like echoes) and makes the
//! other connections members, which check each message of their room's publisher in sequence and count it.
//!
//! One task per connection drives both directions from a single `poll` (no split, no channel): it writes
//! whatever is queued, reads whatever arrived, checks every echoed byte as it streams past, and for each
//! completed echo queues the next message. All frames queued while handling one read leave in one write,
//! so P messages in flight cost one read and one write per round trip, not P of each.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::cli::Config;
use crate::frame::{self, FrameError, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG};
use crate::handshake::{self, Agreed, Target};
use crate::payload::{Payload, MAX_SEQ_DIGITS};
use crate::rng::Rng;
use crate::runner::Window;
use crate::stats::Stats;

/// Payloads from this size on are sent from one pre-masked frame per connection, patched with each
/// message's sequence digits, instead of being copied and masked into the write buffer per message: a
/// 16 MiB echo with one message in flight would otherwise pay the client's copy in its round trip.
const TEMPLATE_FROM: usize = 16 * 1024;

/// What the connection tasks of one thread share.
pub struct Shared {
    pub payload: Arc<Payload>,
    pub stats: RefCell<Stats>,
    pub window: Window,
    pub in_flight: usize,
    /// Messages each connection may send in all.
    pub per_conn_cap: u64,
    pub timeout: Duration,
    pub read_buf: usize,
    /// Fanout: when each room's publisher sent each of its messages (by sequence number), so that a
    /// member on the same thread measures the delivery latency of what it receives.
    pub room_sends: RefCell<Vec<Vec<Instant>>>,
}

#[derive(Debug)]
enum ConnError {
    Io(io::Error),
    Eof,
    Frame(FrameError),
    Protocol(&'static str),
    ServerClosed,
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "io: {e}"),
            ConnError::Eof => write!(f, "server closed the TCP connection"),
            ConnError::Frame(e) => write!(f, "bad frame from server: {e:?}"),
            ConnError::Protocol(s) => write!(f, "protocol: {s}"),
            ConnError::ServerClosed => write!(f, "server sent a close frame"),
        }
    }
}

/// permessage-deflate (RFC 7692) on one connection: what the client sends, and its decompressor
/// (always with context: that also reads a stream the server resets per message).
///
/// The client must not be the bottleneck, and compressing 64 KiB at level 6 costs milliseconds: so
/// the template after the sequence digits is compressed once per connection, and each message is a
/// stored block of its digits followed by those blocks. That is a valid message whatever the server
/// agreed (it refers to nothing before it), it inflates to the template stamped with its sequence
/// number, and on the wire it is the compressed size plus 5 bytes of stored-block header.
struct Deflate {
    decompress: Decompress,
    /// The template's bytes after the digits, compressed (sync flush, tail stripped).
    rest: Vec<u8>,
    plain: Vec<u8>,
    packed: Vec<u8>,
}

/// The bytes a sync flush ends with, stripped by the sender and appended back by the receiver.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// RSV1: the message is compressed (§6).
const RSV1: u8 = 0x40;

impl Deflate {
    fn new(agreed: Agreed, payload: &Payload) -> Option<Self> {
        agreed.deflate.then(|| {
            // Level 6: what ws and the servers default to, so both directions compress alike.
            let mut compress = Compress::new(Compression::new(6), false);
            let mut rest = Vec::new();
            let mut input = &payload.template[payload.seq_len..];
            loop {
                rest.reserve(input.len() / 2 + 64);
                let before = compress.total_in();
                compress
                    .compress_vec(input, &mut rest, FlushCompress::Sync)
                    .expect("deflate");
                input = &input[(compress.total_in() - before) as usize..];
                if input.is_empty() && rest.len() < rest.capacity() {
                    break;
                }
            }
            if rest.ends_with(&TAIL) {
                rest.truncate(rest.len() - TAIL.len());
            }
            Deflate {
                decompress: Decompress::new(false),
                rest,
                plain: Vec::new(),
                packed: Vec::new(),
            }
        })
    }

    /// The compressed message for `digits`: a stored block of them (§3.2.4 of RFC 1951: BFINAL 0,
    /// BTYPE 00, then LEN and its complement, little-endian), then the template's blocks.
    fn pack(&mut self, digits: &[u8]) {
        let len = digits.len() as u16;
        self.packed.clear();
        self.packed.push(0x00);
        self.packed.extend_from_slice(&len.to_le_bytes());
        self.packed.extend_from_slice(&(!len).to_le_bytes());
        self.packed.extend_from_slice(digits);
        self.packed.extend_from_slice(&self.rest);
    }

    /// `self.packed` (a whole compressed message) inflated into `self.plain`; `false` on bad data.
    fn unpack(&mut self) -> bool {
        self.packed.extend_from_slice(&TAIL);
        self.plain.clear();
        self.plain.reserve(self.packed.len() * 4 + 1024);
        let mut input = &self.packed[..];
        loop {
            if self.plain.capacity() - self.plain.len() < 1024 {
                self.plain.reserve(self.plain.capacity());
            }
            let before = self.decompress.total_in();
            if self
                .decompress
                .decompress_vec(input, &mut self.plain, FlushDecompress::Sync)
                .is_err()
            {
                return false;
            }
            input = &input[(self.decompress.total_in() - before) as usize..];
            if input.is_empty() && self.plain.len() < self.plain.capacity() {
                return true;
            }
        }
    }
}

/// The send side: a buffer of whole small frames (and control frames), plus, for large payloads, one
/// pre-masked frame written `pending` more times.
struct Sender {
    wbuf: Vec<u8>,
    wpos: usize,
    template: Option<TemplateFrame>,
    key: [u8; 4],
    next_seq: u64,
    /// Successful write calls, to show how well sends are batched.
    writes: u64,
}

struct TemplateFrame {
    frame: Vec<u8>,
    payload_at: usize,
    pending: u64,
    /// Bytes of the frame being written; `None` between frames.
    pos: Option<usize>,
}

impl Sender {
    fn new(payload: &Payload, rng: &mut Rng, deflate: bool) -> Self {
        let key = rng.mask_key();
        // A compressed message is made afresh each time: no pre-masked template.
        let template = (!deflate && payload.template.len() >= TEMPLATE_FROM).then(|| {
            let mut f = Vec::with_capacity(
                frame::masked_header_len(payload.template.len()) + payload.template.len(),
            );
            frame::put_masked_frame(&mut f, payload.opcode, &payload.template, key);
            let payload_at = f.len() - payload.template.len();
            // The masking key stays the same for all frames of this connection: re-masking megabytes per
            // message would cost the client more than it costs some servers to echo them.
            TemplateFrame {
                frame: f,
                payload_at,
                pending: 0,
                pos: None,
            }
        });
        Sender {
            wbuf: Vec::with_capacity(64 * 1024),
            wpos: 0,
            template,
            key,
            next_seq: 0,
            writes: 0,
        }
    }

    /// Queues the next message, stamped with its sequence number.
    fn queue(&mut self, payload: &Payload, rng: &mut Rng, deflate: Option<&mut Deflate>) {
        if let Some(z) = deflate {
            let mut digits = [0u8; MAX_SEQ_DIGITS];
            payload.seq_digits(self.next_seq, &mut digits);
            self.next_seq += 1;
            z.pack(&digits[..payload.seq_len]);
            frame::put_masked_frame(
                &mut self.wbuf,
                payload.opcode | RSV1,
                &z.packed,
                rng.mask_key(),
            );
            return;
        }
        match &mut self.template {
            Some(t) => t.pending += 1,
            None => {
                let key = rng.mask_key();
                let mut digits = [0u8; MAX_SEQ_DIGITS];
                payload.seq_digits(self.next_seq, &mut digits);
                self.next_seq += 1;
                let n = payload.template.len();
                frame::put_masked_header(&mut self.wbuf, payload.opcode, n, key);
                let start = self.wbuf.len();
                self.wbuf.extend_from_slice(&payload.template);
                self.wbuf[start..start + payload.seq_len]
                    .copy_from_slice(&digits[..payload.seq_len]);
                frame::apply_mask(&mut self.wbuf[start..], key);
            }
        }
    }

    fn queue_control(&mut self, opcode: u8, body: &[u8], rng: &mut Rng) {
        frame::put_masked_frame(&mut self.wbuf, opcode, body, rng.mask_key());
    }

    /// Drops queued messages not yet started (a frame half written is still finished).
    fn cancel_pending(&mut self) {
        if let Some(t) = &mut self.template {
            t.pending = 0;
        }
    }

    fn idle(&self) -> bool {
        self.wpos == self.wbuf.len()
            && self
                .template
                .as_ref()
                .is_none_or(|t| t.pos.is_none() && t.pending == 0)
    }

    /// Writes until everything queued is out (`Ready(Ok)`) or the socket is full (`Pending`).
    fn poll_flush(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut TcpStream,
        payload: &Payload,
    ) -> Poll<io::Result<()>> {
        loop {
            if let Some(t) = &mut self.template {
                if let Some(pos) = t.pos {
                    let Some(n) = ready_write(cx, stream, &t.frame[pos..])? else {
                        return Poll::Pending;
                    };
                    self.writes += 1;
                    t.pos = if pos + n == t.frame.len() {
                        None
                    } else {
                        Some(pos + n)
                    };
                    continue;
                }
            }
            // Whole frames only sit in wbuf, so it may go out between two template frames.
            if self.wpos < self.wbuf.len() {
                let Some(n) = ready_write(cx, stream, &self.wbuf[self.wpos..])? else {
                    return Poll::Pending;
                };
                self.writes += 1;
                self.wpos += n;
                if self.wpos == self.wbuf.len() {
                    self.wbuf.clear();
                    self.wpos = 0;
                }
                continue;
            }
            if let Some(t) = &mut self.template {
                if t.pending > 0 {
                    t.pending -= 1;
                    let mut digits = [0u8; MAX_SEQ_DIGITS];
                    payload.seq_digits(self.next_seq, &mut digits);
                    self.next_seq += 1;
                    let at = t.payload_at;
                    for i in 0..payload.seq_len {
                        t.frame[at + i] = digits[i] ^ self.key[i & 3];
                    }
                    t.pos = Some(0);
                    continue;
                }
            }
            return Poll::Ready(Ok(()));
        }
    }
}

/// One `poll_write`: `Ok(Some(n))` written, `Ok(None)` when the socket is full.
fn ready_write(
    cx: &mut Context<'_>,
    stream: &mut TcpStream,
    buf: &[u8],
) -> io::Result<Option<usize>> {
    match Pin::new(stream).poll_write(cx, buf) {
        Poll::Ready(Ok(0)) => Err(io::ErrorKind::WriteZero.into()),
        Poll::Ready(Ok(n)) => Ok(Some(n)),
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => Ok(None),
    }
}

/// A message being received: where in it the next byte falls and whether all so far matched.
struct InMessage {
    offset: usize,
    ok: bool,
    /// RSV1 was set: the payload is gathered in `Deflate::packed` and checked once inflated.
    compressed: bool,
    /// Payload bytes of the current frame still to come.
    frame_left: u64,
    fin: bool,
}

struct Conn {
    stream: TcpStream,
    rng: Rng,
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    msg: Option<InMessage>,
    recv_seq: u64,
    digits: [u8; MAX_SEQ_DIGITS],
    sender: Sender,
    /// A room member (fan-out): it sends nothing, and every message it receives counts as delivered.
    member: bool,
    /// Fanout: the room of this connection (a publisher's or a member's).
    room: Option<usize>,
    sent_at: VecDeque<Instant>,
    /// Messages queued so far, against `Shared::per_conn_cap`.
    queued: u64,
    sending: bool,
    closing: bool,
    got_close: bool,
    /// Latencies of this read's echoes, recorded into the shared histogram once per read.
    batch: Vec<u64>,
    batch_bytes: u64,
    batch_mismatches: u64,
    /// Messages a member received in this read, counted without a latency.
    batch_delivered: u64,
    /// Successful read calls and echoes completed over the whole run, for the syscalls-per-message figures.
    reads: u64,
    echoes: u64,
    deflate: Option<Deflate>,
    /// Payload bytes of this window's echoes as they came over the wire (compressed or not).
    batch_wire: u64,
}

impl Conn {
    fn new(
        stream: TcpStream,
        leftover: &[u8],
        agreed: Agreed,
        shared: &Shared,
        seed: u64,
        member: bool,
        room: Option<usize>,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let deflate = Deflate::new(agreed, &shared.payload);
        let sender = Sender::new(&shared.payload, &mut rng, deflate.is_some());
        let mut rbuf = vec![0u8; shared.read_buf.max(leftover.len() + 256)];
        rbuf[..leftover.len()].copy_from_slice(leftover);
        Conn {
            stream,
            rng,
            rbuf,
            rstart: 0,
            rend: leftover.len(),
            msg: None,
            recv_seq: 0,
            digits: [0; MAX_SEQ_DIGITS],
            sender,
            member,
            room,
            sent_at: VecDeque::with_capacity(shared.in_flight),
            queued: 0,
            sending: true,
            closing: false,
            got_close: false,
            batch: Vec::with_capacity(shared.in_flight.max(16)),
            batch_bytes: 0,
            batch_mismatches: 0,
            batch_delivered: 0,
            reads: 0,
            echoes: 0,
            deflate,
            batch_wire: 0,
        }
    }

    fn send_next(&mut self, shared: &Shared, now: Instant) {
        if self.sending && self.queued < shared.per_conn_cap {
            self.queued += 1;
            self.sender
                .queue(&shared.payload, &mut self.rng, self.deflate.as_mut());
            self.sent_at.push_back(now);
            if let Some(room) = self.room {
                if let Some(sends) = shared.room_sends.borrow_mut().get_mut(room) {
                    sends.push(now);
                }
            }
        }
    }

    /// Parses everything complete in the read buffer, checking payload bytes as they pass.
    fn process(&mut self, shared: &Shared, now: Instant) -> Result<(), ConnError> {
        let payload = &*shared.payload;
        loop {
            let avail = &self.rbuf[self.rstart..self.rend];
            if let Some(m) = &mut self.msg {
                if m.frame_left > 0 {
                    if avail.is_empty() {
                        break;
                    }
                    let n = (m.frame_left.min(avail.len() as u64)) as usize;
                    if m.compressed {
                        if let Some(z) = &mut self.deflate {
                            z.packed.extend_from_slice(&avail[..n]);
                        }
                    } else if m.ok {
                        m.ok = payload.matches(m.offset, &avail[..n], &self.digits);
                    }
                    m.offset += n;
                    m.frame_left -= n as u64;
                    self.rstart += n;
                    if m.frame_left == 0 && m.fin {
                        self.complete(shared, now);
                    }
                    continue;
                }
            }
            let Some(h) = frame::decode_header(avail).map_err(ConnError::Frame)? else {
                break;
            };
            match h.opcode {
                OP_CLOSE | OP_PING | OP_PONG => {
                    let total = h.header_len + h.payload_len as usize;
                    if avail.len() < total {
                        break;
                    }
                    let body_at = self.rstart + h.header_len;
                    self.rstart += total;
                    match h.opcode {
                        OP_PING => {
                            // §5.5.2: answer a ping with a pong carrying the same data.
                            let body =
                                self.rbuf[body_at..body_at + h.payload_len as usize].to_vec();
                            self.sender.queue_control(OP_PONG, &body, &mut self.rng);
                        }
                        OP_CLOSE => {
                            if self.closing {
                                self.got_close = true;
                                return Ok(());
                            }
                            return Err(ConnError::ServerClosed);
                        }
                        _ => {}
                    }
                }
                OP_CONTINUATION => {
                    let Some(m) = &mut self.msg else {
                        return Err(ConnError::Protocol("continuation frame outside a message"));
                    };
                    self.rstart += h.header_len;
                    m.frame_left = h.payload_len;
                    m.fin = h.fin;
                    if h.payload_len == 0 && h.fin {
                        self.complete(shared, now);
                    }
                }
                opcode => {
                    if self.msg.is_some() {
                        return Err(ConnError::Protocol("new message before the last one ended"));
                    }
                    if self.sent_at.is_empty() && !self.member {
                        return Err(ConnError::Protocol("message nobody asked for"));
                    }
                    payload.seq_digits(self.recv_seq, &mut self.digits);
                    self.rstart += h.header_len;
                    let compressed = h.rsv1;
                    match &mut self.deflate {
                        Some(z) if compressed => z.packed.clear(),
                        None if compressed => {
                            return Err(ConnError::Protocol("RSV1 without permessage-deflate"))
                        }
                        _ => {}
                    }
                    self.msg = Some(InMessage {
                        offset: 0,
                        compressed,
                        ok: opcode == payload.opcode,
                        frame_left: h.payload_len,
                        fin: h.fin,
                    });
                    if h.payload_len == 0 && h.fin {
                        self.complete(shared, now);
                    }
                }
            }
        }
        // What is left is a partial header or control frame (payload bytes are always consumed): move it to
        // the front so the next read appends to it.
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        } else if self.rstart > 0 {
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
        }
        Ok(())
    }

    fn complete(&mut self, shared: &Shared, now: Instant) {
        let m = self.msg.take().expect("a message in progress");
        let wire = m.offset as u64;
        let (ok, len) = match (&mut self.deflate, m.compressed) {
            (Some(z), true) => {
                let ok = m.ok
                    && z.unpack()
                    && z.plain.len() == shared.payload.template.len()
                    && shared.payload.matches(0, &z.plain, &self.digits);
                (ok, z.plain.len())
            }
            _ => (m.ok && m.offset == shared.payload.template.len(), m.offset),
        };
        if self.member {
            let seq = self.recv_seq as usize;
            self.recv_seq += 1;
            self.echoes += 1;
            if !ok {
                self.batch_mismatches += 1;
            }
            if now >= shared.window.warm_end && now < shared.window.end && !self.closing {
                // The publisher's send time, when it runs on this thread: the delivery latency.
                let sent = self
                    .room
                    .and_then(|room| shared.room_sends.borrow().get(room)?.get(seq).copied());
                match sent {
                    Some(sent) => self.batch.push(now.duration_since(sent).as_nanos() as u64),
                    None => self.batch_delivered += 1,
                }
                self.batch_bytes += len as u64;
                self.batch_wire += wire;
            }
            return;
        }
        let sent = self
            .sent_at
            .pop_front()
            .expect("checked when the message started");
        self.recv_seq += 1;
        self.echoes += 1;
        if !ok {
            self.batch_mismatches += 1;
        }
        if now >= shared.window.end || self.closing {
            return;
        }
        if now >= shared.window.warm_end {
            self.batch.push(now.duration_since(sent).as_nanos() as u64);
            self.batch_bytes += len as u64;
            self.batch_wire += wire;
        }
        self.send_next(shared, now);
    }

    fn flush_batch(&mut self, shared: &Shared) {
        if self.batch.is_empty() && self.batch_mismatches == 0 && self.batch_delivered == 0 {
            return;
        }
        let mut st = shared.stats.borrow_mut();
        st.msgs += self.batch.len() as u64 + self.batch_delivered;
        st.bytes += self.batch_bytes;
        st.wire_bytes += self.batch_wire;
        self.batch_wire = 0;
        st.mismatches += self.batch_mismatches;
        for &ns in &self.batch {
            st.hist.saturating_record(ns.max(1));
        }
        self.batch.clear();
        self.batch_bytes = 0;
        self.batch_mismatches = 0;
        self.batch_delivered = 0;
    }

    /// Reads once into the free end of the buffer; the end of the stream is an error here.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ConnError>> {
        if self.rend == self.rbuf.len() {
            // Only a control frame larger than the buffer could fill it without being consumed.
            return Poll::Ready(Err(ConnError::Protocol("read buffer full")));
        }
        let mut rb = ReadBuf::new(&mut self.rbuf[self.rend..]);
        match Pin::new(&mut self.stream).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(ConnError::Io(e))),
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    return Poll::Ready(Err(ConnError::Eof));
                }
                self.rend += n;
                self.reads += 1;
                Poll::Ready(Ok(()))
            }
        }
    }

    /// The measured loop: until the window ends.
    fn poll_run(&mut self, cx: &mut Context<'_>, shared: &Shared) -> Poll<Result<(), ConnError>> {
        loop {
            if let Poll::Ready(Err(e)) =
                self.sender
                    .poll_flush(cx, &mut self.stream, &shared.payload)
            {
                return Poll::Ready(Err(ConnError::Io(e)));
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {}
            }
            let now = Instant::now();
            let r = self.process(shared, now);
            self.flush_batch(shared);
            r?;
            if now >= shared.window.end {
                return Poll::Ready(Ok(()));
            }
        }
    }

    /// The closing handshake (§7.1.2): send a close frame, read (and still check) what is in flight until
    /// the server's close frame.
    fn poll_close(&mut self, cx: &mut Context<'_>, shared: &Shared) -> Poll<Result<(), ConnError>> {
        loop {
            match self
                .sender
                .poll_flush(cx, &mut self.stream, &shared.payload)
            {
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ConnError::Io(e))),
                Poll::Ready(Ok(())) => {}
                Poll::Pending => {}
            }
            if self.got_close && self.sender.idle() {
                return Poll::Ready(Ok(()));
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {}
            }
            let r = self.process(shared, Instant::now());
            self.flush_batch(shared);
            r?;
        }
    }
}

/// Runs one connection to the end of the window, then closes it; failures go to the thread's stats.
pub async fn run_conn(
    stream: TcpStream,
    leftover: Vec<u8>,
    agreed: Agreed,
    shared: Rc<Shared>,
    seed: u64,
    member: bool,
    room: Option<usize>,
) {
    let mut c = Conn::new(stream, &leftover, agreed, &shared, seed, member, room);
    let now = Instant::now();
    if !member {
        for _ in 0..shared.in_flight {
            c.send_next(&shared, now);
        }
    }
    let run = poll_fn(|cx| c.poll_run(cx, &shared));
    let res = match tokio::time::timeout_at(shared.window.end.into(), run).await {
        Ok(r) => r,
        Err(_) => Ok(()),
    };
    if let Err(e) = res {
        shared
            .stats
            .borrow_mut()
            .error(|| format!("connection: {e}"));
        return;
    }
    // A message unanswered for longer than the timeout means the server stalled.
    if let Some(&oldest) = c.sent_at.front() {
        if shared.window.end.saturating_duration_since(oldest) > shared.timeout {
            shared
                .stats
                .borrow_mut()
                .error(|| format!("no echo for {:?}", shared.window.end - oldest));
        }
    }
    c.sending = false;
    c.closing = true;
    c.sender.cancel_pending();
    let key = c.rng.mask_key();
    frame::put_close(&mut c.sender.wbuf, frame::CLOSE_NORMAL, key);
    let close = poll_fn(|cx| c.poll_close(cx, &shared));
    let grace = shared.timeout.min(Duration::from_secs(3));
    match tokio::time::timeout(grace, close).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => shared.stats.borrow_mut().error(|| format!("closing: {e}")),
        Err(_) => shared
            .stats
            .borrow_mut()
            .error(|| "closing: no close frame from the server".to_string()),
    }
    c.flush_batch(&shared);
    let mut st = shared.stats.borrow_mut();
    st.reads += c.reads;
    st.writes += c.sender.writes;
    st.echoes += c.echoes;
}

/// Connects `n` connections from one thread, `concurrency` handshakes at a time. With `rooms` as
/// `(first, r)`, connection `i` (the `first + i`-th of the run) goes to the target's path + `/<(first + i) mod r>`.
pub async fn connect_many(
    target: &Target,
    n: usize,
    concurrency: usize,
    seed: u64,
    timeout: Duration,
    rooms: Option<(usize, usize)>,
) -> Vec<Result<(TcpStream, Vec<u8>, Agreed), String>> {
    let next = Rc::new(std::cell::Cell::new(0usize));
    type Connected = Result<(TcpStream, Vec<u8>, Agreed), String>;
    let out: Rc<RefCell<Vec<Option<Connected>>>> =
        Rc::new(RefCell::new((0..n).map(|_| None).collect()));
    let mut workers = Vec::new();
    for w in 0..concurrency.min(n) {
        let next = next.clone();
        let out = out.clone();
        let target = target.clone();
        workers.push(tokio::task::spawn_local(async move {
            let mut rng = Rng::new(seed ^ (w as u64) << 20);
            loop {
                let i = next.get();
                if i >= n {
                    break;
                }
                next.set(i + 1);
                let mut buf = Vec::new();
                let mut to = target.clone();
                if let Some((first, r)) = rooms {
                    to.path = format!("{}/{}", target.path.trim_end_matches('/'), (first + i) % r);
                }
                let r = match tokio::time::timeout(
                    timeout,
                    handshake::connect_agreed(&to, &mut rng, &mut buf),
                )
                .await
                {
                    Ok(Ok((s, agreed))) => Ok((s, buf, agreed)),
                    Ok(Err(e)) => Err(format!("handshake: {e}")),
                    Err(_) => Err("handshake: timed out".to_string()),
                };
                out.borrow_mut()[i] = Some(r);
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let v = std::mem::take(&mut *out.borrow_mut());
    v.into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not attempted".into())))
        .collect()
}

/// Read buffer per connection: big enough to take a whole round of small echoes in one read; for large
/// messages, small enough to stay in the core's L2 cache while its bytes are checked.
pub fn read_buf_size(cfg: &Config) -> usize {
    cfg.read_buf.unwrap_or(if cfg.size <= 4096 {
        64 * 1024
    } else {
        256 * 1024
    })
}
