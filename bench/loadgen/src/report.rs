//! The two output lines: a table line for people, a JSON line for `bench/run.sh`.

use std::fmt::Write;
use std::time::Duration;

use crate::cli::{Config, Mode};
use crate::runner::CpuUse;
use crate::stats::Stats;

pub struct IdleFigures {
    pub held: usize,
    pub rss_before: Option<u64>,
    pub rss_after: Option<u64>,
    pub open_time: Duration,
}

pub struct Report {
    pub label: String,
    pub url: String,
    pub mode: Mode,
    pub connections: usize,
    pub in_flight: usize,
    pub size: usize,
    pub text: bool,
    pub seconds: f64,
    pub stats: Stats,
    pub cpu: Option<CpuUse>,
    pub no_tcp_close: Option<u64>,
    pub idle: Option<IdleFigures>,
}

impl Report {
    pub fn new(cfg: &Config, stats: Stats, window: Duration, cpu: Option<CpuUse>) -> Self {
        Report {
            label: cfg.label.clone(),
            url: cfg.url.clone(),
            mode: cfg.mode,
            connections: cfg.connections,
            in_flight: cfg.in_flight,
            size: cfg.size,
            text: cfg.text,
            seconds: window.as_secs_f64(),
            stats,
            cpu,
            no_tcp_close: None,
            idle: None,
        }
    }

    fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.stats.msgs as f64 / self.seconds
        } else {
            0.0
        }
    }

    fn mb_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.stats.bytes as f64 / 1e6 / self.seconds
        } else {
            0.0
        }
    }

    fn quantile_us(&self, q: f64) -> f64 {
        if self.stats.hist.is_empty() {
            return 0.0;
        }
        self.stats.hist.value_at_quantile(q) as f64 / 1000.0
    }

    fn max_us(&self) -> f64 {
        self.stats.hist.max() as f64 / 1000.0
    }

    /// Server CPU microseconds per message (or handshake) over the window.
    fn server_us_per_msg(&self) -> Option<f64> {
        let cpu = self.cpu.as_ref()?.server?;
        (self.stats.msgs > 0).then(|| cpu.as_secs_f64() * 1e6 / self.stats.msgs as f64)
    }

    /// The load generator's own CPU microseconds per message: below the server's, the server saturates first
    /// when each has a core to itself.
    fn loadgen_us_per_msg(&self) -> Option<f64> {
        let cpu = self.cpu.as_ref()?.client;
        (self.stats.msgs > 0).then(|| cpu.as_secs_f64() * 1e6 / self.stats.msgs as f64)
    }

    fn pct(&self, d: Duration) -> f64 {
        if self.seconds > 0.0 {
            100.0 * d.as_secs_f64() / self.seconds
        } else {
            0.0
        }
    }

    fn rss_per_conn(&self) -> Option<f64> {
        let i = self.idle.as_ref()?;
        let (a, b) = (i.rss_before?, i.rss_after?);
        (i.held > 0).then(|| (b as f64 - a as f64) / i.held as f64)
    }

    pub fn table_line(&self) -> String {
        let mut s = String::new();
        if !self.label.is_empty() {
            let _ = write!(s, "{} ", self.label);
        }
        let kind = if self.text { "text" } else { "binary" };
        match self.mode {
            Mode::Idle => {
                let i = self.idle.as_ref().expect("idle figures");
                let _ = write!(
                    s,
                    "idle c={}: held {} in {:.2} s, server rss {} -> {} MB, {} per conn",
                    self.connections,
                    i.held,
                    i.open_time.as_secs_f64(),
                    i.rss_before
                        .map_or("?".into(), |v| format!("{:.1}", v as f64 / 1e6)),
                    i.rss_after
                        .map_or("?".into(), |v| format!("{:.1}", v as f64 / 1e6)),
                    self.rss_per_conn()
                        .map_or("?".into(), |v| format!("{:.0} B", v)),
                );
            }
            Mode::Storm => {
                let _ = write!(
                    s,
                    "storm c={}: {:.0} handshakes/s, connect-to-101 p50 {:.0} us p99 {:.0} us max {:.0} us",
                    self.connections,
                    self.rate(),
                    self.quantile_us(0.5),
                    self.quantile_us(0.99),
                    self.max_us()
                );
                if let Some(n) = self.no_tcp_close.filter(|&n| n > 0) {
                    let _ = write!(s, ", {n} without a TCP close from the server within 1 s");
                }
            }
            Mode::Echo | Mode::Large | Mode::Fanout => {
                // Fanout counts every member's receipt, and its latency runs from the publisher's send.
                let what = if self.mode == Mode::Fanout {
                    "delivered msg/s"
                } else {
                    "msg/s"
                };
                let _ = write!(
                    s,
                    "{} c={} p={} {} B {}: {:.0} {what}, {:.1} MB/s, p50 {:.0} us p99 {:.0} us max {:.0} us",
                    self.mode.name(),
                    self.connections,
                    self.in_flight,
                    self.size,
                    kind,
                    self.rate(),
                    self.mb_per_sec(),
                    self.quantile_us(0.5),
                    self.quantile_us(0.99),
                    self.max_us()
                );
            }
        }
        let _ = write!(
            s,
            ", errors {}, mismatches {}",
            self.stats.errors, self.stats.mismatches
        );
        if let Some(cpu) = &self.cpu {
            if let Some(us) = self.server_us_per_msg() {
                let _ = write!(s, ", server {:.2} us/msg", us);
            }
            if let Some(sv) = cpu.server {
                let _ = write!(s, " ({:.0}% cpu)", self.pct(sv));
            }
            let _ = write!(s, ", loadgen {:.0}% cpu", self.pct(cpu.client));
            if let Some(us) = self.loadgen_us_per_msg() {
                let _ = write!(s, " {:.2} us/msg", us);
            }
        }
        s
    }

    pub fn json_line(&self) -> String {
        let mut s = String::from("{");
        let mut field = |k: &str, v: String| {
            if s.len() > 1 {
                s.push(',');
            }
            let _ = write!(s, "\"{k}\":{v}");
        };
        let num = |v: f64| {
            if v.is_finite() {
                format!("{:.3}", v)
            } else {
                "null".into()
            }
        };
        let opt = |v: Option<f64>| v.map_or("null".into(), num);
        field("label", json_str(&self.label));
        field("url", json_str(&self.url));
        field("mode", json_str(self.mode.name()));
        field("connections", self.connections.to_string());
        field("in_flight", self.in_flight.to_string());
        field("size", self.size.to_string());
        field("kind", json_str(if self.text { "text" } else { "binary" }));
        field("seconds", num(self.seconds));
        field("msgs", self.stats.msgs.to_string());
        field("msgs_per_sec", num(self.rate()));
        field("mb_per_sec", num(self.mb_per_sec()));
        field("p50_us", num(self.quantile_us(0.5)));
        field("p99_us", num(self.quantile_us(0.99)));
        field("max_us", num(self.max_us()));
        field("errors", self.stats.errors.to_string());
        field("mismatches", self.stats.mismatches.to_string());
        // Payload bytes of the echoes over the wire per message (compressed size with --deflate).
        field(
            "wire_bytes_per_msg",
            num(self.stats.wire_bytes as f64 / self.stats.msgs.max(1) as f64),
        );
        field(
            "first_error",
            self.stats
                .first_error
                .as_deref()
                .map_or("null".into(), json_str),
        );
        let server = self.cpu.as_ref().and_then(|c| c.server);
        field("server_cpu_s", opt(server.map(|d| d.as_secs_f64())));
        field("server_cpu_pct", opt(server.map(|d| self.pct(d))));
        field("server_cpu_us_per_msg", opt(self.server_us_per_msg()));
        field(
            "loadgen_cpu_pct",
            opt(self.cpu.as_ref().map(|c| self.pct(c.client))),
        );
        field("loadgen_cpu_us_per_msg", opt(self.loadgen_us_per_msg()));
        if self.stats.echoes > 0 {
            let per = |n: u64| num(n as f64 / self.stats.echoes as f64);
            field("reads_per_msg", per(self.stats.reads));
            field("writes_per_msg", per(self.stats.writes));
        }
        if let Some(n) = self.no_tcp_close {
            field("no_tcp_close", n.to_string());
        }
        if let Some(i) = &self.idle {
            field("held", i.held.to_string());
            field("open_secs", num(i.open_time.as_secs_f64()));
            field(
                "rss_before",
                i.rss_before.map_or("null".into(), |v| v.to_string()),
            );
            field(
                "rss_after",
                i.rss_after.map_or("null".into(), |v| v.to_string()),
            );
            field("rss_per_conn", opt(self.rss_per_conn()));
        }
        s.push('}');
        s
    }
}

fn json_str(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::json_str;

    #[test]
    fn escapes_json_strings() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
