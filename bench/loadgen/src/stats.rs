//! Counters and a latency histogram per thread, merged at the end; readings of the server process.

use std::time::Duration;

use hdrhistogram::Histogram;

/// What one thread saw during the measured window (errors and mismatches: during the whole run).
pub struct Stats {
    /// Messages (or handshakes, in the storm) completed inside the window.
    pub msgs: u64,
    /// Payload bytes of those messages, counted once (the echo, not the send).
    pub bytes: u64,
    /// Payload bytes of those echoes as they came over the wire: less than `bytes` when compressed.
    pub wire_bytes: u64,
    /// Echoes that differed from what was sent: content, length, type or order.
    pub mismatches: u64,
    /// Connections that failed: connect, handshake, protocol, I/O, unexpected close or a stall.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Read and write calls and echoes over the whole run (warm-up included): how well I/O is batched.
    pub reads: u64,
    pub writes: u64,
    pub echoes: u64,
    /// Latency in nanoseconds: send to echo, or connect to `101` in the storm.
    pub hist: Histogram<u64>,
}

impl Stats {
    pub fn new() -> Self {
        Stats {
            msgs: 0,
            bytes: 0,
            wire_bytes: 0,
            mismatches: 0,
            errors: 0,
            first_error: None,
            reads: 0,
            writes: 0,
            echoes: 0,
            // 1 ns to 10 min at 3 significant digits.
            hist: Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("histogram bounds"),
        }
    }

    pub fn error(&mut self, what: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what());
        }
    }

    pub fn merge(&mut self, other: &Stats) {
        self.msgs += other.msgs;
        self.bytes += other.bytes;
        self.wire_bytes += other.wire_bytes;
        self.mismatches += other.mismatches;
        self.errors += other.errors;
        self.reads += other.reads;
        self.writes += other.writes;
        self.echoes += other.echoes;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        self.hist.add(&other.hist).expect("same histogram bounds");
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// CPU time (user + system, all threads) the process has used so far, from `/proc/<pid>/stat`.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After ')': state is field 3 of the man page, utime 14 and stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    let hz = clock_ticks();
    Some(Duration::from_nanos(ticks * 1_000_000_000 / hz))
}

/// Resident set size in bytes, from `VmRSS` in `/proc/<pid>/status`.
/// Asks the server to collect its garbage (SIGUSR2, which bench/lib/gc-on-signal.cjs answers with a
/// full collection) and gives it 500 ms, so that an RSS reading counts live memory, not garbage the
/// collector had not reached yet.
pub fn ask_for_gc(pid: u32) {
    // SAFETY: kill(2) with a pid and a signal number; a gone process is ESRCH, nothing else.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGUSR2) };
    std::thread::sleep(Duration::from_millis(500));
}

pub fn process_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time this process (the load generator) has used so far.
pub fn own_cpu() -> Duration {
    // SAFETY: getrusage fills the struct we pass; zeroed is a valid rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force.
pub fn raise_fd_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit read and write the struct we pass.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 0;
        }
        if rl.rlim_cur < rl.rlim_max {
            rl.rlim_cur = rl.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        }
        rl.rlim_cur as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(process_rss(pid).unwrap() > 0);
        assert!(process_cpu(pid).is_some());
    }

    #[test]
    fn merges_counts_and_histograms() {
        let mut a = Stats::new();
        let mut b = Stats::new();
        a.msgs = 2;
        a.hist.record(1000).unwrap();
        b.msgs = 3;
        b.hist.record(3000).unwrap();
        b.error(|| "x".into());
        a.merge(&b);
        assert_eq!((a.msgs, a.errors, a.hist.len()), (5, 1, 2));
        assert_eq!(a.first_error.as_deref(), Some("x"));
    }
}
