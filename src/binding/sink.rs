use napi::bindgen_prelude::{
  Array, Buffer, BufferSlice, Error, FromNapiValue, Result, Status, ToNapiValue, Uint32ArraySlice, Uint8ArraySlice,
  Unknown,
};
use napi::{sys, Env};
use napi_derive::napi;

use super::errors::ErrorRecord;
use super::frame::payload_limit;
use crate::error::ProtocolError;
use crate::sink::{Event, EventKind, FrameSink, Payload, SinkOptions};
use crate::utf16::utf8_to_utf16;

/// Slots at the head of the event table: event count, arena bytes used, status, buffered bytes.
const TABLE_HEAD: usize = 4;
/// `u32`s per event: kind (| `OWNED_FLAG`), arena start or owned index, length, close code.
const EVENT_WORDS: usize = 4;
/// Set on an event's kind when its payload is in the returned array of owned buffers.
const OWNED_FLAG: u32 = 0x100;
/// Set on a text event whose payload is all ASCII: JavaScript then builds the string as Latin-1,
/// a plain copy (measured 2x faster than UTF-8 decoding for 64 KiB), instead of decoding UTF-8.
const ASCII_FLAG: u32 = 0x200;
/// Set on a text event delivered as a string, built here from UTF-16, in the returned array.
const STRING_FLAG: u32 = 0x400;
/// Non-ASCII text from this many bytes on becomes a string here (when the sink was asked to):
/// below it the engine's decoder costs less than the extra string creation call.
const UTF16_MIN: usize = 16;

fn kind_code(kind: EventKind) -> u32 {
  // The RFC 6455 opcodes, so JavaScript can switch on `WS_OPCODE`.
  match kind {
    EventKind::Text => 0x1,
    EventKind::Binary => 0x2,
    EventKind::Close => 0x8,
    EventKind::Ping => 0x9,
    EventKind::Pong => 0xa,
  }
}

/// Flag in `table[2]`: the batch ended with a protocol error (see `takeError`).
const FLAG_ERROR: u32 = 1;
/// Flag in `table[2]`: more events than the table holds; `next` writes the following ones.
const FLAG_MORE: u32 = 2;

/// The streaming assembler for one connection. One `push` per socket read is the only crossing
/// between JavaScript and Rust: events go to a `Uint32Array` table, payloads to a JavaScript arena.
#[napi]
pub struct NativeFrameSink {
  inner: FrameSink,
  /// Events of the last push; `cursor` is the first one not yet written to a table.
  events: Vec<Event>,
  /// Per event of `events`: a text payload that is all ASCII.
  ascii: Vec<bool>,
  cursor: usize,
  /// Where the last push's arena started in the JavaScript buffer: table offsets are absolute.
  arena_base: u32,
  error: Option<ProtocolError>,
  /// A JavaScript buffer a large message is being assembled in (`PushOutcome::want_dest`): held
  /// by a reference until the message is handed over.
  dest: Option<Buffer>,
  /// Whether non-ASCII text becomes a string here, through UTF-16 (see `crate::utf16`).
  utf16_text: bool,
  /// Reused UTF-16 buffer for that.
  units: Vec<u16>,
}

#[napi]
impl NativeFrameSink {
  /// `max_payload_length`: negative, NaN or infinite means no limit.
  #[napi(constructor)]
  /// `utf16_text`: build non-ASCII text messages into strings here, where the engine decodes UTF-8
  /// slowly (V8 before 13), instead of leaving the decoding to JavaScript.
  pub fn new(require_mask: bool, max_payload_length: f64, max_fragments: u32, utf16_text: Option<bool>) -> Self {
    let opts = SinkOptions {
      require_mask,
      max_payload_length: payload_limit(max_payload_length).unwrap_or(u64::MAX),
      max_fragments,
    };
    NativeFrameSink {
      inner: FrameSink::new(opts),
      events: Vec::new(),
      ascii: Vec::new(),
      cursor: 0,
      arena_base: 0,
      error: None,
      dest: None,
      utf16_text: utf16_text.unwrap_or(false),
      units: Vec::new(),
    }
  }

  /// Decodes `chunk`. Writes the batch into `table` (head: event count, arena bytes used, flags,
  /// bytes buffered; then four words per event), payloads into `arena[arena_offset..]` where they
  /// fit, and returns the values that are not in the arena (or `null`): payloads that did not fit, as
  /// Buffers handed over without a copy, and text built into strings here (`STRING_FLAG`).
  /// After an error or a CLOSE the sink ignores all input.
  #[napi]
  pub fn push<'env>(
    &mut self,
    env: &'env Env,
    chunk: &[u8],
    mut arena: Uint8ArraySlice,
    arena_offset: u32,
    mut table: Uint32ArraySlice,
  ) -> Result<Option<Array<'env>>> {
    // SAFETY: `arena` and `table` view JavaScript memory that stays alive for this synchronous call
    // and that JavaScript does not touch meanwhile; they are distinct typed arrays, and the arena is
    // never the caller's chunk (index.js allocates it).
    let (arena, table) = unsafe { (arena.as_mut(), table.as_mut()) };
    if table.len() < TABLE_HEAD + EVENT_WORDS {
      return Err(Error::new(Status::InvalidArg, "event table too small"));
    }
    let arena = arena.get_mut(arena_offset as usize..).unwrap_or(&mut []);
    self.events.clear();
    self.cursor = 0;
    self.arena_base = arena_offset;
    let dest: &mut [u8] = match self.dest.as_mut() {
      Some(buffer) => buffer,
      None => &mut [],
    };
    let outcome = self.inner.push_into(chunk, arena, dest, &mut self.events);
    self.ascii.clear();
    for event in &self.events {
      // The payload was just written: checking it while it is in cache costs little.
      let ascii = event.kind == EventKind::Text && event.payload.bytes_in(arena, dest).is_ascii();
      self.ascii.push(ascii);
    }
    self.error = outcome.error;
    table[1] = outcome.arena_used as u32;
    table[3] = u32::try_from(self.inner.buffered_len()).unwrap_or(u32::MAX);
    let owned = self.write_batch(env, table, arena)?;
    if outcome.want_dest > 0 && self.dest.is_none() {
      self.dest = Some(engine_buffer(env, outcome.want_dest)?);
    }
    Ok(owned)
  }

  /// Writes the events of the last push that did not fit in the table (after `FLAG_MORE`).
  #[napi]
  pub fn next<'env>(&mut self, env: &'env Env, mut table: Uint32ArraySlice) -> Result<Option<Array<'env>>> {
    // SAFETY: as in `push`.
    let table = unsafe { table.as_mut() };
    if table.len() < TABLE_HEAD + EVENT_WORDS {
      return Err(Error::new(Status::InvalidArg, "event table too small"));
    }
    table[1] = 0;
    table[3] = u32::try_from(self.inner.buffered_len()).unwrap_or(u32::MAX);
    // The arena of the push is not at hand: text in it is left to JavaScript to decode.
    self.write_batch(env, table, &[])
  }

  /// The error that ended the last batch, once.
  #[napi]
  pub fn take_error(&mut self) -> Option<ErrorRecord> {
    self.error.take().map(|err| ErrorRecord::from(&err))
  }

  /// `arena`: the arena of the push whose events these are, or empty when it is not at hand.
  fn write_batch<'env>(&mut self, env: &'env Env, table: &mut [u32], arena: &[u8]) -> Result<Option<Array<'env>>> {
    let capacity = (table.len() - TABLE_HEAD) / EVENT_WORDS;
    let end = self.events.len().min(self.cursor + capacity);
    let mut owned = Owned { env, list: None, len: 0 };
    for i in 0..end - self.cursor {
      let index = self.cursor + i;
      let slot = TABLE_HEAD + i * EVENT_WORDS;
      let event = &mut self.events[index];
      let kind = event.kind;
      let close_code = event.close_code;
      let payload = std::mem::replace(&mut event.payload, Payload::Arena { start: 0, len: 0 });
      let ascii = self.ascii.get(index).copied().unwrap_or(false);
      let as_string = self.utf16_text && kind == EventKind::Text && !ascii;
      let (flag, start, len) = match payload {
        Payload::Arena { start, len } => {
          let bytes = start.checked_add(len).and_then(|end| arena.get(start..end));
          match bytes {
            Some(bytes) if as_string && len >= UTF16_MIN => {
              let text = utf16_string(env, bytes, &mut self.units)?;
              (OWNED_FLAG | STRING_FLAG, owned.add(text)?, len as u32)
            }
            _ => (0, self.arena_base + start as u32, len as u32),
          }
        }
        Payload::Owned(bytes) => {
          let len = bytes.len() as u32;
          if as_string {
            let text = utf16_string(env, &bytes, &mut self.units)?;
            (OWNED_FLAG | STRING_FLAG, owned.add(text)?, len)
          } else {
            let buffer = hand_over(env, bytes)?;
            (OWNED_FLAG, owned.add(unknown_of(env, buffer)?)?, len)
          }
        }
        Payload::Dest { len } => {
          let Some(buffer) = self.dest.take() else {
            return Err(Error::new(Status::GenericFailure, "message completed without its buffer"));
          };
          if as_string {
            let text = utf16_string(env, buffer.get(..len).unwrap_or(&[]), &mut self.units)?;
            (OWNED_FLAG | STRING_FLAG, owned.add(text)?, len as u32)
          } else {
            // SAFETY: `env` is the live environment of this call; the value comes from the buffer's
            // own reference, which `to_napi_value` releases.
            let value = unsafe {
              let value = Buffer::to_napi_value(env.raw(), buffer)?;
              Unknown::from_napi_value(env.raw(), value)?
            };
            (OWNED_FLAG, owned.add(value)?, len as u32)
          }
        }
      };
      let ascii_flag = if ascii { ASCII_FLAG } else { 0 };
      table[slot] = kind_code(kind) | flag | ascii_flag;
      table[slot + 1] = start;
      table[slot + 2] = len;
      table[slot + 3] = u32::from(close_code);
    }
    table[0] = (end - self.cursor) as u32;
    self.cursor = end;
    table[2] = if end < self.events.len() {
      FLAG_MORE
    } else if self.error.is_some() {
      FLAG_ERROR
    } else {
      0
    };
    Ok(owned.list)
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
    return Err(Error::new(Status::GenericFailure, "text message is not UTF-8"));
  };
  utf8_to_utf16(text, units);
  let mut value = std::ptr::null_mut();
  // SAFETY: a plain N-API call on the live environment of this call; `units` outlives it and the
  // engine copies the code units.
  let status = unsafe { sys::napi_create_string_utf16(env.raw(), units.as_ptr(), units.len() as isize, &mut value) };
  if status != sys::Status::napi_ok {
    return Err(Error::new(Status::GenericFailure, "could not create a string"));
  }
  // A large scratch buffer does not stay allocated for good after one large message.
  if units.capacity() > 1 << 20 {
    *units = Vec::new();
  }
  // SAFETY: `value` is a string just created in this environment.
  unsafe { Unknown::from_napi_value(env.raw(), value) }
}

/// A JavaScript buffer of `len` bytes allocated by the engine (not zero-filled: the sink writes
/// every byte before the message is handed over), held by a reference.
fn engine_buffer(env: &Env, len: usize) -> Result<Buffer> {
  let mut data = std::ptr::null_mut();
  let mut value = std::ptr::null_mut();
  // SAFETY: plain N-API calls on the live environment of this call, with out-pointers to locals.
  unsafe {
    let status = sys::napi_create_buffer(env.raw(), len, &mut data, &mut value);
    if status != sys::Status::napi_ok {
      return Err(Error::new(Status::GenericFailure, "could not allocate a message buffer"));
    }
    Buffer::from_napi_value(env.raw(), value)
  }
}

/// Gives a payload assembled in Rust to JavaScript without a copy. The engine is told the buffer's
/// size, so that garbage collection frees dropped messages as promptly as it frees its own buffers:
/// without it, large messages pile up between collections and every new one lands on fresh pages.
fn hand_over<'env>(env: &'env Env, bytes: Vec<u8>) -> Result<BufferSlice<'env>> {
  if bytes.is_empty() {
    return BufferSlice::from_data(env, bytes);
  }
  let mut bytes = std::mem::ManuallyDrop::new(bytes);
  let (ptr, len, cap) = (bytes.as_mut_ptr(), bytes.len(), bytes.capacity());
  let size = i64::try_from(cap).unwrap_or(i64::MAX);
  // SAFETY: `ptr`, `len` and `cap` come from a Vec whose ownership moves to the finalizer, which
  // rebuilds and drops it exactly once when the engine collects the buffer (or at once if the engine
  // copied the bytes instead).
  env.adjust_external_memory(size)?;
  let slice = unsafe {
    BufferSlice::from_external(env, ptr, len, (ptr, len, cap), move |env: Env, (ptr, len, cap)| {
      drop(Vec::from_raw_parts(ptr, len, cap));
      let _ = env.adjust_external_memory(-size);
    })
  }?;
  Ok(slice)
}
