//! The Node-API binding: the only place that imports napi. Every function is a thin wrapper over the
//! core; failures on untrusted input come back as data (a status plus an [`errors::ErrorRecord`]) and
//! `lib/primitives/errors.js` turns them into `WebSocketProtocolError`s, so `instanceof` works on the JavaScript side.
//!
//! Every `unsafe` block here says why it is sound in a `// SAFETY:` comment.

#![deny(clippy::undocumented_unsafe_blocks)]

mod close;
mod deflate;
mod errors;
mod frame;
mod handshake;
mod raw;
mod sink;
mod transport;
