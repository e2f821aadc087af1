//! RFC 6455 WebSocket primitives: a sans-IO core and, behind the `napi`
//! feature, the Node-API binding that exposes it to JavaScript.
//!
//! The core never does I/O, never calls into JavaScript and never panics on
//! any input: it takes bytes and returns events, results or
//! [`error::ProtocolError`]s. `cargo test --no-default-features` builds it
//! without a single Node symbol.
//!
//! Only the binding may use `unsafe` (Node-API is a C interface), and, in the core, the one file
//! that drives zlib-rs's zlib interface (`deflate/zstream.rs`); the rest of the core is safe Rust.

#![deny(unsafe_code)]

pub mod close;
pub mod deflate;
pub mod encoder;
pub mod error;
pub mod extensions;
pub mod handshake;
pub mod header;
pub mod mask;
pub mod message_buffers;
pub mod opcode;
pub mod sink;
pub mod utf16;
pub mod utf8;
pub mod write_queue;

#[cfg(feature = "napi")]
#[allow(unsafe_code)]
mod binding;
