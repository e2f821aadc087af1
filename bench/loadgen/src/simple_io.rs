//! Frame-at-a-time reads for the modes where each connection exchanges only a frame or two (storm, idle):
//! simple over fast.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::frame::{self, FrameHeader};

/// Reads until one whole frame sits at the front of `buf`, then removes it and returns its header and
/// payload. Fragments are returned as they come: the callers only exchange single-frame messages.
pub async fn read_frame(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<(FrameHeader, Vec<u8>), String> {
    loop {
        if let Some(h) =
            frame::decode_header(buf).map_err(|e| format!("bad frame from server: {e:?}"))?
        {
            let total = h.header_len + h.payload_len as usize;
            if buf.len() >= total {
                let body = buf[h.header_len..total].to_vec();
                buf.drain(..total);
                return Ok((h, body));
            }
        }
        let mut chunk = [0u8; 4096];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("io: {e}"))?;
        if n == 0 {
            return Err("server closed the TCP connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits up to `limit` for the server to close the TCP connection (§7.1.1: the server closes first).
/// Returns whether it did.
pub async fn wait_eof(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, wait).await.is_ok()
}
