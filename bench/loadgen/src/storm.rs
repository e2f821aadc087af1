//! Connection storm: workers that each open a connection, complete the opening handshake and a clean
//! closing handshake, and start again, for the whole window.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::frame::{self, OP_CLOSE};
use crate::handshake::{self, Target};
use crate::rng::Rng;
use crate::runner::Window;
use crate::simple_io::{read_frame, wait_eof};
use crate::stats::Stats;

pub struct Shared {
    pub target: Target,
    pub window: Window,
    pub stats: RefCell<Stats>,
    /// Connections begun by this thread, against `cap`.
    pub started: Cell<u64>,
    pub cap: u64,
    pub timeout: Duration,
    /// Cycles in which the server sent its close frame but did not close the TCP connection in time.
    pub no_tcp_close: Cell<u64>,
}

/// One connector: connect, upgrade, close, repeat. The latency recorded is connect to `101`.
pub async fn worker(shared: Rc<Shared>, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(16);
    loop {
        let t0 = Instant::now();
        if t0 >= shared.window.end || shared.started.get() >= shared.cap {
            break;
        }
        shared.started.set(shared.started.get() + 1);
        let result = async {
            let mut stream = tokio::time::timeout(
                shared.timeout,
                handshake::connect(&shared.target, &mut rng, &mut buf),
            )
            .await
            .map_err(|_| "handshake: timed out".to_string())?
            .map_err(|e| format!("handshake: {e}"))?;
            let t1 = Instant::now();
            out.clear();
            frame::put_close(&mut out, frame::CLOSE_NORMAL, rng.mask_key());
            stream
                .write_all(&out)
                .await
                .map_err(|e| format!("io: {e}"))?;
            let (h, body) = tokio::time::timeout(shared.timeout, read_frame(&mut stream, &mut buf))
                .await
                .map_err(|_| "no close frame from the server".to_string())??;
            if h.opcode != OP_CLOSE {
                return Err(format!("expected a close frame, got opcode {}", h.opcode));
            }
            if body.len() >= 2 && u16::from_be_bytes([body[0], body[1]]) != frame::CLOSE_NORMAL {
                return Err(format!(
                    "close code {}",
                    u16::from_be_bytes([body[0], body[1]])
                ));
            }
            let closed = wait_eof(&mut stream, Duration::from_secs(1)).await;
            Ok::<_, String>((t1, closed))
        }
        .await;
        match result {
            Ok((t1, closed)) => {
                if !closed {
                    shared.no_tcp_close.set(shared.no_tcp_close.get() + 1);
                }
                let t2 = Instant::now();
                if t2 >= shared.window.warm_end && t2 < shared.window.end {
                    let mut st = shared.stats.borrow_mut();
                    st.msgs += 1;
                    st.hist
                        .saturating_record(t1.duration_since(t0).as_nanos().max(1) as u64);
                }
            }
            Err(e) => {
                shared.stats.borrow_mut().error(|| e);
                // A refusing server must not turn the worker into a busy loop.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}
