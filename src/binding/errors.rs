use std::cell::RefCell;

use napi_derive::napi;

use crate::error::ProtocolError;

/// A core [`ProtocolError`] as plain data: `lib/primitives/errors.js` builds the JavaScript error from it.
#[napi(object)]
pub struct ErrorRecord {
    /// `WebSocketProtocolError` or `WebSocketPayloadTooLargeError`.
    pub name: String,
    pub message: String,
    /// Stable `WS_ERR_*` identifier.
    pub code: String,
    /// The close status a server answers this error with (RFC 6455 §7.4.1).
    pub close_code: u32,
    /// `maxPayloadLength` in force, for `WebSocketPayloadTooLargeError`.
    pub limit: Option<f64>,
    /// The message length that exceeded it, for `WebSocketPayloadTooLargeError`.
    pub actual: Option<f64>,
}

impl From<&ProtocolError> for ErrorRecord {
    fn from(err: &ProtocolError) -> Self {
        let (limit, actual) = err
            .size_limit()
            .map_or((None, None), |(l, a)| (Some(l as f64), Some(a as f64)));
        ErrorRecord {
            name: err.name().to_owned(),
            message: err.to_string(),
            code: err.code().to_owned(),
            close_code: u32::from(err.close_code()),
            limit,
            actual,
        }
    }
}

thread_local! {
  // The error of the last stateless call that failed on this thread (JavaScript runs one isolate per
  // thread): the call returns a failure status and `takeError` hands the details over.
  static LAST_ERROR: RefCell<Option<ProtocolError>> = const { RefCell::new(None) };
}

pub(crate) fn set_last_error(err: ProtocolError) {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(err));
}

/// Takes the error left by the last failed stateless call (`parseFrameInto`, the close codec).
#[napi]
pub fn take_error() -> Option<ErrorRecord> {
    LAST_ERROR
        .with(|slot| slot.borrow_mut().take())
        .map(|err| ErrorRecord::from(&err))
}
