//! The plumbing of the hot-path functions exported as plain Node-API functions rather than
//! `#[napi]` methods (`sinkPush` in sink.rs, `transportWrite` in transport.rs): the generated method
//! wrapper checks the class identity and registers a native borrow (with an allocation) on every
//! call, which costs more than the work of one small call.

use napi::bindgen_prelude::{Error, FromNapiValue, JsObjectValue, Object, Result, Status, Unknown};
use napi::{sys, Env};

/// Adds `name` to `exports` as a function calling `cb`.
pub(super) fn export_function(
    exports: &mut Object,
    env: &Env,
    name: &str,
    cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
) -> Result<()> {
    let mut func = std::ptr::null_mut();
    // SAFETY: a plain N-API call on the live environment of module initialisation.
    let status = unsafe {
        sys::napi_create_function(
            env.raw(),
            name.as_ptr().cast(),
            name.len() as isize,
            Some(cb),
            std::ptr::null_mut(),
            &mut func,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(
            Status::GenericFailure,
            format!("could not create {name}"),
        ));
    }
    // SAFETY: `func` is a function just created in this environment.
    exports.set_named_property(name, unsafe { Unknown::from_napi_value(env.raw(), func)? })
}

/// The value of a call, or its error thrown as a JavaScript exception (pending when the callback
/// returns).
///
/// # Safety
/// `raw_env` must be the live environment of the current call.
pub(super) unsafe fn value_or_throw(
    raw_env: sys::napi_env,
    result: Result<sys::napi_value>,
) -> sys::napi_value {
    match result {
        Ok(value) => value,
        Err(err) => {
            // SAFETY: by the caller.
            unsafe { napi::JsError::from(err).throw_into(raw_env) };
            std::ptr::null_mut()
        }
    }
}

/// The body of a plain Node-API function: `body`'s value, or its error (or a panic, caught here so
/// that none crosses into the engine, reported as "`name` failed") thrown as a JavaScript exception.
///
/// # Safety
/// `raw_env` and `info` must be those of a live call, and `body` safe to call with them.
pub(super) unsafe fn call(
    raw_env: sys::napi_env,
    info: sys::napi_callback_info,
    name: &str,
    body: unsafe fn(sys::napi_env, sys::napi_callback_info) -> Result<sys::napi_value>,
) -> sys::napi_value {
    // SAFETY: by the caller.
    let result = std::panic::catch_unwind(|| unsafe { body(raw_env, info) })
        .unwrap_or_else(|_| Err(Error::from_reason(format!("{name} failed"))));
    // SAFETY: by the caller.
    unsafe { value_or_throw(raw_env, result) }
}

/// The first `N` arguments of a call; `usage` is the error message when there are fewer.
///
/// # Safety
/// `raw_env` and `info` must be those of a live call.
pub(super) unsafe fn arguments<const N: usize>(
    raw_env: sys::napi_env,
    info: sys::napi_callback_info,
    usage: &str,
) -> Result<[sys::napi_value; N]> {
    let mut argc = N;
    let mut argv = [std::ptr::null_mut(); N];
    // SAFETY: `argv` has room for `argc` values.
    let status = unsafe {
        sys::napi_get_cb_info(
            raw_env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok || argc < N {
        return Err(Error::new(Status::InvalidArg, usage.to_owned()));
    }
    Ok(argv)
}

/// The object's wrapped native pointer if `is_live` accepts its address (a registry of the class's
/// live instances), else `what` as the error.
///
/// # Safety
/// `raw_env` must be live and `value` a value of it.
pub(super) unsafe fn unwrap_live(
    raw_env: sys::napi_env,
    value: sys::napi_value,
    is_live: impl FnOnce(usize) -> bool,
    what: &str,
) -> Result<*mut std::ffi::c_void> {
    let mut wrapped = std::ptr::null_mut();
    // SAFETY: a plain N-API call with an out-pointer to a local; it fails unless the object was
    // wrapped. The pointer is returned only if the registry knows it as live.
    if unsafe { sys::napi_unwrap(raw_env, value, &mut wrapped) } != sys::Status::napi_ok
        || wrapped.is_null()
        || !is_live(wrapped as usize)
    {
        return Err(Error::new(Status::InvalidArg, what.to_owned()));
    }
    Ok(wrapped)
}

/// A typed array's bytes: (data pointer, length in elements, element type).
///
/// # Safety
/// `raw_env` must be live and `value` a value of it.
pub(super) unsafe fn typed_array(
    raw_env: sys::napi_env,
    value: sys::napi_value,
    what: &str,
) -> Result<(*mut u8, usize, sys::napi_typedarray_type)> {
    let (mut kind, mut len, mut data) = (0, 0usize, std::ptr::null_mut());
    // SAFETY: out-pointers to locals; the engine checks that `value` is a typed array.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            raw_env,
            value,
            &mut kind,
            &mut len,
            &mut data,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::InvalidArg, what.to_owned()));
    }
    Ok((data.cast(), len, kind))
}

/// A set of heap addresses (a registry of a class's live instances).
pub(super) type AddressSet =
    std::collections::HashSet<usize, std::hash::BuildHasherDefault<AddressHasher>>;

/// Hashes a heap address with one multiplication (the set's keys are the addon's own addresses, not
/// input anyone controls): SipHash, the default, cost more than the rest of the check.
#[derive(Default)]
pub(super) struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        // Allocations are 16-byte aligned: the low bits carry nothing.
        self.0 = ((address as u64) >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
