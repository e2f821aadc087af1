//! Threads, each with its own single-threaded runtime, started together on one measured window.

use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::task::LocalSet;

use crate::stats;

/// The measured window: results count from `warm_end` until `end`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub warm_end: Instant,
    pub end: Instant,
}

/// Holds the load threads until all have connected, then gives them one window.
pub struct StartGate {
    ready: Barrier,
    go: Barrier,
    window: OnceLock<Window>,
}

impl StartGate {
    pub fn new(threads: usize) -> Arc<Self> {
        Arc::new(StartGate {
            ready: Barrier::new(threads + 1),
            go: Barrier::new(threads + 1),
            window: OnceLock::new(),
        })
    }

    /// Called by each load thread once it is ready; returns when the window is set.
    pub fn wait(&self) -> Window {
        self.ready.wait();
        self.go.wait();
        *self.window.get().expect("window set before the gate opens")
    }

    /// Called by the main thread: waits for every load thread, then starts the window now.
    pub fn open(&self, warmup: Duration, duration: Duration) -> Window {
        self.ready.wait();
        let now = Instant::now();
        let w = Window {
            warm_end: now + warmup,
            end: now + warmup + duration,
        };
        self.window.set(w).expect("opened once");
        self.go.wait();
        w
    }
}

/// A runtime for one thread: spawned tasks share `Rc` state, so they run on a `LocalSet`.
pub fn local_runtime() -> (Runtime, LocalSet) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    (rt, LocalSet::new())
}

/// CPU used during the window by the server (when its pid is known) and by this process.
pub struct CpuUse {
    pub server: Option<Duration>,
    pub client: Duration,
}

/// Sleeps through the window on the calling thread, sampling CPU times at its two ends.
pub fn sample_window(w: Window, server_pid: Option<u32>) -> CpuUse {
    sleep_until(w.warm_end);
    let s0 = server_pid.and_then(stats::process_cpu);
    let c0 = stats::own_cpu();
    sleep_until(w.end);
    let s1 = server_pid.and_then(stats::process_cpu);
    let c1 = stats::own_cpu();
    CpuUse {
        server: match (s0, s1) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        },
        client: c1.saturating_sub(c0),
    }
}

pub fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// How many of `total` items thread `t` of `threads` takes.
pub fn share(total: usize, threads: usize, t: usize) -> usize {
    total / threads + usize::from(t < total % threads)
}
