//! The native transport on Node: a connection's socket descriptor, taken over after the 101, polled
//! on Node's own libuv loop (`uv_poll_t`, no thread). Readable: one `read` into the process's read
//! buffer (a JavaScript buffer registered once), a push of those bytes through the connection's
//! frame sink (`setSink`) into the registered event table, and one JavaScript call that delivers the
//! table (without a sink: a call with the byte count, for JavaScript to push). The buffer is the
//! frame sinks' arena and the read lands in its free part (where JavaScript's window says), so the
//! sink parses it in place. Writes: a vectored write at once, the part the kernel did not take in a
//! [`WriteQueue`] (by reference when it lies in a message buffer a sink handed to JavaScript, copied
//! otherwise), written when the socket is writable again.
//!
//! libuv is reached without link-time symbols: its functions are looked up with `dlsym` in the
//! running process the first time a transport is asked for, so the addon still loads where they do
//! not exist (Bun, Deno, Windows); there `nativeTransportAvailable()` is false.
//!
//! Lifetime: a [`Conn`] is allocated when JavaScript calls `transportOpen(fd, socket, callback)`,
//! which returns its id (a small integer: its slot in a per-thread table and the slot's
//! generation), the handle the other `transport*` functions take; it is freed, with the
//! descriptor closed, only in `uv_close`'s callback, after which libuv runs no callback of the
//! handle. `transportClose` marks it closed first, so that nothing is written or read after it and
//! no JavaScript is called; the descriptor number therefore cannot be reused while anything refers
//! to it. An id is used only if it is that of an open Conn of this thread (`conn_of`): a stale id
//! finds nothing, even once its slot holds another connection (until the slot has been reused 256
//! times: the generation has 8 bits).
//!
//! Teardown: an environment that ends with connections open (a worker thread terminated, or ending
//! without closing them) closes them in an async cleanup hook (`napi_add_async_cleanup_hook`,
//! registered with the environment's first connection): every live connection is closed, and the
//! hook reports done only after libuv has run the last `uv_close` callback, so Node's loop closes
//! with no handle of ours open and no descriptor is left behind.

use super::raw;
use napi::bindgen_prelude::{
    Array, BufferSlice, Error, Object, Result, Status, Uint32ArraySlice, Unknown,
};
use napi::Env;
use napi_derive::napi;

/// Event kinds passed to the JavaScript callback `(kind, value)`.
#[napi]
pub const TRANSPORT_READ: u32 = 1;
/// The peer ended its side (a read returned 0).
#[napi]
pub const TRANSPORT_END: u32 = 2;
/// A read, a write or the poll failed; the value is the errno.
#[napi]
pub const TRANSPORT_ERROR: u32 = 3;
/// The write queue emptied.
#[napi]
pub const TRANSPORT_DRAIN: u32 = 4;
/// A read was pushed through the connection's frame sink (`setSink`) inside the poll callback:
/// the value is the byte count, the third argument what `sinkPush` would have returned (the
/// batch's owned values, or null) and the event table registered with the read buffer is filled.
#[napi]
pub const TRANSPORT_PARSED: u32 = 5;

#[cfg(unix)]
mod imp {
    use super::*;
    use crate::binding::sink::{
        is_live_sink, overlaps, NativeFrameSink, SINK_EVENT_WORDS, SINK_TABLE_HEAD,
    };
    use crate::write_queue::WriteQueue;
    use napi::bindgen_prelude::JsValue;
    use napi::sys;
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::ffi::{c_int, c_void, CStr};
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::OnceLock;

    // libuv's constants (uv.h, stable across 1.x).
    const UV_POLL: c_int = 8;
    const UV_READABLE: c_int = 1;
    const UV_WRITABLE: c_int = 2;
    const UV_DISCONNECT: c_int = 4;
    /// The most iovecs handed to one writev.
    const MAX_IOV: usize = 64;
    /// The most reads of one connection per poll callback (each fills the read window), so that
    /// one busy connection does not starve the others of the loop.
    const READS_PER_POLL: usize = 8;

    type PollCb = unsafe extern "C" fn(*mut c_void, c_int, c_int);
    type CloseCb = unsafe extern "C" fn(*mut c_void);
    type PollInit = unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int;
    type PollStart = unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int;
    type PollStop = unsafe extern "C" fn(*mut c_void) -> c_int;
    type Close = unsafe extern "C" fn(*mut c_void, CloseCb);
    type HandleSize = unsafe extern "C" fn(c_int) -> usize;

    /// The libuv functions the transport uses, found in the running process.
    pub(super) struct Uv {
        poll_init: PollInit,
        poll_start: PollStart,
        poll_stop: PollStop,
        close: Close,
        handle_size: HandleSize,
    }

    fn lookup(name: &CStr) -> Option<*mut c_void> {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads the process's symbol
        // tables; a missing symbol is a null result.
        let ptr = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        (!ptr.is_null()).then_some(ptr)
    }

    pub(super) fn uv() -> Option<&'static Uv> {
        static UV: OnceLock<Option<Uv>> = OnceLock::new();
        UV.get_or_init(|| {
            let poll_init = lookup(c"uv_poll_init")?;
            let poll_start = lookup(c"uv_poll_start")?;
            let poll_stop = lookup(c"uv_poll_stop")?;
            let close = lookup(c"uv_close")?;
            let handle_size = lookup(c"uv_handle_size")?;
            // SAFETY: these are libuv's exported functions of the same names, whose C signatures
            // (uv.h) are the function pointer types transmuted to; a handle pointer is `void *` here.
            unsafe {
                Some(Uv {
                    poll_init: std::mem::transmute::<*mut c_void, PollInit>(poll_init),
                    poll_start: std::mem::transmute::<*mut c_void, PollStart>(poll_start),
                    poll_stop: std::mem::transmute::<*mut c_void, PollStop>(poll_stop),
                    close: std::mem::transmute::<*mut c_void, Close>(close),
                    handle_size: std::mem::transmute::<*mut c_void, HandleSize>(handle_size),
                })
            }
        })
        .as_ref()
    }

    /// The read buffer registered by `setTransportReadBuffer`: a JavaScript buffer, a window
    /// (a `Uint32Array`: offset, bytes a read may take) and the frame sinks' event table (a
    /// `Uint32Array` that does not overlap the buffer), all held by references. One per thread
    /// (one loop per thread): a poll callback reads into it, pushes the read through the
    /// connection's sink into the table, and JavaScript consumes both before the callback returns.
    #[derive(Clone, Copy)]
    pub(super) struct ReadBuf {
        ptr: *mut u8,
        len: usize,
        reference: sys::napi_ref,
        window: *const u32,
        window_reference: sys::napi_ref,
        table: *mut u32,
        table_len: usize,
        table_reference: sys::napi_ref,
    }

    const NO_READ_BUF: ReadBuf = ReadBuf {
        ptr: std::ptr::null_mut(),
        len: 0,
        reference: std::ptr::null_mut(),
        window: std::ptr::null(),
        window_reference: std::ptr::null_mut(),
        table: std::ptr::null_mut(),
        table_len: 0,
        table_reference: std::ptr::null_mut(),
    };

    impl ReadBuf {
        /// Where the next read goes: the window's offset and length, clamped to the buffer.
        fn target(&self) -> Option<(usize, usize)> {
            if self.ptr.is_null() || self.window.is_null() {
                return None;
            }
            // SAFETY: `window` points at two u32s of a Uint32Array held by `window_reference`;
            // JavaScript writes it only while no poll callback runs.
            let (offset, limit) = unsafe { (*self.window as usize, *self.window.add(1) as usize) };
            let offset = offset.min(self.len);
            let limit = limit.min(self.len - offset);
            (limit > 0).then_some((offset, limit))
        }

        /// Whether a push is under way in JavaScript (the window's third word): the table is in
        /// use, so a read is handed over unparsed (a poll callback inside JavaScript happens only
        /// when something runs the loop from inside a callback).
        fn pushing(&self) -> bool {
            // SAFETY: as in `target`: three u32s, checked when the window was registered.
            !self.window.is_null() && unsafe { *self.window.add(2) } != 0
        }
    }

    thread_local! {
        static READ_BUF: Cell<ReadBuf> = const { Cell::new(NO_READ_BUF) };
    }

    /// An environment with connections: how many libuv has not released yet (which they are:
    /// CONN_SLOTS, by their `env`), and its teardown hook.
    struct EnvConns {
        env: sys::napi_env,
        open: usize,
        hook: sys::napi_async_cleanup_hook_handle,
        /// The environment is being torn down: the hook is done when `open` is 0.
        tearing_down: bool,
        /// The callback of the environment's connections (NativeSocket's, one function for all),
        /// held once here instead of once per connection (a reference is about 80 bytes of an idle
        /// connection); deleted at teardown, once every connection is closed. Null until the first
        /// connection's callback is adopted.
        callback: sys::napi_ref,
    }

    thread_local! {
        /// One entry per environment of this thread (Node has one), created with its first
        /// connection.
        static ENVS: RefCell<Vec<EnvConns>> = const { RefCell::new(Vec::new()) };
    }

    /// Counts a connection of `env`, registering the environment's teardown hook the first time.
    fn track(env: sys::napi_env) -> Result<()> {
        ENVS.with(|envs| {
            let mut envs = envs.borrow_mut();
            if let Some(entry) = envs.iter_mut().find(|e| e.env == env) {
                entry.open += 1;
                return Ok(());
            }
            let mut hook = std::ptr::null_mut();
            // SAFETY: a plain N-API call on the live environment of this call; `env` is passed
            // back to `on_teardown` as its argument and only compared there.
            let status = unsafe {
                sys::napi_add_async_cleanup_hook(env, Some(on_teardown), env.cast(), &mut hook)
            };
            if status != sys::Status::napi_ok {
                return Err(Error::from_reason("cannot register the teardown hook"));
            }
            envs.push(EnvConns {
                env,
                open: 1,
                hook,
                tearing_down: false,
                callback: std::ptr::null_mut(),
            });
            Ok(())
        })
    }

    /// Makes a connection just tracked use its environment's callback reference instead of its
    /// own when both hold the same function; the first connection's becomes the environment's.
    ///
    /// # Safety
    /// `conn` is a live, tracked Conn that owns its callback reference, in a call from JavaScript.
    unsafe fn share_callback(conn: *mut Conn) {
        // SAFETY: by the caller.
        let c = unsafe { &mut *conn };
        let env = c.env;
        let shared = ENVS.with(|envs| {
            let mut envs = envs.borrow_mut();
            let entry = envs.iter_mut().find(|e| e.env == env)?;
            if entry.callback.is_null() {
                entry.callback = c.callback;
                c.owns_callback = false;
                return None;
            }
            Some(entry.callback)
        });
        let Some(shared) = shared else { return };
        let mut value = std::ptr::null_mut();
        let mut mine = std::ptr::null_mut();
        let mut same = false;
        // SAFETY: plain N-API calls on the live environment, with references of it and
        // out-pointers to locals; the connection's own reference is deleted once, here.
        unsafe {
            if sys::napi_get_reference_value(env, shared, &mut value) == sys::Status::napi_ok
                && sys::napi_get_reference_value(env, c.callback, &mut mine) == sys::Status::napi_ok
                && !value.is_null()
                && sys::napi_strict_equals(env, value, mine, &mut same) == sys::Status::napi_ok
                && same
            {
                sys::napi_delete_reference(env, c.callback);
                c.callback = shared;
                c.owns_callback = false;
            }
        }
    }

    /// Uncounts `released` connections of `env` whose handles libuv released; ends a teardown
    /// waiting for the last one.
    fn untrack(env: sys::napi_env, released: usize) {
        let done = ENVS.with(|envs| {
            let mut envs = envs.borrow_mut();
            let index = envs.iter().position(|e| e.env == env)?;
            let entry = &mut envs[index];
            entry.open -= released;
            (entry.tearing_down && entry.open == 0).then(|| envs.swap_remove(index).hook)
        });
        if let Some(hook) = done {
            // SAFETY: the handle napi_add_async_cleanup_hook gave, removed once (its entry is gone).
            unsafe { sys::napi_remove_async_cleanup_hook(hook) };
        }
    }

    /// The environment is being torn down: closes its open connections and the read buffer's
    /// reference; done (the hook removed) once libuv has released every handle.
    unsafe extern "C" fn on_teardown(_hook: sys::napi_async_cleanup_hook_handle, arg: *mut c_void) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let env: sys::napi_env = arg.cast();
            let callback = ENVS.with(|envs| {
                let mut envs = envs.borrow_mut();
                envs.iter_mut()
                    .find(|e| e.env == env)
                    .map(|entry| {
                        entry.tearing_down = true;
                        std::mem::replace(&mut entry.callback, std::ptr::null_mut())
                    })
                    .unwrap_or(std::ptr::null_mut())
            });
            for conn in conns_of(env) {
                // SAFETY: a Conn in a slot is live until its uv_close callback clears the slot;
                // one that JavaScript closed already only waits for that callback.
                unsafe {
                    if !(*conn).closed {
                        close(conn);
                    }
                }
            }
            let old = READ_BUF.with(|cell| cell.replace(NO_READ_BUF));
            // SAFETY: the environment is alive while its cleanup hooks run; deleted once.
            unsafe { release_read_buf(env, old) };
            if !callback.is_null() {
                // SAFETY: the environment's shared reference, taken out of its entry above, so
                // deleted once; every connection is closed, none calls it any more.
                unsafe { sys::napi_delete_reference(env, callback) };
            }
            // Nothing was open: done at once.
            untrack(env, 0);
        }));
    }

    /// One taken-over connection.
    pub(super) struct Conn {
        fd: c_int,
        /// The `uv_poll_t`, `uv_handle_size(UV_POLL)` bytes; its `data` field points back here.
        handle: *mut c_void,
        handle_words: usize,
        env: sys::napi_env,
        /// The JavaScript socket (receiver of the callback) and the callback, held strongly while
        /// open: the socket cannot be collected while the descriptor is polled.
        receiver: sys::napi_ref,
        callback: sys::napi_ref,
        /// `callback` is this connection's own reference (deleted on close), not its environment's.
        owns_callback: bool,
        /// The address of the connection's NativeFrameSink (`setSink`; 0: none, reads are handed
        /// to JavaScript unparsed). Not a reference: the receiver holds the sink through its reader
        /// while the connection is open, and the address is checked against the live sinks before
        /// every push.
        sink: usize,
        queue: WriteQueue,
        /// The poll mask in force.
        events: c_int,
        reading: bool,
        eof: bool,
        want_shutdown: bool,
        shut: bool,
        closed: bool,
        /// Its place in CONN_SLOTS: the id JavaScript passes to the `transport*` functions.
        id: u32,
    }

    /// The Conns of this thread by slot. JavaScript holds a connection by its id (what `open`
    /// returns: the slot's index and its generation, a small integer), not by an object the
    /// connection is wrapped into: the `transport*` functions find the Conn here with an index
    /// instead of unwrapping an object (an engine property lookup) and looking the address up among
    /// the environment's connections on every call. A slot holds its Conn from `open` until
    /// uv_close's callback frees it; freed slots are reused oldest first, each reuse with the next
    /// generation, so an id kept after its connection closed finds nothing (until that slot has been
    /// reused GENERATIONS times), and a closed Conn is refused.
    struct ConnSlots {
        conns: Vec<(*mut Conn, u32)>,
        free: VecDeque<u32>,
    }

    /// An id is `slot << GENERATION_BITS | generation`, kept below 2^30 so that it is a small
    /// integer in every engine (passed to the addon without a heap number).
    const GENERATION_BITS: u32 = 8;
    const GENERATIONS: u32 = 1 << GENERATION_BITS;
    const SLOTS_MAX: usize = 1 << (30 - GENERATION_BITS);

    thread_local! {
        static CONN_SLOTS: RefCell<ConnSlots> = const {
            RefCell::new(ConnSlots { conns: Vec::new(), free: VecDeque::new() })
        };
    }

    /// Gives `conn` a slot and returns its id; None when no slot is left.
    fn take_slot(conn: *mut Conn) -> Option<u32> {
        CONN_SLOTS
            .try_with(|slots| {
                let mut slots = slots.borrow_mut();
                let slot = match slots.free.pop_front() {
                    Some(slot) => slot,
                    None if slots.conns.len() < SLOTS_MAX => {
                        slots.conns.push((std::ptr::null_mut(), 0));
                        (slots.conns.len() - 1) as u32
                    }
                    None => return None,
                };
                let entry = &mut slots.conns[slot as usize];
                entry.0 = conn;
                Some(slot << GENERATION_BITS | entry.1)
            })
            .ok()
            .flatten()
    }

    /// The id of a Conn `open` returned.
    ///
    /// # Safety
    /// `conn` is live.
    pub(super) unsafe fn id(conn: *mut Conn) -> u32 {
        // SAFETY: by the caller.
        unsafe { (*conn).id }
    }

    /// Frees the slot of a Conn about to be freed; its next Conn gets the next generation.
    fn give_slot_back(id: u32) {
        let _ = CONN_SLOTS.try_with(|slots| {
            let mut slots = slots.borrow_mut();
            let slot = id >> GENERATION_BITS;
            if let Some(entry) = slots.conns.get_mut(slot as usize) {
                *entry = (std::ptr::null_mut(), (entry.1 + 1) % GENERATIONS);
                slots.free.push_back(slot);
            }
        });
    }

    /// The open Conn of `id`, or None (no Conn there, another generation's, or closed).
    ///
    /// # Safety
    /// On the thread of a live environment, in a call from JavaScript: the Conn returned is not
    /// borrowed elsewhere (JavaScript is single-threaded, no call re-enters).
    pub(super) unsafe fn conn_of<'a>(id: u32) -> Option<&'a mut Conn> {
        let conn = CONN_SLOTS
            .try_with(|slots| {
                let slots = slots.borrow();
                match slots.conns.get((id >> GENERATION_BITS) as usize) {
                    Some(&(conn, generation)) if generation == id % GENERATIONS => Some(conn),
                    _ => None,
                }
            })
            .ok()
            .flatten()
            .filter(|conn| !conn.is_null())?;
        // SAFETY: a Conn stays in its slot until uv_close's callback, which clears the slot before
        // freeing it, so the address is that of a live Conn; by the caller, not borrowed elsewhere.
        let conn = unsafe { &mut *conn };
        (!conn.closed).then_some(conn)
    }

    /// The Conns of `env` in this thread's slots: from `open` until uv_close's callback.
    fn conns_of(env: sys::napi_env) -> Vec<*mut Conn> {
        CONN_SLOTS
            .try_with(|slots| {
                slots
                    .borrow()
                    .conns
                    .iter()
                    .map(|&(conn, _)| conn)
                    // SAFETY: a non-null slot holds a live Conn (cleared before it is freed).
                    .filter(|&conn| !conn.is_null() && unsafe { (*conn).env } == env)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn errno() -> c_int {
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)
    }

    fn would_block(e: c_int) -> bool {
        e == libc::EAGAIN || e == libc::EWOULDBLOCK
    }

    /// A write of one slice, the common case (a read's echo): `send`, which the kernel takes
    /// without copying in a message header and an iovec array as `sendmsg` does.
    fn write_one(fd: c_int, bytes: &[u8]) -> std::result::Result<usize, c_int> {
        loop {
            #[cfg(target_os = "linux")]
            // SAFETY: `bytes` is a live slice the kernel only reads; `fd` is this connection's open
            // descriptor. MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE.
            let n =
                unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
            #[cfg(not(target_os = "linux"))]
            // SAFETY: as above; Node ignores SIGPIPE.
            let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = errno();
            if e != libc::EINTR {
                return Err(e);
            }
        }
    }

    /// A vectored write of `slices` (at most MAX_IOV); bytes taken, or the errno.
    fn writev(fd: c_int, slices: &[&[u8]]) -> std::result::Result<usize, c_int> {
        if let [only] = slices {
            return write_one(fd, only);
        }
        let mut iov: [libc::iovec; MAX_IOV] = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; MAX_IOV];
        let count = slices.len().min(MAX_IOV);
        for (slot, slice) in iov.iter_mut().zip(slices) {
            slot.iov_base = slice.as_ptr() as *mut c_void;
            slot.iov_len = slice.len();
        }
        loop {
            #[cfg(target_os = "linux")]
            let n = {
                // SAFETY: a zeroed msghdr is valid; it points at `count` iovecs of live slices that
                // the kernel only reads. MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE.
                let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
                msg.msg_iov = iov.as_mut_ptr();
                msg.msg_iovlen = count as _;
                // SAFETY: as above; `fd` is this connection's open descriptor.
                unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) }
            };
            #[cfg(not(target_os = "linux"))]
            // SAFETY: `count` iovecs of live slices that the kernel only reads; Node ignores SIGPIPE.
            let n = unsafe { libc::writev(fd, iov.as_ptr(), count as c_int) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = errno();
            if e != libc::EINTR {
                return Err(e);
            }
        }
    }

    impl Conn {
        fn set_events(&mut self, uv: &Uv) {
            if self.closed {
                return;
            }
            let mut events = 0;
            if self.reading && !self.eof {
                events |= UV_READABLE | UV_DISCONNECT;
            }
            if !self.queue.is_empty() {
                events |= UV_WRITABLE;
            }
            if events == self.events {
                return;
            }
            self.events = events;
            // SAFETY: `handle` is this connection's initialised, not closed poll handle, on the loop
            // of the current thread; events 0 stops it.
            unsafe {
                if events == 0 {
                    (uv.poll_stop)(self.handle);
                } else {
                    (uv.poll_start)(self.handle, events, on_poll);
                }
            }
        }

        /// Writes `chunks` in order behind what is queued: at once when nothing is, the rest
        /// queued (by reference when it lies in a received message's buffer, see
        /// `sink::shared_part`; copied otherwise). Returns the bytes queued, or the errno of a
        /// failed write.
        fn write(&mut self, uv: &Uv, chunks: &[&[u8]]) -> std::result::Result<usize, c_int> {
            if self.closed || self.shut {
                return Err(libc::EPIPE);
            }
            let mut index = 0;
            let mut offset = 0;
            if self.queue.is_empty() {
                while index < chunks.len() {
                    let end = (index + MAX_IOV).min(chunks.len());
                    let partial: [&[u8]; MAX_IOV];
                    // The chunks as they are, unless the first was partly taken already.
                    let batch = if offset == 0 {
                        &chunks[index..end]
                    } else {
                        let mut rest: [&[u8]; MAX_IOV] = [&[]; MAX_IOV];
                        rest[0] = &chunks[index][offset..];
                        for (slot, chunk) in rest[1..].iter_mut().zip(&chunks[index + 1..end]) {
                            *slot = chunk;
                        }
                        partial = rest;
                        &partial[..end - index]
                    };
                    let total: usize = batch.iter().map(|s| s.len()).sum();
                    if total == 0 {
                        index = end;
                        offset = 0;
                        continue;
                    }
                    let mut taken = match writev(self.fd, batch) {
                        Ok(n) => n,
                        Err(e) if would_block(e) => 0,
                        Err(e) => return Err(e),
                    };
                    // Advance over what the kernel took.
                    while index < end && taken > 0 {
                        let rest = chunks[index].len() - offset;
                        if taken >= rest {
                            taken -= rest;
                            index += 1;
                            offset = 0;
                        } else {
                            offset += taken;
                            taken = 0;
                        }
                    }
                    while index < chunks.len() && chunks[index].len() == offset {
                        index += 1;
                        offset = 0;
                    }
                    if index < end {
                        break; // the kernel refused some: the rest is queued
                    }
                }
            }
            while index < chunks.len() {
                let rest = &chunks[index][offset..];
                // A message buffer JavaScript got from a sink is queued by reference.
                match crate::binding::sink::shared_part(rest) {
                    Some(shared) => self.queue.push(shared),
                    None => self.queue.push_copy(rest),
                }
                index += 1;
                offset = 0;
            }
            self.set_events(uv);
            Ok(self.queue.len())
        }

        /// Writes from the queue while the kernel takes bytes. Errno of a failed write.
        fn flush(&mut self) -> std::result::Result<(), c_int> {
            while !self.queue.is_empty() {
                let slices: Vec<&[u8]> = self.queue.front(MAX_IOV).collect();
                let total: usize = slices.iter().map(|s| s.len()).sum();
                match writev(self.fd, &slices) {
                    Ok(n) => {
                        self.queue.consume(n);
                        if n < total {
                            return Ok(());
                        }
                    }
                    Err(e) if would_block(e) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }

        fn shutdown_if_drained(&mut self) {
            if self.want_shutdown && !self.shut && self.queue.is_empty() && !self.closed {
                self.shut = true;
                // SAFETY: `fd` is this connection's open descriptor. A failure (the peer is gone)
                // shows up on the next read.
                unsafe { libc::shutdown(self.fd, libc::SHUT_WR) };
            }
        }
    }

    /// Calls the connection's JavaScript callback with `(kind, value)` as Node calls an I/O
    /// callback (napi_make_callback: microtasks and nextTick run after it). An exception that
    /// escapes goes to `process`'s `uncaughtException` path.
    ///
    /// # Safety
    /// `conn` must point at a live Conn that is not closed, on the thread of its environment, with
    /// no JavaScript running (a libuv callback).
    unsafe fn emit(conn: *mut Conn, kind: u32, value: i64) {
        // SAFETY: by the caller.
        unsafe { call(conn, |_| (kind, value, None)) }
    }

    /// Calls the connection's JavaScript callback as `emit` does, with `(kind, value)` and, when
    /// there is one, a third argument, as `prepare` gives them inside the call's handle scope.
    ///
    /// # Safety
    /// As `emit`; `prepare` runs no JavaScript.
    unsafe fn call(
        conn: *mut Conn,
        prepare: impl FnOnce(sys::napi_env) -> (u32, i64, Option<sys::napi_value>),
    ) {
        // SAFETY: by the caller; copied out, no reference is held across the call into JavaScript,
        // which may use the connection.
        let (env, receiver_ref, callback_ref) =
            unsafe { ((*conn).env, (*conn).receiver, (*conn).callback) };
        let mut scope = std::ptr::null_mut();
        // SAFETY: plain N-API calls on the connection's live environment, from the loop's thread
        // outside any JavaScript, with out-pointers to locals; the handle scope is closed below.
        unsafe {
            if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
                return;
            }
            let (kind, value, extra) = prepare(env);
            let mut receiver = std::ptr::null_mut();
            let mut callback = std::ptr::null_mut();
            let mut args = [std::ptr::null_mut(); 3];
            let argc = if extra.is_some() { 3 } else { 2 };
            args[2] = extra.unwrap_or(std::ptr::null_mut());
            if sys::napi_get_reference_value(env, receiver_ref, &mut receiver)
                == sys::Status::napi_ok
                && sys::napi_get_reference_value(env, callback_ref, &mut callback)
                    == sys::Status::napi_ok
                && sys::napi_create_uint32(env, kind, &mut args[0]) == sys::Status::napi_ok
                && sys::napi_create_double(env, value as f64, &mut args[1]) == sys::Status::napi_ok
            {
                let mut result = std::ptr::null_mut();
                let status = sys::napi_make_callback(
                    env,
                    std::ptr::null_mut(),
                    receiver,
                    callback,
                    argc,
                    args.as_ptr(),
                    &mut result,
                );
                // A call that threw fails (napi_pending_exception): only then is there anything
                // to look at, not one more Node-API call per read.
                let mut pending = false;
                if status != sys::Status::napi_ok {
                    sys::napi_is_exception_pending(env, &mut pending);
                }
                if pending {
                    let mut err = std::ptr::null_mut();
                    if sys::napi_get_and_clear_last_exception(env, &mut err) == sys::Status::napi_ok
                    {
                        sys::napi_fatal_exception(env, err);
                    }
                }
            }
            sys::napi_close_handle_scope(env, scope);
        }
    }

    /// libuv's poll callback.
    unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, events: c_int) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `data`, the first field of every libuv handle, was set to the Conn that owns
            // this handle, which lives until uv_close's callback; libuv calls no poll callback after
            // uv_close.
            unsafe { poll(handle.cast::<*mut Conn>().read(), status, events) }
        }));
    }

    /// # Safety
    /// `conn` is a live Conn, called from its poll callback.
    unsafe fn poll(conn: *mut Conn, status: c_int, events: c_int) {
        let Some(uv) = uv() else { return };
        // SAFETY: every dereference of `conn` below is of a live Conn (by the caller), borrowed only
        // between calls into JavaScript, which may use it through its handle.
        unsafe {
            if (*conn).closed {
                return;
            }
            if status < 0 {
                emit(conn, TRANSPORT_ERROR, i64::from(-status));
                return;
            }
            if events & UV_WRITABLE != 0 && !(*conn).queue.is_empty() {
                let flushed = (*conn).flush();
                if let Err(e) = flushed {
                    emit(conn, TRANSPORT_ERROR, i64::from(e));
                    return;
                }
                if (*conn).queue.is_empty() {
                    (*conn).set_events(uv);
                    (*conn).shutdown_if_drained();
                    emit(conn, TRANSPORT_DRAIN, 0);
                    if (*conn).closed {
                        return;
                    }
                }
            }
            if events & (UV_READABLE | UV_DISCONNECT) == 0 {
                return;
            }
            // Read again while reads fill the window, as libuv does for its streams: a large
            // message that the kernel holds in full is read in one poll callback, not one loop
            // iteration (and one epoll_wait) per read.
            for _ in 0..READS_PER_POLL {
                if (*conn).closed || !(*conn).reading || (*conn).eof {
                    return;
                }
                let read_buf = READ_BUF.with(Cell::get);
                let Some((offset, len)) = read_buf.target() else {
                    return;
                };
                let n = loop {
                    // SAFETY: `offset + len` is within the registered JavaScript buffer, alive
                    // through its reference; no JavaScript runs during the read.
                    let n = libc::read((*conn).fd, read_buf.ptr.add(offset).cast(), len);
                    if n >= 0 || errno() != libc::EINTR {
                        break n;
                    }
                };
                if n > 0 {
                    let sink = (*conn).sink;
                    if sink != 0 && !read_buf.pushing() {
                        call(conn, |env| {
                            match push_read(env, &read_buf, sink, offset, n as usize) {
                                Ok(owned) => (TRANSPORT_PARSED, n as i64, Some(owned)),
                                Err(_) => (TRANSPORT_ERROR, i64::from(libc::EIO), None),
                            }
                        });
                    } else {
                        emit(conn, TRANSPORT_READ, n as i64);
                    }
                    if (n as usize) == len {
                        continue;
                    }
                    // The peer's FIN is in (UV_DISCONNECT) and this read took everything before it:
                    // the end is reported now, as libuv does for its streams, not one loop later.
                    if events & UV_DISCONNECT != 0
                        && !(*conn).closed
                        && (*conn).reading
                        && !(*conn).eof
                    {
                        end(conn, uv);
                    }
                } else if n == 0 {
                    end(conn, uv);
                } else {
                    let e = errno();
                    if !would_block(e) {
                        emit(conn, TRANSPORT_ERROR, i64::from(e));
                    }
                }
                return;
            }
        }
    }

    /// Pushes the `n` bytes just read at `offset` of the read buffer through the sink at `sink`,
    /// in place, as `sinkPush` does for a chunk that starts the free arena; the events go to the
    /// registered table. Returns the batch's owned values (JavaScript null when none).
    ///
    /// # Safety
    /// Inside a handle scope of the live `env`, with no JavaScript running; `offset + n` is within
    /// `read_buf`, the buffer registered now.
    unsafe fn push_read(
        env: sys::napi_env,
        read_buf: &ReadBuf,
        sink: usize,
        offset: usize,
        n: usize,
    ) -> Result<sys::napi_value> {
        if read_buf.table.is_null() || !is_live_sink(sink) {
            return Err(Error::from_reason("no sink to push into"));
        }
        // SAFETY: `sink` is the address of a live NativeFrameSink (just checked against the
        // registry; it cannot be dropped while no JavaScript runs), and no other reference to it
        // exists: JavaScript is not running and a push is never re-entered.
        let sink = unsafe { &mut *(sink as *mut NativeFrameSink) };
        // SAFETY: the buffer from `offset` and the table are JavaScript memory held by the read
        // buffer's references, disjoint (checked when they were registered), untouched by
        // anything else during this call; `offset <= len` (the window is clamped to it).
        let (arena, table) = unsafe {
            (
                std::slice::from_raw_parts_mut(read_buf.ptr.add(offset), read_buf.len - offset),
                std::slice::from_raw_parts_mut(read_buf.table, read_buf.table_len),
            )
        };
        let env = Env::from_raw(env);
        let owned = sink.push(&env, None, n, arena, offset as u32, table)?;
        match owned {
            Some(list) => Ok(list.raw()),
            None => {
                let mut null = std::ptr::null_mut();
                // SAFETY: out-pointer to a local.
                unsafe { sys::napi_get_null(env.raw(), &mut null) };
                Ok(null)
            }
        }
    }

    /// The peer ended its side: reading stops, after JavaScript was told, so that a socket closed
    /// from that call (both sides ended) leaves the loop's poll set once, in uv_close, and not
    /// first here.
    ///
    /// # Safety
    /// As `emit`.
    unsafe fn end(conn: *mut Conn, uv: &Uv) {
        // SAFETY: by the caller; nothing is borrowed across the call into JavaScript.
        unsafe {
            (*conn).eof = true;
            emit(conn, TRANSPORT_END, 0);
            (*conn).set_events(uv);
        }
    }

    /// uv_close's callback: the descriptor is closed and the connection freed.
    unsafe extern "C" fn on_close(handle: *mut c_void) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the handle's `data` is its Conn, boxed in `open` and freed only here, once:
            // libuv calls this once, after which no callback of the handle runs.
            unsafe {
                let conn = Box::from_raw(handle.cast::<*mut Conn>().read());
                libc::close(conn.fd);
                give_slot_back(conn.id);
                untrack(conn.env, 1);
                drop(Vec::from_raw_parts(
                    conn.handle.cast::<u64>(),
                    conn.handle_words,
                    conn.handle_words,
                ));
            }
        }));
    }

    /// Takes a duplicate of `fd` (close-on-exec) and starts polling it for reads. The duplicate is
    /// non-blocking without a call of ours: it shares the open file description, and with it the
    /// status flags, of Node's descriptor (non-blocking), and `uv_poll_init` sets the mode anyway
    /// (libuv 1.2.2 and later), so no fcntl pair is spent on it per connection.
    pub(super) fn open(
        env: &Env,
        fd: i32,
        receiver: Unknown,
        callback: Unknown,
    ) -> Result<*mut Conn> {
        let Some(uv) = uv() else {
            return Err(Error::new(
                Status::GenericFailure,
                "the native transport needs Node's libuv",
            ));
        };
        if fd < 0 {
            return Err(Error::new(Status::InvalidArg, "fd must be a descriptor"));
        }
        let raw = env.raw();
        let mut event_loop = std::ptr::null_mut();
        // SAFETY: a plain N-API call on the live environment of this call, with an out-pointer.
        if unsafe { sys::napi_get_uv_event_loop(raw, &mut event_loop) } != sys::Status::napi_ok
            || event_loop.is_null()
        {
            return Err(Error::new(Status::GenericFailure, "no event loop"));
        }
        // SAFETY: fcntl on a descriptor number the caller gave; a bad one is EBADF, nothing else.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(Error::from_reason(format!(
                "cannot duplicate the socket: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: libuv's size query, no state.
        let size = unsafe { (uv.handle_size)(UV_POLL) };
        let words = size.div_ceil(8).max(1);
        let mut storage = std::mem::ManuallyDrop::new(vec![0u64; words]);
        let handle = storage.as_mut_ptr().cast::<c_void>();
        let conn = Box::into_raw(Box::new(Conn {
            fd: dup,
            handle,
            handle_words: words,
            env: raw,
            receiver: std::ptr::null_mut(),
            callback: std::ptr::null_mut(),
            owns_callback: true,
            sink: 0,
            queue: WriteQueue::new(),
            events: 0,
            reading: true,
            eof: false,
            want_shutdown: false,
            shut: false,
            closed: false,
            id: u32::MAX,
        }));
        let mut receiver_ref = std::ptr::null_mut();
        let mut callback_ref = std::ptr::null_mut();
        let mut kind = sys::ValueType::napi_undefined;
        // SAFETY: plain N-API calls on the live environment with values of this call, out-pointers
        // to locals.
        let referenced = unsafe {
            sys::napi_typeof(raw, receiver.raw(), &mut kind) == sys::Status::napi_ok
                && kind == sys::ValueType::napi_object
                && sys::napi_create_reference(raw, receiver.raw(), 1, &mut receiver_ref)
                    == sys::Status::napi_ok
                && sys::napi_create_reference(raw, callback.raw(), 1, &mut callback_ref)
                    == sys::Status::napi_ok
        };
        // SAFETY: `conn` was boxed above and is not yet known to libuv or JavaScript.
        unsafe {
            (*conn).receiver = receiver_ref;
            (*conn).callback = callback_ref;
        }
        // Deletes the references of a Conn that did not open; the caller frees it.
        let forget = |conn: *mut Conn| {
            // SAFETY: as above; each reference is deleted once, and only if it was made.
            unsafe {
                if !(*conn).receiver.is_null() {
                    sys::napi_delete_reference(raw, (*conn).receiver);
                }
                if !(*conn).callback.is_null() {
                    sys::napi_delete_reference(raw, (*conn).callback);
                }
            }
        };
        if !referenced {
            forget(conn);
            // SAFETY: the descriptor just duplicated and the Conn just boxed, both unknown to
            // anything else now.
            unsafe {
                libc::close(dup);
                drop(Box::from_raw(conn));
            }
            drop(std::mem::ManuallyDrop::into_inner(storage));
            return Err(Error::new(
                Status::InvalidArg,
                "the socket must be an object",
            ));
        }
        // SAFETY: `handle` is zeroed storage of uv_handle_size(UV_POLL) bytes, 8-byte aligned, for a
        // poll handle on this thread's loop; `data` (the first field) is set after init, which
        // leaves it alone. On failure the handle was never initialised: freed directly.
        unsafe {
            if (uv.poll_init)(event_loop.cast(), handle, dup) != 0 {
                forget(conn);
                libc::close(dup);
                drop(Box::from_raw(conn));
                drop(std::mem::ManuallyDrop::into_inner(storage));
                return Err(Error::from_reason("uv_poll_init failed"));
            }
            handle.cast::<*mut Conn>().write(conn);
        }
        if let Err(e) = track(raw) {
            // SAFETY: the Conn just opened, closed once; its uv_close callback frees it.
            unsafe { close(conn) };
            return Err(e);
        }
        let Some(id) = take_slot(conn) else {
            // SAFETY: as above (its id, u32::MAX, is no slot's: giving it back does nothing).
            unsafe { close(conn) };
            return Err(Error::from_reason("no transport slot left"));
        };
        // SAFETY: the live Conn just opened and tracked, owning its callback reference.
        unsafe {
            (*conn).id = id;
            share_callback(conn);
            (*conn).set_events(uv);
        }
        Ok(conn)
    }

    /// Stops polling and closes the handle; the descriptor is closed and the Conn freed in
    /// uv_close's callback. Idempotent through the caller (a closed Conn is found no more).
    ///
    /// # Safety
    /// `conn` is a live Conn not closed before, on its environment's thread.
    pub(super) unsafe fn close(conn: *mut Conn) {
        let Some(uv) = uv() else { return };
        // SAFETY: by the caller; the references are deleted once, here.
        unsafe {
            let c = &mut *conn;
            c.closed = true;
            c.queue.clear();
            sys::napi_delete_reference(c.env, c.receiver);
            if c.owns_callback {
                sys::napi_delete_reference(c.env, c.callback);
            }
            // uv_close stops a poll handle itself (one removal from the poll set, not two).
            (uv.close)(c.handle, on_close);
        }
    }

    /// # Safety
    /// `env` is live; `old` was registered in it and is no longer in READ_BUF.
    unsafe fn release_read_buf(env: sys::napi_env, old: ReadBuf) {
        // SAFETY: by the caller; each reference is deleted once.
        unsafe {
            if !old.reference.is_null() {
                sys::napi_delete_reference(env, old.reference);
            }
            if !old.window_reference.is_null() {
                sys::napi_delete_reference(env, old.window_reference);
            }
            if !old.table_reference.is_null() {
                sys::napi_delete_reference(env, old.table_reference);
            }
        }
    }

    pub(super) fn set_read_buffer(
        env: &Env,
        buffer: BufferSlice,
        window: Uint32ArraySlice,
        table: Uint32ArraySlice,
    ) -> Result<()> {
        if window.len() < 3 {
            return Err(Error::new(
                Status::InvalidArg,
                "the read window must hold an offset, a length and the pushes under way",
            ));
        }
        if table.len() < (SINK_TABLE_HEAD + SINK_EVENT_WORDS) as usize {
            return Err(Error::new(Status::InvalidArg, "event table too small"));
        }
        let span = |ptr: *const u8, len: usize| (ptr as usize, len);
        let buffer_span = span(buffer.as_ptr(), buffer.len());
        let table_span = span(table.as_ptr().cast(), table.len() * 4);
        let window_span = span(window.as_ptr().cast(), 12);
        if overlaps(buffer_span, table_span)
            || overlaps(window_span, table_span)
            || overlaps(window_span, buffer_span)
        {
            return Err(Error::new(
                Status::InvalidArg,
                "the read buffer, its window and the event table must not overlap",
            ));
        }
        let raw = env.raw();
        let mut reference = std::ptr::null_mut();
        let mut window_reference = std::ptr::null_mut();
        let mut table_reference = std::ptr::null_mut();
        // SAFETY: N-API calls on the live environment; the buffer's, the window's and the table's
        // memory stay alive (and in place: a typed array's backing store does not move) while the
        // references hold them.
        unsafe {
            if sys::napi_create_reference(raw, buffer.raw(), 1, &mut reference)
                != sys::Status::napi_ok
                || sys::napi_create_reference(raw, window.raw(), 1, &mut window_reference)
                    != sys::Status::napi_ok
                || sys::napi_create_reference(raw, table.raw(), 1, &mut table_reference)
                    != sys::Status::napi_ok
            {
                release_read_buf(
                    raw,
                    ReadBuf {
                        reference,
                        window_reference,
                        table_reference,
                        ..NO_READ_BUF
                    },
                );
                return Err(Error::from_reason("cannot hold the read buffer"));
            }
            let mut slice = buffer;
            let mut table = table;
            let new = ReadBuf {
                ptr: slice.as_mut_ptr(),
                len: slice.len(),
                reference,
                window: window.as_ptr(),
                window_reference,
                table: table.as_mut().as_mut_ptr(),
                table_len: table.len(),
                table_reference,
            };
            let old = READ_BUF.with(|cell| cell.replace(new));
            release_read_buf(raw, old);
        }
        Ok(())
    }

    // Thin accessors for the transport* functions.
    pub(super) fn write(conn: &mut Conn, chunks: &[&[u8]]) -> std::result::Result<usize, c_int> {
        match uv() {
            Some(uv) => conn.write(uv, chunks),
            None => Err(libc::ENOTSUP),
        }
    }

    pub(super) fn set_sink(conn: &mut Conn, sink: usize) {
        conn.sink = sink;
    }

    pub(super) fn set_reading(conn: &mut Conn, reading: bool) {
        conn.reading = reading;
        if let Some(uv) = uv() {
            conn.set_events(uv);
        }
    }

    pub(super) fn shutdown(conn: &mut Conn) {
        conn.want_shutdown = true;
        conn.shutdown_if_drained();
    }

    /// The connection's local address, or with `peer` its peer's, as Node's sockets report them:
    /// the address in text (RFC 5952's form, as libuv's `inet_ntop`, an IPv4-mapped IPv6 address
    /// ending in the dotted quad; a link-local IPv6 address with its interface after `%`), whether it is IPv6, and the port. None when the system has none (the peer is
    /// gone) or the family is neither.
    pub(super) fn address(conn: &Conn, peer: bool) -> Option<(String, bool, u16)> {
        if conn.closed {
            return None;
        }
        // SAFETY: a zeroed sockaddr_storage is valid; the calls write at most `len` bytes of it.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let sa = (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr>();
        // SAFETY: `fd` is this connection's open descriptor (closed only in uv_close's callback,
        // after `closed`); the out-pointers are to locals of the right size.
        let rc = unsafe {
            if peer {
                libc::getpeername(conn.fd, sa, &mut len)
            } else {
                libc::getsockname(conn.fd, sa, &mut len)
            }
        };
        if rc != 0 {
            return None;
        }
        let (mut address, ipv6, port, scope) = match c_int::from(storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the system wrote an AF_INET address, a sockaddr_in, into the storage.
                let sin = unsafe { &*sa.cast::<libc::sockaddr_in>() };
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                (ip.to_string(), false, u16::from_be(sin.sin_port), 0)
            }
            libc::AF_INET6 => {
                // SAFETY: the system wrote an AF_INET6 address, a sockaddr_in6, into the storage.
                let sin6 = unsafe { &*sa.cast::<libc::sockaddr_in6>() };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                let scope = if ip.is_unicast_link_local() {
                    sin6.sin6_scope_id
                } else {
                    0
                };
                (ip.to_string(), true, u16::from_be(sin6.sin6_port), scope)
            }
            _ => return None,
        };
        if scope != 0 {
            let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
            // SAFETY: if_indextoname writes at most IF_NAMESIZE bytes, NUL-terminated, or fails.
            let found = unsafe { !libc::if_indextoname(scope, name.as_mut_ptr()).is_null() };
            address.push('%');
            if found {
                // SAFETY: NUL-terminated by if_indextoname.
                address.push_str(&unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy());
            } else {
                address.push_str(&scope.to_string());
            }
        }
        Some((address, ipv6, port))
    }
}

#[cfg(not(unix))]
mod imp {
    use super::*;
    pub(super) struct Conn;
    pub(super) fn uv() -> Option<()> {
        None
    }
    pub(super) unsafe fn id(_: *mut Conn) -> u32 {
        0
    }
    pub(super) unsafe fn conn_of<'a>(_: u32) -> Option<&'a mut Conn> {
        None
    }
    pub(super) fn open(_: &Env, _: i32, _: Unknown, _: Unknown) -> Result<*mut Conn> {
        Err(Error::new(
            Status::GenericFailure,
            "the native transport is not available on this platform",
        ))
    }
    pub(super) unsafe fn close(_: *mut Conn) {}
    pub(super) fn set_read_buffer(
        _: &Env,
        _: BufferSlice,
        _: Uint32ArraySlice,
        _: Uint32ArraySlice,
    ) -> Result<()> {
        Ok(())
    }
    pub(super) fn set_sink(_: &mut Conn, _: usize) {}
    pub(super) fn write(_: &mut Conn, _: &[&[u8]]) -> std::result::Result<usize, i32> {
        Err(95)
    }
    pub(super) fn set_reading(_: &mut Conn, _: bool) {}
    pub(super) fn shutdown(_: &mut Conn) {}
    pub(super) fn address(_: &Conn, _: bool) -> Option<(String, bool, u16)> {
        None
    }
}

/// Whether this process can run the native transport: a Unix build inside a runtime that exports
/// libuv (Node). JavaScript also checks that the socket is Node's plain TCP socket.
#[napi]
pub fn native_transport_available() -> bool {
    imp::uv().is_some()
}

/// Registers the buffer every read of this thread goes into (JavaScript reads it in the callback),
/// its window: a `Uint32Array` whose first two words are the offset of the next read and the most
/// bytes it may take, and whose third is non-zero while JavaScript is inside a push (JavaScript
/// keeps them current), and the event table a read pushed through a connection's sink fills
/// (`TRANSPORT_PARSED`, the layout `sinkPush` fills).
#[napi]
pub fn set_transport_read_buffer(
    env: Env,
    buffer: BufferSlice,
    window: Uint32ArraySlice,
    table: Uint32ArraySlice,
) -> Result<()> {
    imp::set_read_buffer(&env, buffer, window, table)
}

/// A socket address as `net.Socket` reports it (`_getpeername()`, `address()`).
#[napi(object)]
pub struct SocketAddress {
    pub address: String,
    /// `IPv4` or `IPv6`.
    pub family: String,
    pub port: u32,
}

/// The open Conn of the connection `id` (what `transportOpen` returned), or None (no such
/// connection, or closed).
fn conn_of<'a>(id: u32) -> Option<&'a mut imp::Conn> {
    // SAFETY: called from JavaScript on its thread; JavaScript is single-threaded and no call of
    // the transport re-enters, so the Conn is borrowed nowhere else during the call.
    unsafe { imp::conn_of(id) }
}

/// Takes over the socket descriptor `fd`: duplicates it and polls the duplicate; `callback` is
/// called as `socket.callback(kind, value)` (TRANSPORT_*), `socket` (an object, a NativeSocket in
/// the package) held while the connection is open. The caller then lets its own socket go
/// (closing the original). Returns the connection's id, a small integer the other `transport*`
/// functions take for it.
#[napi]
pub fn transport_open(env: Env, fd: i32, socket: Unknown, callback: Unknown) -> Result<u32> {
    // SAFETY: the Conn `open` just returned is live.
    imp::open(&env, fd, socket, callback).map(|conn| unsafe { imp::id(conn) })
}

/// Writes the chunks (Uint8Arrays, in order) behind what is queued. Returns the bytes queued
/// afterwards, or a negative errno (EPIPE once closed).
#[napi]
pub fn transport_writev(id: u32, chunks: Array) -> Result<f64> {
    let Some(conn) = conn_of(id) else {
        return Ok(-32.0); // EPIPE
    };
    let mut held = Vec::with_capacity(chunks.len() as usize);
    for i in 0..chunks.len() {
        let chunk: BufferSlice = chunks
            .get(i)?
            .ok_or_else(|| Error::new(Status::InvalidArg, "write expects Uint8Arrays"))?;
        held.push(chunk);
    }
    let slices: Vec<&[u8]> = held.iter().map(|b| &b[..]).collect();
    Ok(match imp::write(conn, &slices) {
        Ok(queued) => queued as f64,
        Err(e) => -f64::from(e),
    })
}

/// Makes every later read of the connection be pushed through `sink` (a NativeFrameSink) before
/// JavaScript is called (`TRANSPORT_PARSED`), or, with null, handed over unparsed
/// (`TRANSPORT_READ`). The caller keeps the sink reachable from the socket while it is set.
#[napi]
pub fn transport_set_sink(env: Env, id: u32, sink: Unknown) -> Result<()> {
    use napi::bindgen_prelude::{JsValue, ValueType};
    let address = if matches!(sink.get_type()?, ValueType::Null | ValueType::Undefined) {
        0
    } else {
        // SAFETY: a live value of this call; the address is used only while the registry of
        // live sinks holds it.
        let wrapped = unsafe {
            raw::unwrap_live(
                env.raw(),
                sink.raw(),
                super::sink::is_live_sink,
                "setSink expects a NativeFrameSink",
            )?
        };
        wrapped as usize
    };
    if let Some(conn) = conn_of(id) {
        imp::set_sink(conn, address);
    }
    Ok(())
}

/// Reads (true) or stops reading (false).
#[napi]
pub fn transport_set_reading(id: u32, reading: bool) {
    if let Some(conn) = conn_of(id) {
        imp::set_reading(conn, reading);
    }
}

/// Ends the writing side (shutdown(SHUT_WR)) once the queue is written.
#[napi]
pub fn transport_shutdown(id: u32) {
    if let Some(conn) = conn_of(id) {
        imp::shutdown(conn);
    }
}

/// The socket's local address, or with `peer` its peer's, as a `net.Socket` reports them (read
/// from the descriptor when asked, not at the takeover); undefined once closed, or when the system
/// has none (the peer is gone).
#[napi]
pub fn transport_address(id: u32, peer: bool) -> Option<SocketAddress> {
    let conn = conn_of(id)?;
    let (address, ipv6, port) = imp::address(conn, peer)?;
    Some(SocketAddress {
        address,
        family: if ipv6 { "IPv6" } else { "IPv4" }.to_owned(),
        port: u32::from(port),
    })
}

/// Stops everything and lets the socket go; the descriptor is closed once libuv has let go of the
/// handle. Nothing once closed.
#[napi]
pub fn transport_close(id: u32) {
    if let Some(conn) = conn_of(id) {
        // SAFETY: an open Conn (not closed: conn_of checked), closed once: closing marks it, so
        // conn_of finds it no more.
        unsafe { imp::close(conn) };
    }
}

/// Exports `transportWrite(id, bytes, start, end)`, the write of bytes `[start, end)` of a
/// Uint8Array (a region of the frame writer's slab, without a view made for it), and
/// `transportWriteFrame(id, header, headerLength, payload)`, the write of a large frame: the first
/// `headerLength` bytes of `header` (a scratch buffer the frame writer reuses) and the whole
/// `payload` in one vectored write, with no buffer, cork or array made for them in JavaScript.
/// Both go to the connection `id` (what `transportOpen` returned) and are plain Node-API functions
/// (see raw.rs): the bytes queued afterwards or a negative errno; they throw on bad arguments.
pub(super) fn export(exports: &mut Object, env: &Env) -> Result<()> {
    raw::export_function(exports, env, "transportWrite", transport_write)?;
    raw::export_function(exports, env, "transportWriteFrame", transport_write_frame)
}

/// The raw callback of `transportWrite`.
unsafe extern "C" fn transport_write(
    raw_env: napi::sys::napi_env,
    info: napi::sys::napi_callback_info,
) -> napi::sys::napi_value {
    // SAFETY: called by the engine with a live environment and callback info.
    unsafe { raw::call(raw_env, info, "transportWrite", transport_write_args) }
}

/// The raw callback of `transportWriteFrame`.
unsafe extern "C" fn transport_write_frame(
    raw_env: napi::sys::napi_env,
    info: napi::sys::napi_callback_info,
) -> napi::sys::napi_value {
    // SAFETY: called by the engine with a live environment and callback info.
    unsafe {
        raw::call(
            raw_env,
            info,
            "transportWriteFrame",
            transport_write_frame_args,
        )
    }
}

/// A uint32 argument, None when it is not one.
///
/// # Safety
/// `raw` must be the live environment of the current call and `value` a value of it.
unsafe fn u32_arg(raw: napi::sys::napi_env, value: napi::sys::napi_value) -> Option<usize> {
    let mut number = 0u32;
    // SAFETY: by the caller; an out-pointer to a local.
    let status = unsafe { napi::sys::napi_get_value_uint32(raw, value, &mut number) };
    (status == napi::sys::Status::napi_ok).then_some(number as usize)
}

/// The open connection whose id `value` is.
///
/// # Safety
/// As `u32_arg`'s; in a call from JavaScript, during which nothing can close or free the Conn (no
/// JavaScript runs) and nothing else borrows it.
unsafe fn conn_arg<'a>(
    raw: napi::sys::napi_env,
    value: napi::sys::napi_value,
    name: &str,
) -> Result<&'a mut imp::Conn> {
    // SAFETY: by the caller.
    let id = unsafe { u32_arg(raw, value) };
    id.and_then(|id| conn_of(id as u32)).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("{name} expects the id of an open connection of the transport (transportOpen)"),
        )
    })
}

/// The bytes of a Uint8Array, alive for the current call.
///
/// # Safety
/// `raw` must be the live environment of the current call and `value` a value of it; the slice is
/// used only during that call, and only read.
unsafe fn bytes_arg<'a>(
    raw: napi::sys::napi_env,
    value: napi::sys::napi_value,
    what: &str,
) -> Result<&'a [u8]> {
    // SAFETY: by the caller.
    let (data, len, kind) = unsafe { raw::typed_array(raw, value, what)? };
    if kind != napi::sys::TypedarrayType::uint8_array {
        return Err(Error::new(Status::InvalidArg, what.to_owned()));
    }
    Ok(if len == 0 || data.is_null() {
        &[]
    } else {
        // SAFETY: the typed array's `len` bytes, alive for this synchronous call (by the caller).
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }
    })
}

/// Writes `chunks` on the connection: the bytes queued afterwards, or a negative errno, as a
/// JavaScript number.
///
/// # Safety
/// `raw` must be the live environment of the current call.
unsafe fn write_result(
    raw: napi::sys::napi_env,
    conn: &mut imp::Conn,
    chunks: &[&[u8]],
) -> Result<napi::sys::napi_value> {
    let queued = match imp::write(conn, chunks) {
        Ok(queued) => queued as f64,
        Err(e) => -f64::from(e),
    };
    let mut value = std::ptr::null_mut();
    // SAFETY: by the caller; an out-pointer to a local.
    unsafe { napi::sys::napi_create_double(raw, queued, &mut value) };
    Ok(value)
}

/// # Safety
/// `raw` and `info` must be those of a live call of `transportWrite`.
unsafe fn transport_write_args(
    raw: napi::sys::napi_env,
    info: napi::sys::napi_callback_info,
) -> Result<napi::sys::napi_value> {
    // SAFETY: by the caller.
    let argv: [napi::sys::napi_value; 4] =
        unsafe { raw::arguments(raw, info, "transportWrite(id, bytes, start, end)")? };
    // SAFETY: live values of this call, used only during it.
    let (conn, bytes, start, end) = unsafe {
        (
            conn_arg(raw, argv[0], "transportWrite")?,
            bytes_arg(raw, argv[1], "transportWrite expects a Uint8Array")?,
            u32_arg(raw, argv[2]),
            u32_arg(raw, argv[3]),
        )
    };
    let chunk = match (start, end) {
        (Some(start), Some(end)) if start <= end && end <= bytes.len() => &bytes[start..end],
        _ => {
            return Err(Error::new(
                Status::InvalidArg,
                "transportWrite: start and end must be offsets within the bytes, start <= end",
            ))
        }
    };
    // SAFETY: by the caller.
    unsafe { write_result(raw, conn, &[chunk]) }
}

/// # Safety
/// `raw` and `info` must be those of a live call of `transportWriteFrame`.
unsafe fn transport_write_frame_args(
    raw: napi::sys::napi_env,
    info: napi::sys::napi_callback_info,
) -> Result<napi::sys::napi_value> {
    const BYTES: &str = "transportWriteFrame expects a Uint8Array header and payload";
    // SAFETY: by the caller.
    let argv: [napi::sys::napi_value; 4] = unsafe {
        raw::arguments(
            raw,
            info,
            "transportWriteFrame(id, header, headerLength, payload)",
        )?
    };
    // SAFETY: live values of this call, used only during it.
    let (conn, header, header_len, payload) = unsafe {
        (
            conn_arg(raw, argv[0], "transportWriteFrame")?,
            bytes_arg(raw, argv[1], BYTES)?,
            u32_arg(raw, argv[2]),
            bytes_arg(raw, argv[3], BYTES)?,
        )
    };
    let header = match header_len {
        Some(len) if len <= header.len() => &header[..len],
        _ => {
            return Err(Error::new(
                Status::InvalidArg,
                "transportWriteFrame: headerLength must be within the header",
            ))
        }
    };
    // SAFETY: by the caller.
    unsafe { write_result(raw, conn, &[header, payload]) }
}
