//! Command-line flags. Hand-parsed: a dozen flags do not need a parser crate in the build.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::handshake::Target;

pub const USAGE: &str = "\
daloy-loadgen: WebSocket echo load against a server on this machine

USAGE: daloy-loadgen --url ws://127.0.0.1:PORT/echo [flags]

  --mode M             echo (default) | large | storm | idle | fanout
  --rooms N            fanout: connection i joins URL/<i mod N>; connections 0..N-1 publish (default 10);
                       latency is from the publisher's send to each member's receipt (same thread)
  --connections N, -c  connections (echo 64, large 1, storm: concurrent connectors 32, idle 10000)
  --in-flight N, -p    messages in flight per connection (echo 16, large 1)
  --size N, -s         payload bytes; suffixes k/K (1000/1024), m/M, KiB, MiB (echo 16, large 1MiB)
  --binary | --text    message type (binary by default)
  --unicode            text payloads of 2- and 3-byte UTF-8 characters instead of ASCII
  --duration SECS      measured window (default 5; idle: how long to hold, default 2)
  --warmup SECS        unmeasured time before the window (default 1; idle: ignored)
  --server-pid PID     read the server's CPU time (and RSS, for idle) from /proc
  --threads N          load threads, each with its own runtime (default 1)
  --max-messages N     stop sending after N messages in all (default 1e9)
  --open-concurrency N idle: handshakes in progress at once (default 128)
  --gc-signal          idle: before each RSS reading, send the server SIGUSR2 and wait 500 ms (a server
                       started with bench/lib/gc-on-signal.cjs collects its garbage on it)
  --read-buf N        bytes each connection reads at once (default 64KiB, 256KiB for messages over 4 KiB)
  --timeout SECS       connect/handshake timeout, and how old an unanswered message may be (default 5)
  --label TEXT         a name echoed into the output
  --json               print only the JSON line
  --deflate            offer permessage-deflate; compress sends and inflate echoes when agreed
  --realistic          text shaped like JSON records (up to 4 KiB) or prose, compressible as real traffic
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Echo,
    Large,
    Storm,
    Idle,
    /// Rooms: one publisher per room keeps P messages in flight (the server publishes each message to
    /// every member of its room, the publisher included); every member checks and counts what it gets.
    Fanout,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Large => "large",
            Mode::Storm => "storm",
            Mode::Idle => "idle",
            Mode::Fanout => "fanout",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub url: String,
    pub mode: Mode,
    pub connections: usize,
    pub in_flight: usize,
    pub size: usize,
    pub text: bool,
    pub unicode: bool,
    pub duration: Duration,
    pub warmup: Duration,
    pub server_pid: Option<u32>,
    pub threads: usize,
    pub max_messages: u64,
    pub open_concurrency: usize,
    pub gc_signal: bool,
    pub timeout: Duration,
    pub read_buf: Option<usize>,
    pub label: String,
    pub json_only: bool,
    /// Text shaped like JSON records or prose (compressible as real traffic is), not a letter cycle.
    pub realistic: bool,
    /// Fanout: how many rooms the connections are spread over.
    pub rooms: usize,
}

/// Parses `--size` values: `16`, `1k` (1000), `1K`/`1KiB` (1024), `16M`/`16MiB`.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num.parse().map_err(|_| format!("bad size: {s}"))?;
    let mult = match unit {
        "" | "B" => 1,
        "k" => 1000,
        "K" | "KiB" | "kiB" => 1024,
        "m" => 1_000_000,
        "M" | "MiB" => 1024 * 1024,
        _ => return Err(format!("bad size unit: {s}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s}"))
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s.parse().map_err(|_| format!("bad seconds: {s}"))?;
    if !(0.0..=3600.0).contains(&v) {
        return Err(format!("seconds out of range (0..3600): {s}"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Splits `ws://host:port/path` and resolves the host, which must be a loopback address: the load
/// generator never sends traffic off this machine.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("only ws:// URLs: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let has_port = match authority.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => authority.contains(':'),
    };
    let with_port = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr: SocketAddr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| {
            format!("{authority} is not a loopback address: refusing to send load there")
        })?;
    Ok(Target {
        addr,
        host: authority.to_string(),
        path: path.to_string(),
        deflate: false,
    })
}

pub fn parse(args: &[String]) -> Result<Config, String> {
    let mut url = None;
    let mut mode = Mode::Echo;
    let mut connections = None;
    let mut in_flight = None;
    let mut size = None;
    let mut text = false;
    let mut unicode = false;
    let mut duration = None;
    let mut warmup = Duration::from_secs(1);
    let mut server_pid = None;
    let mut threads = 1usize;
    let mut max_messages = 1_000_000_000u64;
    let mut open_concurrency = 128usize;
    let mut gc_signal = false;
    let mut timeout = Duration::from_secs(5);
    let mut label = String::new();
    let mut read_buf = None;
    let mut json_only = false;
    let mut deflate = false;
    let mut realistic = false;
    let mut rooms = 10usize;

    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let int = |v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("bad number for {flag}: {v}"))
        };
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--mode" => {
                mode = match value()?.as_str() {
                    "echo" => Mode::Echo,
                    "large" => Mode::Large,
                    "storm" => Mode::Storm,
                    "idle" => Mode::Idle,
                    "fanout" => Mode::Fanout,
                    m => return Err(format!("unknown mode: {m}")),
                }
            }
            "--connections" | "-c" => connections = Some(int(value()?)?),
            "--in-flight" | "-p" => in_flight = Some(int(value()?)?),
            "--size" | "-s" => size = Some(parse_size(&value()?)?),
            "--binary" => text = false,
            "--text" => text = true,
            "--unicode" => unicode = true,
            "--duration" => duration = Some(parse_secs(&value()?)?),
            "--warmup" => warmup = parse_secs(&value()?)?,
            "--server-pid" => server_pid = Some(int(value()?)? as u32),
            "--threads" => threads = int(value()?)?.max(1),
            "--max-messages" => max_messages = int(value()?)? as u64,
            "--open-concurrency" => open_concurrency = int(value()?)?.max(1),
            "--gc-signal" => gc_signal = true,
            "--timeout" => timeout = parse_secs(&value()?)?,
            "--label" => label = value()?,
            "--read-buf" => read_buf = Some(parse_size(&value()?)?.clamp(4096, 64 << 20)),
            "--json" => json_only = true,
            "--deflate" => deflate = true,
            "--realistic" => {
                realistic = true;
                text = true;
            }
            "--rooms" => rooms = int(value()?)?.max(1),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown flag: {other}")),
        }
    }
    let url = url.ok_or("--url is required")?;
    let mut target = parse_url(&url)?;
    target.deflate = deflate;
    let (def_c, def_p, def_s, def_d) = match mode {
        Mode::Echo => (64, 16, 16, 5.0),
        Mode::Large => (1, 1, 1024 * 1024, 5.0),
        Mode::Storm => (32, 1, 0, 5.0),
        Mode::Idle => (10_000, 1, 16, 2.0),
        Mode::Fanout => (1000, 4, 16, 5.0),
    };
    let connections = connections.unwrap_or(def_c).max(1);
    // Ceilings that keep every run bounded on a 24 GiB machine.
    if connections > 100_000 {
        return Err("--connections is capped at 100000".into());
    }
    let size = size.unwrap_or(def_s);
    if size > 1024 * 1024 * 1024 {
        return Err("--size is capped at 1 GiB".into());
    }
    let in_flight = in_flight.unwrap_or(def_p).clamp(1, 100_000);
    Ok(Config {
        target,
        url,
        mode,
        connections,
        in_flight,
        size,
        text,
        unicode,
        duration: duration.unwrap_or(Duration::from_secs_f64(def_d)),
        warmup,
        server_pid,
        threads,
        max_messages,
        open_concurrency,
        gc_signal,
        timeout,
        read_buf,
        label,
        json_only,
        realistic,
        rooms: rooms.min(connections),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("16").unwrap(), 16);
        assert_eq!(parse_size("1K").unwrap(), 1024);
        assert_eq!(parse_size("64KiB").unwrap(), 65536);
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("2k").unwrap(), 2000);
        assert!(parse_size("1G").is_err());
    }

    #[test]
    fn parses_loopback_urls_only() {
        let t = parse_url("ws://127.0.0.1:8080/echo").unwrap();
        assert_eq!(
            (t.addr.port(), t.host.as_str(), t.path.as_str()),
            (8080, "127.0.0.1:8080", "/echo")
        );
        assert_eq!(parse_url("ws://localhost:9000").unwrap().path, "/");
        assert!(parse_url("ws://[::1]:9000/echo")
            .unwrap()
            .addr
            .ip()
            .is_loopback());
        assert!(parse_url("ws://10.0.0.1:80/").is_err());
        assert!(parse_url("wss://127.0.0.1/").is_err());
    }

    #[test]
    fn mode_defaults_apply() {
        let a: Vec<String> = ["--url", "ws://127.0.0.1:1/echo", "--mode", "large"]
            .map(String::from)
            .to_vec();
        let c = parse(&a).unwrap();
        assert_eq!((c.connections, c.in_flight, c.size), (1, 1, 1 << 20));
    }
}
