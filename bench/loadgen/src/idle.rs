//! Idle hold: open N connections, check each with one echo, hold them all, and read the server's RSS.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::frame::{self, OP_TEXT};
use crate::handshake::{self, Target};
use crate::rng::Rng;
use crate::simple_io::read_frame;
use crate::stats::Stats;

pub struct Shared {
    pub target: Target,
    pub stats: RefCell<Stats>,
    pub next: Cell<usize>,
    pub total: usize,
    pub timeout: Duration,
    /// Open connections, held until the caller drops them.
    pub held: RefCell<Vec<TcpStream>>,
}

/// Opens connections until `total` have been tried; each says hello once so the server has seen a
/// message on it, as a real idle client would have.
pub async fn opener(shared: Rc<Shared>, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut buf = Vec::with_capacity(1024);
    let mut out = Vec::with_capacity(64);
    loop {
        let i = shared.next.get();
        if i >= shared.total {
            break;
        }
        shared.next.set(i + 1);
        let r = async {
            let mut stream = tokio::time::timeout(
                shared.timeout,
                handshake::connect(&shared.target, &mut rng, &mut buf),
            )
            .await
            .map_err(|_| "handshake: timed out".to_string())?
            .map_err(|e| format!("handshake: {e}"))?;
            let hello = format!("idle {i:011}");
            out.clear();
            frame::put_masked_frame(&mut out, OP_TEXT, hello.as_bytes(), rng.mask_key());
            stream
                .write_all(&out)
                .await
                .map_err(|e| format!("io: {e}"))?;
            let (h, body) = tokio::time::timeout(shared.timeout, read_frame(&mut stream, &mut buf))
                .await
                .map_err(|_| "no echo".to_string())??;
            if h.opcode != OP_TEXT || !h.fin || body != hello.as_bytes() {
                shared.stats.borrow_mut().mismatches += 1;
            }
            Ok::<_, String>(stream)
        }
        .await;
        match r {
            Ok(s) => {
                shared.held.borrow_mut().push(s);
                shared.stats.borrow_mut().msgs += 1;
            }
            Err(e) => shared.stats.borrow_mut().error(|| e),
        }
    }
}
