//! `daloy-loadgen`: drives a WebSocket echo server on this machine and reports what it measured, as one
//! table line and one JSON line.
//!
//! Modes: `echo` (closed loop, P messages of S bytes in flight on each of C connections), `large` (the same
//! with one large message in flight), `storm` (handshakes per second, each with a clean close) and `idle`
//! (hold N connections and report the server's RSS per connection), `fanout` (rooms: a publisher per room,
//! every member of the room receiving and checking each message).

mod cli;
mod echo;
mod frame;
mod handshake;
mod idle;
mod payload;
mod report;
mod rng;
mod runner;
mod simple_io;
mod stats;
mod storm;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use cli::{Config, Mode};
use payload::Payload;
use report::Report;
use runner::{local_runtime, sample_window, share, StartGate};
use stats::Stats;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match cli::parse(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}\n");
            }
            eprint!("{}", cli::USAGE);
            std::process::exit(if e.is_empty() { 0 } else { 2 });
        }
    };
    let fd_limit = stats::raise_fd_limit();
    if (cfg.mode == Mode::Idle || cfg.mode == Mode::Storm || cfg.mode == Mode::Fanout)
        && (cfg.connections as u64 + 64) > fd_limit
    {
        eprintln!(
            "error: {} connections need more than the open-file limit of {fd_limit}",
            cfg.connections
        );
        std::process::exit(2);
    }
    let report = match cfg.mode {
        Mode::Echo | Mode::Large | Mode::Fanout => run_echo(&cfg),
        Mode::Storm => run_storm(&cfg),
        Mode::Idle => run_idle(&cfg),
    };
    // A closed pipe (the reader took only the first line) is not worth a panic.
    let mut out = std::io::stdout().lock();
    if !cfg.json_only {
        let _ = writeln!(out, "{}", report.table_line());
    }
    let _ = writeln!(out, "{}", report.json_line());
    drop(out);
    if let Some(e) = &report.stats.first_error {
        eprintln!("first error: {e}");
    }
    let failed = report.stats.errors > 0 || report.stats.mismatches > 0 || report.stats.msgs == 0;
    std::process::exit(if failed { 1 } else { 0 });
}

fn run_echo(cfg: &Config) -> Report {
    let cfg = Arc::new(cfg.clone());
    let payload = Arc::new(if cfg.realistic {
        Payload::realistic(cfg.size)
    } else {
        Payload::new(cfg.size, cfg.text, cfg.unicode)
    });
    let threads = cfg.threads.min(cfg.connections);
    let gate = StartGate::new(threads);
    // Fanout: only the first `rooms` connections send; the others are members of the rooms.
    let rooms = (cfg.mode == Mode::Fanout).then_some(cfg.rooms);
    let senders = rooms.unwrap_or(cfg.connections);
    let per_conn_cap = cfg.max_messages.div_ceil(senders as u64).max(1);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (cfg, payload, gate) = (cfg.clone(), payload.clone(), gate.clone());
            std::thread::spawn(move || {
                let (rt, local) = local_runtime();
                let n = share(cfg.connections, threads, t);
                let first = (0..t)
                    .map(|u| share(cfg.connections, threads, u))
                    .sum::<usize>();
                let seed = (t as u64) << 32;
                let room_of = rooms.map(|r| (first, r));
                let conns = local.block_on(
                    &rt,
                    echo::connect_many(&cfg.target, n, 64, seed, cfg.timeout, room_of),
                );
                let window = gate.wait();
                local.block_on(&rt, async move {
                    let shared = Rc::new(echo::Shared {
                        payload,
                        stats: RefCell::new(Stats::new()),
                        window,
                        in_flight: cfg.in_flight,
                        per_conn_cap,
                        timeout: cfg.timeout,
                        read_buf: echo::read_buf_size(&cfg),
                        room_sends: RefCell::new(vec![Vec::new(); rooms.unwrap_or(0)]),
                    });
                    let mut tasks = Vec::new();
                    for (i, c) in conns.into_iter().enumerate() {
                        match c {
                            Ok((stream, leftover, agreed)) => {
                                tasks.push(tokio::task::spawn_local(echo::run_conn(
                                    stream,
                                    leftover,
                                    agreed,
                                    shared.clone(),
                                    seed | i as u64,
                                    first + i >= senders,
                                    rooms.map(|r| (first + i) % r),
                                )))
                            }
                            Err(e) => shared.stats.borrow_mut().error(|| e),
                        }
                    }
                    for task in tasks {
                        let _ = task.await;
                    }
                    shared.stats.replace(Stats::new())
                })
            })
        })
        .collect();
    let window = gate.open(cfg.warmup, cfg.duration);
    let cpu = sample_window(window, cfg.server_pid);
    let stats = join_all(handles);
    Report::new(&cfg, stats, cfg.duration, Some(cpu))
}

fn run_storm(cfg: &Config) -> Report {
    let cfg = Arc::new(cfg.clone());
    let threads = cfg.threads.min(cfg.connections);
    let gate = StartGate::new(threads);
    let cap_per_thread = cfg.max_messages.div_ceil(threads as u64);
    let no_close = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (cfg, gate, no_close) = (cfg.clone(), gate.clone(), no_close.clone());
            std::thread::spawn(move || {
                let (rt, local) = local_runtime();
                let window = gate.wait();
                local.block_on(&rt, async move {
                    let shared = Rc::new(storm::Shared {
                        target: cfg.target.clone(),
                        window,
                        stats: RefCell::new(Stats::new()),
                        started: Cell::new(0),
                        cap: cap_per_thread,
                        timeout: cfg.timeout,
                        no_tcp_close: Cell::new(0),
                    });
                    let n = share(cfg.connections, threads, t);
                    let tasks: Vec<_> = (0..n)
                        .map(|i| {
                            tokio::task::spawn_local(storm::worker(
                                shared.clone(),
                                ((t as u64) << 32) | i as u64,
                            ))
                        })
                        .collect();
                    for task in tasks {
                        let _ = task.await;
                    }
                    no_close.fetch_add(
                        shared.no_tcp_close.get(),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    shared.stats.replace(Stats::new())
                })
            })
        })
        .collect();
    let window = gate.open(cfg.warmup, cfg.duration);
    let cpu = sample_window(window, cfg.server_pid);
    let stats = join_all(handles);
    let mut r = Report::new(&cfg, stats, cfg.duration, Some(cpu));
    r.no_tcp_close = Some(no_close.load(std::sync::atomic::Ordering::Relaxed));
    r
}

/// Idle hold runs on one thread: opening connections is the only work, and the point is the server's memory.
fn run_idle(cfg: &Config) -> Report {
    let rss = || {
        let pid = cfg.server_pid?;
        if cfg.gc_signal {
            stats::ask_for_gc(pid);
        }
        stats::process_rss(pid)
    };
    let rss_before = rss();
    let (rt, local) = local_runtime();
    let shared = Rc::new(idle::Shared {
        target: cfg.target.clone(),
        stats: RefCell::new(Stats::new()),
        next: Cell::new(0),
        total: cfg.connections,
        timeout: cfg.timeout,
        held: RefCell::new(Vec::with_capacity(cfg.connections)),
    });
    let t0 = Instant::now();
    local.block_on(&rt, async {
        let tasks: Vec<_> = (0..cfg.open_concurrency.min(cfg.connections))
            .map(|i| tokio::task::spawn_local(idle::opener(shared.clone(), i as u64)))
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    });
    let open_time = t0.elapsed();
    // Hold with the runtime idle: nothing is read or written while the server's memory is measured.
    std::thread::sleep(cfg.duration);
    let rss_after = rss();
    let held = shared.held.borrow().len();
    let stats = shared.stats.replace(Stats::new());
    let mut r = Report::new(cfg, stats, open_time, None);
    r.idle = Some(report::IdleFigures {
        held,
        rss_before,
        rss_after,
        open_time,
    });
    // Dropping the streams closes them; the server sees each end as an abnormal closure.
    local.block_on(&rt, async { shared.held.borrow_mut().clear() });
    r
}

fn join_all(handles: Vec<std::thread::JoinHandle<Stats>>) -> Stats {
    let mut total = Stats::new();
    for h in handles {
        match h.join() {
            Ok(s) => total.merge(&s),
            Err(_) => total.error(|| "a load thread panicked".into()),
        }
    }
    total
}
