//! The client opening handshake (RFC 6455 §4.1) over a fresh TCP connection.

use std::io;
use std::net::SocketAddr;

use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::rng::Rng;

/// §1.3: the GUID appended to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Where and how to connect: parsed once from the `ws://` URL.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header value (host and port as given in the URL).
    pub host: String,
    pub path: String,
    /// Offer permessage-deflate (RFC 7692) in the handshake.
    pub deflate: bool,
}

/// Why an opening handshake failed.
#[derive(Debug)]
pub enum HandshakeError {
    Io(io::Error),
    /// The server closed the connection before the end of its response head.
    Eof,
    /// Anything but `101`, or a response head that is not HTTP.
    Status(String),
    /// §4.1: the client MUST fail the connection if `Sec-WebSocket-Accept` is missing or wrong.
    BadAccept,
    /// The response head went past 16 KiB.
    TooLarge,
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::Io(e) => write!(f, "io: {e}"),
            HandshakeError::Eof => write!(f, "connection closed during the handshake"),
            HandshakeError::Status(s) => write!(f, "unexpected status line: {s}"),
            HandshakeError::BadAccept => write!(f, "missing or wrong Sec-WebSocket-Accept"),
            HandshakeError::TooLarge => write!(f, "response head over 16 KiB"),
        }
    }
}

impl From<io::Error> for HandshakeError {
    fn from(e: io::Error) -> Self {
        HandshakeError::Io(e)
    }
}

/// A random 16-byte nonce, base64-encoded (§4.1: `Sec-WebSocket-Key`).
pub fn new_key(rng: &mut Rng) -> String {
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&rng.next_u64().to_ne_bytes());
    nonce[8..].copy_from_slice(&rng.next_u64().to_ne_bytes());
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

/// The `Sec-WebSocket-Accept` value a server must answer for `key` (§4.2.2).
pub fn accept_for(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// The GET request that asks for the upgrade.
pub fn request(target: &Target, key: &str) -> Vec<u8> {
    let offer = if target.deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n",
        target.path, target.host, key
    )
    .into_bytes()
}

/// What a server agreed of permessage-deflate, read from its response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Agreed {
    /// The extension was agreed.
    pub deflate: bool,
    /// The client must reset its compressor after each message.
    pub client_no_context_takeover: bool,
}

/// Reads the `Sec-WebSocket-Extensions` answer of a response head.
pub fn agreed(head: &[u8]) -> Agreed {
    let text = String::from_utf8_lossy(head);
    let mut out = Agreed::default();
    for line in text.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("sec-websocket-extensions") {
            continue;
        }
        let mut params = value.split(';').map(str::trim);
        if params.next() == Some("permessage-deflate") {
            out.deflate = true;
            out.client_no_context_takeover |= params.any(|p| p == "client_no_context_takeover");
        }
    }
    out
}

/// Checks a response head: `Ok(None)` until the blank line arrives, then the head's length when it is a
/// `101` with the right accept value.
pub fn check_response(buf: &[u8], accept: &str) -> Result<Option<usize>, HandshakeError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > 16 * 1024 {
            Err(HandshakeError::TooLarge)
        } else {
            Ok(None)
        };
    };
    let head = &buf[..end];
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or("");
    let mut parts = status.split(' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") || code != "101" {
        return Err(HandshakeError::Status(status.to_string()));
    }
    let ok = lines.any(|line| {
        let Some((name, value)) = line.split_once(':') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == accept
    });
    if !ok {
        return Err(HandshakeError::BadAccept);
    }
    Ok(Some(end + 4))
}

/// Connects and upgrades. Returns the stream and any bytes the server sent after its response head (they
/// belong to the first frames), left in `buf`.
pub async fn connect(
    target: &Target,
    rng: &mut Rng,
    buf: &mut Vec<u8>,
) -> Result<TcpStream, HandshakeError> {
    connect_agreed(target, rng, buf)
        .await
        .map(|(stream, _)| stream)
}

/// [`connect`], also giving what the server agreed of permessage-deflate.
pub async fn connect_agreed(
    target: &Target,
    rng: &mut Rng,
    buf: &mut Vec<u8>,
) -> Result<(TcpStream, Agreed), HandshakeError> {
    let mut stream = TcpStream::connect(target.addr).await?;
    // Small frames must leave at once; the echo loop batches its writes itself.
    stream.set_nodelay(true)?;
    let key = new_key(rng);
    let accept = accept_for(&key);
    stream.write_all(&request(target, &key)).await?;
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HandshakeError::Eof);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(head_len) = check_response(buf, &accept)? {
            let agreed = agreed(&buf[..head_len]);
            buf.drain(..head_len);
            return Ok((stream, agreed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_the_rfc_accept_value() {
        // RFC 6455 §1.3's example key and answer.
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn accepts_a_101_and_keeps_what_follows() {
        let resp =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x00";
        let n = check_response(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            .unwrap()
            .unwrap();
        assert_eq!(&resp[n..], b"\x81\x00");
    }

    #[test]
    fn waits_for_the_blank_line_and_refuses_other_statuses() {
        assert!(check_response(b"HTTP/1.1 101 Switching", "x")
            .unwrap()
            .is_none());
        assert!(matches!(
            check_response(b"HTTP/1.1 400 Bad Request\r\n\r\n", "x"),
            Err(HandshakeError::Status(_))
        ));
        assert!(matches!(
            check_response(
                b"HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: nope\r\n\r\n",
                "x"
            ),
            Err(HandshakeError::BadAccept)
        ));
    }
}
