use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi]
pub fn probe_slice(buf: &[u8]) -> u32 { buf.len() as u32 }

#[napi]
pub fn probe_mut(mut buf: Uint8ArraySlice, mut out: Uint32ArraySlice) -> u32 { unsafe { buf.as_mut()[0] ^= 1; out.as_mut()[0] = 7; } out.len() as u32 }

#[napi]
pub fn probe_buffer(n: u32) -> Buffer { vec![1u8; n as usize].into() }

#[napi]
pub struct Probe { n: u32 }

#[napi]
impl Probe {
  #[napi(constructor)]
  pub fn new() -> Self { Probe { n: 0 } }
  #[napi]
  pub fn push(&mut self, chunk: &[u8], mut table: Uint32ArraySlice) -> Option<Buffer> { self.n += 1; unsafe { table.as_mut()[0] = chunk.len() as u32; } if chunk.is_empty() { None } else { Some(chunk.to_vec().into()) } }
}
#[napi]
pub fn probe_noop() -> u32 { 1 }
#[napi]
pub fn probe_num(a: u32) -> u32 { a + 1 }
#[napi]
pub fn probe_copy(n: u32) -> Buffer { Buffer::from(vec![1u8; n as usize]) }
use napi::sys;
unsafe extern "C" fn raw_len(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  let mut argc = 2usize; let mut argv = [std::ptr::null_mut(); 2];
  sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut());
  let mut ty = 0; let mut len = 0usize; let mut data = std::ptr::null_mut(); let mut ab = std::ptr::null_mut(); let mut off = 0usize;
  sys::napi_get_typedarray_info(env, argv[0], &mut ty, &mut len, &mut data, &mut ab, &mut off);
  let mut out = std::ptr::null_mut(); sys::napi_create_uint32(env, len as u32, &mut out); out
}
unsafe extern "C" fn raw_copy(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  let mut argc = 1usize; let mut argv = [std::ptr::null_mut(); 1];
  sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut());
  let mut n = 0u32; sys::napi_get_value_uint32(env, argv[0], &mut n);
  let v = vec![1u8; n as usize];
  let mut out = std::ptr::null_mut(); let mut d = std::ptr::null_mut();
  sys::napi_create_buffer_copy(env, v.len(), v.as_ptr() as *const _, &mut d, &mut out); out
}
#[napi(module_exports)]
pub fn init(mut exports: Object, env: Env) -> Result<()> {
  unsafe {
    for (name, cb) in [("rawLen", raw_len as unsafe extern "C" fn(_, _) -> _), ("rawCopy", raw_copy)] {
      let mut f = std::ptr::null_mut();
      sys::napi_create_function(env.raw(), name.as_ptr() as *const _, name.len() as isize, Some(cb), std::ptr::null_mut(), &mut f);
      exports.set_named_property(name, napi::JsValue::raw(&napi::bindgen_prelude::Unknown::from_raw_unchecked(env.raw(), f)))?;
    }
  }
  Ok(())
}
