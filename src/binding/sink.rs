use bytes::Bytes;
use napi::bindgen_prelude::{
    Array, BufferSlice, Error, FromNapiValue, JsValue, Object, Result, Status, ToNapiValue,
    Uint32ArraySlice, Unknown,
};
use napi::{sys, Env};
use napi_derive::napi;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::deflate::InflateOptions;
use super::errors::ErrorRecord;
use super::frame::payload_limit;
use super::raw::{self, AddressSet};
use crate::error::ProtocolError;
use crate::message_buffers;
use crate::opcode::OpCode;
use crate::sink::{Event, EventKind, FrameSink, Payload, SinkOptions};
use crate::utf16::utf8_to_utf16;

// The layout of the event table `sinkPush` and `next` fill, exported so that
// lib/primitives/frame-sink.js reads it from here instead of writing it a second time.

/// Slots at the head of the event table: event count, arena bytes used, flags, buffered bytes.
#[napi]
pub const SINK_TABLE_HEAD: u32 = 4;
/// `u32`s per event: kind (an opcode, with the flags below), arena start or owned index, length,
/// close code.
#[napi]
pub const SINK_EVENT_WORDS: u32 = 4;
/// Set on an event's kind when its payload is in the returned array of owned values.
#[napi]
pub const SINK_OWNED_FLAG: u32 = 0x100;
/// Set on a text event whose payload is all ASCII: JavaScript then builds the string as Latin-1,
/// a plain copy (measured 2x faster than UTF-8 decoding for 64 KiB), instead of decoding UTF-8.
#[napi]
pub const SINK_ASCII_FLAG: u32 = 0x200;
/// Set on a text event delivered as a string, built here from UTF-16, in the returned array.
#[napi]
pub const SINK_STRING_FLAG: u32 = 0x400;
/// Flag in the table's third word: the batch ended with a protocol error (see `takeError`).
#[napi]
pub const SINK_FLAG_ERROR: u32 = 1;
/// Flag in the table's third word: more events than the table holds; `next` writes the
/// following ones.
#[napi]
pub const SINK_FLAG_MORE: u32 = 2;

const TABLE_HEAD: usize = SINK_TABLE_HEAD as usize;
const EVENT_WORDS: usize = SINK_EVENT_WORDS as usize;
/// Non-ASCII text from this many bytes on becomes a string here (when the sink was asked to):
/// below it the engine's decoder costs less than the extra string creation call.
const UTF16_MIN: usize = 16;

fn kind_code(kind: EventKind) -> u32 {
    // The RFC 6455 opcodes, so JavaScript can switch on `WS_OPCODE`.
    let opcode = match kind {
        EventKind::Text => OpCode::Text,
        EventKind::Binary => OpCode::Binary,
        EventKind::Close => OpCode::Close,
        EventKind::Ping => OpCode::Ping,
        EventKind::Pong => OpCode::Pong,
    };
    u32::from(opcode.as_u8())
}

/// The addresses of the live sinks: recorded by `register`, a `#[napi]` method that napi-rs calls
/// only on an object carrying NativeFrameSink's Node-API type tag, and removed when the sink is
/// dropped (on whatever thread the runtime finalizes it: one set for the process, not one per
/// thread, so that no freed address stays in it). `sinkPush` checks the pointer it unwrapped against
/// this set before using it as a sink: an uncontended lock and a hash lookup, where a
/// `napi_check_object_type_tag` call per push measured about 80 ns, a fifth of a push of one small
/// frame.
static LIVE_SINKS: Mutex<AddressSet> =
    Mutex::new(AddressSet::with_hasher(BuildHasherDefault::new()));

fn live_sinks() -> MutexGuard<'static, AddressSet> {
    // The set stays consistent whatever panicked while holding it (nothing does): a poisoned lock
    // is taken as is.
    LIVE_SINKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `address` is that of a live, registered NativeFrameSink.
pub(super) fn is_live_sink(address: usize) -> bool {
    live_sinks().contains(&address)
}

/// The streaming assembler for one connection. One `push` per socket read is the only crossing
/// between JavaScript and Rust: events go to a `Uint32Array` table, payloads to a JavaScript arena.
#[napi]
pub struct NativeFrameSink {
    inner: FrameSink,
    /// The thread's lists while a batch of this sink is being written (see `Scratch`), `None`
    /// otherwise; `cursor` is the first event not yet written to a table.
    scratch: Option<Box<Scratch>>,
    cursor: usize,
    /// Where the last push's arena started in the JavaScript buffer: table offsets are absolute.
    arena_base: u32,
    error: Option<ProtocolError>,
    /// Whether non-ASCII text becomes a string here, through UTF-16 (see `crate::utf16`).
    utf16_text: bool,
    /// The address `register` recorded in LIVE_SINKS (0 before): kept here because the value may
    /// have moved by the time it is dropped.
    registered: usize,
}

/// The lists a push fills and its batch is written from: the events, whether each text payload is
/// all ASCII, and the UTF-16 code units of text made a string here. One set per thread, lent to a
/// sink from its push until every event of the batch is written (almost always within the push):
/// a push allocates nothing once the thread's lists have grown, and an idle connection holds none
/// of their memory (they were a few hundred bytes per connection, up to a MiB after large text).
struct Scratch {
    events: Vec<Event>,
    ascii: Vec<bool>,
    units: Vec<u16>,
}

impl Scratch {
    const fn empty() -> Scratch {
        Scratch {
            events: Vec::new(),
            ascii: Vec::new(),
            units: Vec::new(),
        }
    }

    /// The thread's lists, or new ones when another sink holds them (or the thread is being torn
    /// down).
    fn lend() -> Box<Scratch> {
        SCRATCH
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_else(|| Box::new(Scratch::empty()))
    }
}

thread_local! {
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

#[napi]
impl NativeFrameSink {
    /// `max_payload_length`: negative, NaN or infinite means no limit.
    #[napi(constructor)]
    /// `inflate`: permessage-deflate was negotiated; compressed messages are inflated as they
    /// arrive, within `max_payload_length`.
    /// `utf16_text`: build non-ASCII text messages into strings here, where the engine decodes UTF-8
    /// slowly (V8 before 13), instead of leaving the decoding to JavaScript. `reject_mask`: fail on
    /// masked frames, as a client must.
    pub fn new(
        require_mask: bool,
        max_payload_length: f64,
        max_fragments: u32,
        utf16_text: Option<bool>,
        reject_mask: Option<bool>,
        inflate: Option<InflateOptions>,
    ) -> Self {
        let opts = SinkOptions {
            require_mask,
            reject_mask: reject_mask.unwrap_or(false),
            max_payload_length: payload_limit(max_payload_length).unwrap_or(u64::MAX),
            max_fragments,
            deflate: inflate.map(|i| i.params()),
        };
        NativeFrameSink {
            inner: FrameSink::new(opts),
            scratch: None,
            cursor: 0,
            arena_base: 0,
            error: None,
            utf16_text: utf16_text.unwrap_or(false),
            registered: 0,
        }
    }

    /// Decodes `chunk`. Writes the batch into `table` (head: event count, arena bytes used, flags,
    /// bytes buffered; then four words per event), payloads into `arena` (the JavaScript arena from
    /// `arena_offset` on) where they fit, and returns the values that are not in the arena (or
    /// `None`): payloads that did not fit, as Buffers handed over without a copy, and text built into
    /// strings here (`SINK_STRING_FLAG`). After an error or a CLOSE the sink ignores all input. Called by
    /// `sinkPush` (see `sink_push`), the one crossing per socket read. `chunk` `None`: the chunk is
    /// the first `in_place_len` bytes of `arena` (a read into the free arena), parsed where it lies.
    pub(super) fn push<'env>(
        &mut self,
        env: &'env Env,
        chunk: Option<&[u8]>,
        in_place_len: usize,
        arena: &mut [u8],
        arena_offset: u32,
        table: &mut [u32],
    ) -> Result<Option<Array<'env>>> {
        if table.len() < TABLE_HEAD + EVENT_WORDS {
            return Err(Error::new(Status::InvalidArg, "event table too small"));
        }
        // This sink's lists when it still holds them (events of its last batch left unwritten,
        // dropped now as before), else the thread's.
        let lists = self.scratch.get_or_insert_with(Scratch::lend);
        lists.events.clear();
        self.cursor = 0;
        self.arena_base = arena_offset;
        let Scratch { events, ascii, .. } = &mut **lists;
        let outcome = match chunk {
            Some(chunk) => self.inner.push(chunk, arena, events),
            None => self.inner.push_in_place(arena, in_place_len, events),
        };
        ascii.clear();
        for event in events.iter() {
            // The payload was just written: checking it while it is in cache costs little.
            let ascii_text = event.kind == EventKind::Text && event.payload.bytes(arena).is_ascii();
            ascii.push(ascii_text);
        }
        self.error = outcome.error;
        table[1] = outcome.arena_used as u32;
        table[3] = u32::try_from(self.inner.buffered_len()).unwrap_or(u32::MAX);
        let owned = self.write_batch(env, table, arena)?;
        self.give_back_scratch();
        Ok(owned)
    }

    /// Makes this sink one `sinkPush` accepts; called once, right after construction.
    #[napi]
    pub fn register(&mut self) {
        let address = self as *mut Self as usize;
        let mut live = live_sinks();
        if self.registered != 0 {
            live.remove(&self.registered);
        }
        live.insert(address);
        self.registered = address;
    }

    /// Writes the events of the last push that did not fit in the table (after `SINK_FLAG_MORE`).
    #[napi]
    pub fn next<'env>(
        &mut self,
        env: &'env Env,
        mut table: Uint32ArraySlice,
    ) -> Result<Option<Array<'env>>> {
        // SAFETY: as in `push`.
        let table = unsafe { table.as_mut() };
        if table.len() < TABLE_HEAD + EVENT_WORDS {
            return Err(Error::new(Status::InvalidArg, "event table too small"));
        }
        table[1] = 0;
        table[3] = u32::try_from(self.inner.buffered_len()).unwrap_or(u32::MAX);
        // The arena of the push is not at hand: text in it is left to JavaScript to decode.
        let owned = self.write_batch(env, table, &[])?;
        self.give_back_scratch();
        Ok(owned)
    }

    /// Gives the lists back to the thread once every event of the batch is written.
    fn give_back_scratch(&mut self) {
        if self
            .scratch
            .as_ref()
            .is_some_and(|lists| self.cursor < lists.events.len())
        {
            return;
        }
        let Some(mut lists) = self.scratch.take() else {
            return;
        };
        lists.events.clear();
        lists.ascii.clear();
        self.cursor = 0;
        let _ = SCRATCH.try_with(|scratch| scratch.set(Some(lists)));
    }

    /// The error that ended the last batch, once.
    #[napi]
    pub fn take_error(&mut self) -> Option<ErrorRecord> {
        self.error.take().map(|err| ErrorRecord::from(&err))
    }

    /// `arena`: the arena of the push whose events these are, or empty when it is not at hand.
    fn write_batch<'env>(
        &mut self,
        env: &'env Env,
        table: &mut [u32],
        arena: &[u8],
    ) -> Result<Option<Array<'env>>> {
        let capacity = (table.len() - TABLE_HEAD) / EVENT_WORDS;
        // No lists: no events (`next` after the batch was all written).
        let mut none = Scratch::empty();
        let lists = match self.scratch.as_deref_mut() {
            Some(lists) => lists,
            None => &mut none,
        };
        let end = lists.events.len().min(self.cursor + capacity);
        let mut owned = Owned {
            env,
            list: None,
            len: 0,
        };
        for i in 0..end - self.cursor {
            let index = self.cursor + i;
            let slot = TABLE_HEAD + i * EVENT_WORDS;
            let event = &mut lists.events[index];
            let kind = event.kind;
            let close_code = event.close_code;
            let payload =
                std::mem::replace(&mut event.payload, Payload::Arena { start: 0, len: 0 });
            let ascii = lists.ascii.get(index).copied().unwrap_or(false);
            let as_string = self.utf16_text && kind == EventKind::Text && !ascii;
            // A payload outside the arena, or text made a string here, is an entry of the returned array.
            let owned_flag = SINK_OWNED_FLAG | if as_string { SINK_STRING_FLAG } else { 0 };
            let (flag, start, len) = match payload {
                Payload::Arena { start, len } => {
                    let text = start
                        .checked_add(len)
                        .and_then(|end| arena.get(start..end))
                        .filter(|_| as_string && len >= UTF16_MIN);
                    match text {
                        Some(bytes) => (
                            owned_flag,
                            owned.add(utf16_string(env, bytes, &mut lists.units)?)?,
                            len as u32,
                        ),
                        None => (0, self.arena_base + start as u32, len as u32),
                    }
                }
                Payload::Owned(bytes) => {
                    let len = bytes.len() as u32;
                    let value = if as_string {
                        let text = utf16_string(env, &bytes, &mut lists.units);
                        message_buffers::give_back(bytes);
                        text?
                    } else {
                        unknown_of(env, hand_over_shared(env, bytes)?)?
                    };
                    (owned_flag, owned.add(value)?, len)
                }
            };
            let ascii_flag = if ascii { SINK_ASCII_FLAG } else { 0 };
            table[slot] = kind_code(kind) | flag | ascii_flag;
            table[slot + 1] = start;
            table[slot + 2] = len;
            table[slot + 3] = u32::from(close_code);
        }
        table[0] = (end - self.cursor) as u32;
        self.cursor = end;
        table[2] = if end < lists.events.len() {
            SINK_FLAG_MORE
        } else if self.error.is_some() {
            SINK_FLAG_ERROR
        } else {
            0
        };
        Ok(owned.list)
    }
}

impl Drop for NativeFrameSink {
    fn drop(&mut self) {
        if self.registered != 0 {
            live_sinks().remove(&self.registered);
        }
    }
}

/// The values of a batch that do not live in the arena (owned buffers, strings), in the order their
/// events name them; the array is created on first use, as most batches have none.
struct Owned<'env> {
    env: &'env Env,
    list: Option<Array<'env>>,
    len: u32,
}

impl<'env> Owned<'env> {
    /// Appends `value`; returns its index.
    fn add(&mut self, value: Unknown<'env>) -> Result<u32> {
        let list = match self.list.as_mut() {
            Some(list) => list,
            None => self.list.insert(self.env.create_array(0)?),
        };
        list.set(self.len, value)?;
        self.len += 1;
        Ok(self.len - 1)
    }
}

/// A handed-over buffer as a plain value for the returned array.
fn unknown_of<'env>(env: &'env Env, buffer: BufferSlice<'env>) -> Result<Unknown<'env>> {
    // SAFETY: `env` is the live environment of this call and the value is a live buffer of it.
    unsafe {
        let value = BufferSlice::to_napi_value(env.raw(), buffer)?;
        Unknown::from_napi_value(env.raw(), value)
    }
}

/// The string of validated UTF-8 text, created from UTF-16 (see `crate::utf16`).
fn utf16_string<'env>(env: &'env Env, bytes: &[u8], units: &mut Vec<u16>) -> Result<Unknown<'env>> {
    // The sink validated the text; checking again here (simdutf8, tens of GB/s) keeps this safe code.
    let Ok(text) = simdutf8::basic::from_utf8(bytes) else {
        return Err(Error::new(
            Status::GenericFailure,
            "text message is not UTF-8",
        ));
    };
    utf8_to_utf16(text, units);
    let mut value = std::ptr::null_mut();
    // SAFETY: a plain N-API call on the live environment of this call; `units` outlives it and the
    // engine copies the code units.
    let status = unsafe {
        sys::napi_create_string_utf16(env.raw(), units.as_ptr(), units.len() as isize, &mut value)
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(
            Status::GenericFailure,
            "could not create a string",
        ));
    }
    // A large scratch buffer does not stay allocated for good after one large message.
    if units.capacity() > 1 << 20 {
        *units = Vec::new();
    }
    // SAFETY: `value` is a string just created in this environment.
    unsafe { Unknown::from_napi_value(env.raw(), value) }
}

/// Exports `sinkPush(sink, chunk, arena, arenaOffset, table)`, the hot path, and the transport's
/// `transportWrite`, as plain Node-API functions (see raw.rs): the generated method wrapper measured
/// 30% of a push of one small frame, more than the parsing.
#[napi(module_exports)]
pub fn init(mut exports: Object, env: Env) -> Result<()> {
    raw::export_function(&mut exports, &env, "sinkPush", sink_push)?;
    super::transport::export(&mut exports, &env)
}

/// The raw callback of `sinkPush`; throws on bad arguments.
unsafe extern "C" fn sink_push(
    raw_env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by the engine with a live environment and callback info.
    unsafe { raw::call(raw_env, info, "sinkPush", sink_push_args) }
}

/// A typed array's bytes: (data pointer, length in elements, element type).
///
/// # Safety
/// `env` must be live and `value` a value of it.
unsafe fn typed_array(
    env: &Env,
    value: sys::napi_value,
) -> Result<(*mut u8, usize, sys::napi_typedarray_type)> {
    // SAFETY: by the caller.
    unsafe { raw::typed_array(env.raw(), value, "sinkPush expects typed arrays") }
}

/// # Safety
/// `raw` and `info` must be those of a live call of `sinkPush`.
unsafe fn sink_push_args(
    raw: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<sys::napi_value> {
    let env = &Env::from_raw(raw);
    // SAFETY: by the caller.
    let argv: [sys::napi_value; 5] = unsafe {
        raw::arguments(
            raw,
            info,
            "sinkPush(sink, chunk, arena, arenaOffset, table)",
        )?
    };
    // The wrapped pointer is used as a sink only if it is the address of a live, registered sink
    // (see LIVE_SINKS): another addon's wrapped object, or any object the type-tagged `register`
    // never saw, is refused before anything is read through the pointer.
    // SAFETY: live values of this call.
    let wrapped = unsafe {
        raw::unwrap_live(
            raw,
            argv[0],
            |address| live_sinks().contains(&address),
            "sinkPush expects a NativeFrameSink",
        )?
    };
    // SAFETY: the pointer is the address of a live NativeFrameSink (registered, not yet dropped).
    // JavaScript is single-threaded and a push is never re-entered for
    // one sink (frame-sink.js calls the sink's callbacks after this returns), so this is the only
    // reference.
    let sink = unsafe { &mut *wrapped.cast::<NativeFrameSink>() };
    // SAFETY: live values of this call.
    let (chunk_ptr, chunk_len, chunk_kind) = unsafe { typed_array(env, argv[1])? };
    // SAFETY: live values of this call.
    let (arena_ptr, arena_len, arena_kind) = unsafe { typed_array(env, argv[2])? };
    // SAFETY: live values of this call.
    let (table_ptr, table_len, table_kind) = unsafe { typed_array(env, argv[4])? };
    let u8_kinds = [
        sys::TypedarrayType::uint8_array,
        sys::TypedarrayType::uint8_clamped_array,
    ];
    if !u8_kinds.contains(&chunk_kind)
        || !u8_kinds.contains(&arena_kind)
        || table_kind != sys::TypedarrayType::uint32_array
    {
        return Err(Error::new(
            Status::InvalidArg,
            "sinkPush expects Uint8Arrays and a Uint32Array table",
        ));
    }
    let mut offset = 0u32;
    // SAFETY: out-pointer to a local.
    if unsafe { sys::napi_get_value_uint32(raw, argv[3], &mut offset) } != sys::Status::napi_ok {
        return Err(Error::new(
            Status::InvalidArg,
            "sinkPush expects an arena offset",
        ));
    }
    let start = (offset as usize).min(arena_len);
    // The mutable slices below must not alias anything: a chunk may be a message delivered earlier
    // (a view of the arena), which lies before the offset since the arena moves forward past every
    // push that handed out a view (lib/primitives/frame-sink.js), but a caller could pass any
    // views. Checked here rather than trusted.
    let free = (arena_ptr as usize + start, arena_len - start);
    let chunk_range = (chunk_ptr as usize, chunk_len);
    let table_range = (table_ptr as usize, table_len.saturating_mul(4));
    // A chunk that is exactly the start of the free arena (the native transport reads there) is
    // parsed in place: the sink may write that memory anyway.
    let in_place = chunk_len > 0 && chunk_range.0 == free.0 && chunk_len <= free.1;
    if (!in_place && overlaps(chunk_range, free))
        || overlaps(table_range, free)
        || overlaps(table_range, chunk_range)
    {
        return Err(Error::new(
            Status::InvalidArg,
            "sinkPush: the chunk, the free part of the arena and the table must not overlap",
        ));
    }
    // SAFETY: the three arrays view JavaScript memory that stays alive and untouched for this
    // synchronous call, and the ranges were just checked to be disjoint: the mutable arena slice
    // (from the offset of this push) and the table alias neither each other nor the chunk, which
    // is not made a slice of its own when it lies in the arena slice (in place).
    let (chunk, arena, table) = unsafe {
        (
            (!in_place).then(|| slice_or_empty(chunk_ptr, chunk_len)),
            slice_mut_or_empty(arena_ptr.add(start), arena_len - start),
            slice_mut_or_empty(table_ptr.cast::<u32>(), table_len),
        )
    };
    match sink.push(env, chunk, chunk_len, arena, offset, table)? {
        Some(list) => Ok(list.raw()),
        None => {
            let mut null = std::ptr::null_mut();
            // SAFETY: out-pointer to a local.
            unsafe { sys::napi_get_null(raw, &mut null) };
            Ok(null)
        }
    }
}

/// Whether the byte ranges `(address, length)` `a` and `b` share a byte.
pub(super) fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.1 != 0 && b.1 != 0 && a.0 < b.0.saturating_add(b.1) && b.0 < a.0.saturating_add(a.1)
}

/// # Safety
/// `ptr` must be valid for `len` reads (or `len` zero).
unsafe fn slice_or_empty<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: by the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// # Safety
/// `ptr` must be valid for `len` writes (or `len` zero) and not aliased.
unsafe fn slice_mut_or_empty<'a, T>(ptr: *mut T, len: usize) -> &'a mut [T] {
    if len == 0 || ptr.is_null() {
        &mut []
    } else {
        // SAFETY: by the caller.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }
}

/// A buffer of `len` bytes for the frame sinks' arena when socket reads land in it (the native
/// transport, lib/primitives/frame-sink.js): the memory of a collected arena or message when some is
/// kept (`crate::message_buffers`), given back there when the engine has collected the arena and
/// every message view of it. Fresh memory cost the read that first wrote it a page fault per 4 KiB:
/// the allocator gave freed arenas back to the system. Its content is unspecified.
///
/// With `count_twice`, the engine is also shown a buffer of the same length that nothing keeps (see
/// [`count_young`]), so that its young collection, which frees the arenas of dropped messages,
/// comes after 16 MiB of arenas instead of 32: the reads then land in memory still in cache.
#[napi]
pub fn take_arena(env: &Env, len: u32, count_twice: Option<bool>) -> Result<BufferSlice<'_>> {
    let buffer = message_buffers::take(len as usize)
        .ok_or_else(|| Error::new(Status::GenericFailure, "cannot allocate the arena"))?;
    if count_twice == Some(true) {
        count_young(env, buffer.len());
    }
    hand_over(env, buffer)
}

/// The most bytes [`count_young`] counts in one call.
const COUNT_YOUNG_MAX: usize = 1 << 20;

/// Makes the engine count `len` more bytes (at most [`COUNT_YOUNG_MAX`]) of young buffers until its
/// next young collection, without holding any memory: a buffer over one region of zeroed memory,
/// allocated once and never written (its pages are never faulted in), is created and dropped at
/// once. V8 before 13 starts a young collection when the young buffers it counts exceed twice the
/// default semi-space, 32 MiB (`Heap::AllocateExternalBackingStore`, checked at the next buffer it
/// allocates itself, which [`hand_over`] makes). Its failure changes nothing but that timing.
fn count_young(env: &Env, len: usize) {
    static REGION: OnceLock<usize> = OnceLock::new();
    let region = *REGION.get_or_init(|| {
        let Ok(layout) = std::alloc::Layout::from_size_align(COUNT_YOUNG_MAX, 64) else {
            return 0;
        };
        // SAFETY: a layout of non-zero size; the region is never freed.
        unsafe { std::alloc::alloc_zeroed(layout) as usize }
    });
    if region == 0 {
        return;
    }
    let mut buffer = std::ptr::null_mut();
    // SAFETY: a plain N-API call on the live environment of this call, with an out-pointer to a
    // local. The region is valid for COUNT_YOUNG_MAX bytes for the life of the process and needs no
    // finalizer; the buffer is garbage at once and nothing ever reads or writes through it.
    unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            region as *mut std::ffi::c_void,
            len.min(COUNT_YOUNG_MAX),
            None,
            std::ptr::null_mut(),
            &mut buffer,
        )
    };
}

/// Gives a payload assembled in Rust to JavaScript without a copy; its memory goes back to
/// `crate::message_buffers` for a later message when the engine collects it.
///
/// The engine counts the buffer as external memory itself (it used to be told the size a second
/// time here, which halved the interval between the collections below). What it counts that way
/// it frees on a full collection, started each time 64 MiB more are held than after the last one:
/// on the native transport, where a large message makes almost no garbage on the engine's heap and
/// so no young collection happens, that was a full collection (about 10 ms of CPU, 2.5 ms of pause)
/// every 64 MiB of messages. The engine also checks, whenever it allocates a buffer's memory
/// itself, whether its young buffers hold more than twice the young generation's largest size,
/// and then runs a young collection, which frees the dropped messages cheaply (V8's
/// `Heap::AllocateExternalBackingStore`). A one-byte buffer allocated by the engine after each
/// hand-over makes that check happen: measured on Node 20, full collections fell from one per 35
/// messages of 1 MiB to none, and server CPU per message by about a third (bench/README.md). Node
/// 24's engine checks against a larger bound, reached only after the full collection: there the
/// single count halves the full collections.
fn hand_over<'env>(env: &'env Env, bytes: Vec<u8>) -> Result<BufferSlice<'env>> {
    if bytes.is_empty() {
        return BufferSlice::from_data(env, bytes);
    }
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    let (ptr, len, cap) = (bytes.as_mut_ptr(), bytes.len(), bytes.capacity());
    // SAFETY: `ptr`, `len` and `cap` come from a Vec whose ownership moves to the finalizer, which
    // rebuilds it exactly once when the engine collects the buffer (or at once if the engine copied
    // the bytes instead): nothing in JavaScript reaches the bytes any more when they are reused.
    let slice = unsafe {
        BufferSlice::from_external(
            env,
            ptr,
            len,
            (ptr, len, cap),
            move |_: Env, (ptr, len, cap)| {
                message_buffers::give_back(Vec::from_raw_parts(ptr, len, cap));
            },
        )
    }?;
    let mut data = std::ptr::null_mut();
    let mut probe = std::ptr::null_mut();
    // SAFETY: a plain N-API call on the live environment of this call, with out-pointers to locals;
    // the buffer is garbage at once. Its failure changes nothing but the timing of collections.
    unsafe { sys::napi_create_buffer(env.raw(), 1, &mut data, &mut probe) };
    Ok(slice)
}

/// The memory of a message buffer handed to JavaScript, shared with the write queues that hold part
/// of it: given back to `crate::message_buffers` once neither the engine nor a queue refers to it.
struct SharedBuffer(Vec<u8>);

impl AsRef<[u8]> for SharedBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for SharedBuffer {
    fn drop(&mut self) {
        message_buffers::give_back(std::mem::take(&mut self.0));
    }
}

thread_local! {
    /// The message buffers JavaScript holds (handed over by `hand_over_shared`, not yet collected),
    /// by address: one reference each, dropped by the buffer's finalizer.
    static SHARED: RefCell<BTreeMap<usize, Bytes>> = const { RefCell::new(BTreeMap::new()) };
}

/// [`hand_over`] for a message the receiver may send on (an echo): its memory is also reachable
/// through [`shared_part`], so that what the kernel does not take of such a send is queued by
/// reference instead of copied (a 16 MiB echo copied about 14 MiB into the write queue: 7% of the
/// server's CPU). The engine's buffer holds one reference, dropped when it is collected; a queue
/// holds its own, so the bytes outlive the buffer (collected, or its ArrayBuffer detached) until
/// the kernel has taken them. No later read or message writes this memory before both are gone.
fn hand_over_shared<'env>(env: &'env Env, bytes: Vec<u8>) -> Result<BufferSlice<'env>> {
    if bytes.is_empty() {
        return BufferSlice::from_data(env, bytes);
    }
    let mut bytes = bytes;
    let (ptr, len) = (bytes.as_mut_ptr(), bytes.len());
    // Moving the Vec into the owner moves no heap memory: `ptr` stays its data.
    let shared = Bytes::from_owner(SharedBuffer(bytes));
    let address = ptr as usize;
    SHARED.with(|map| map.borrow_mut().insert(address, shared));
    // SAFETY: `ptr` is the data of `len` bytes of the Vec now owned by the `Bytes` in SHARED, which
    // keeps it alive (and in place) until the finalizer removes it there, once, when the engine
    // collects the buffer (or at once if the engine copied the bytes instead).
    let slice = unsafe {
        BufferSlice::from_external(env, ptr, len, address, move |_: Env, address: usize| {
            SHARED.with(|map| map.borrow_mut().remove(&address));
        })
    };
    if slice.is_err() {
        SHARED.with(|map| map.borrow_mut().remove(&address));
    }
    let slice = slice?;
    let mut data = std::ptr::null_mut();
    let mut probe = std::ptr::null_mut();
    // SAFETY: as in `hand_over`: the young-collection probe.
    unsafe { sys::napi_create_buffer(env.raw(), 1, &mut data, &mut probe) };
    Ok(slice)
}

/// `part` as a reference into the message buffer it lies in, when it lies in one that JavaScript
/// holds (see [`hand_over_shared`]); `None` for any other memory (the arena, JavaScript's own
/// buffers), which a queue must copy.
pub(super) fn shared_part(part: &[u8]) -> Option<Bytes> {
    let address = part.as_ptr() as usize;
    SHARED
        .try_with(|map| {
            let map = map.borrow();
            let (&start, bytes) = map.range(..=address).next_back()?;
            let offset = address - start;
            let end = offset.checked_add(part.len())?;
            (end <= bytes.len()).then(|| bytes.slice(offset..end))
        })
        .ok()
        .flatten()
}
