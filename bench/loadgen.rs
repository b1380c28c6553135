//! An open-loop load generator for the mixed workload (`bench/mixed.sh rate`): it sends requests
//! on a fixed schedule, `--rate` a second spread over `--connections` keep-alive connections (the
//! model of wrk2), whatever the server's answers take. A closed-loop tool such as wrk sends the
//! next request only after the last answer, so its latency is the queue it builds itself
//! (connections ÷ throughput) and a stall delays requests it then never sends. Here a request the
//! server held up is timed from when it was due, so a stall counts every request it delayed;
//! a request sent on time is timed from when it was sent (the generator's own timer slack is not
//! the server's).
//!
//! `--rate max` is closed-loop instead (each connection sends its next request as soon as the last
//! answer arrives, each timed from when it was sent): what wrk does, without the cost of wrk's
//! Lua `response()` hook, which copies every answer's headers and body into Lua (a third of both
//! cores in the mixed workload).
//!
//! The workload is mixed.lua's: each request picks a random user of `--users` (lines `USER TOKEN
//! TASK_ID ...`), then lists that user's tasks, creates one, or toggles one's completion, in the
//! `--mix` percentages. It prints wrk's summary lines (so `bench/lib.sh`'s `parse_wrk` reads it)
//! and writes mixed.lua's counts file (201s per user, statuses) for the lost-write check.
//!
//!     cargo run --release --example loadgen -- --url http://127.0.0.1:18080 \
//!         --users users.txt --counts counts.txt --rate 8000 --connections 32 --duration 10

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rand::Rng;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

#[derive(Parser, Debug)]
struct Args {
    /// Server base URL, `http://host:port` (plain HTTP/1.1).
    #[arg(long)]
    url: String,
    /// One line per user: `USER TOKEN TASK_ID TASK_ID ...`.
    #[arg(long)]
    users: std::path::PathBuf,
    /// Where to write `created USER N`, `status CODE N` and `unparsed_201 N` lines.
    #[arg(long)]
    counts: std::path::PathBuf,
    /// list,create,toggle percentages.
    #[arg(long, default_value = "80,10,10")]
    mix: String,
    /// Requests per second, over all connections; `max`: closed-loop, as fast as answers come.
    #[arg(long, value_parser = parse_rate)]
    rate: Rate,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Worker threads of the generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds an answer may take before it counts as a timeout.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
}

#[derive(Debug, Clone, Copy)]
enum Rate {
    /// Closed-loop.
    Max,
    PerSecond(f64),
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    match text {
        "max" => Ok(Rate::Max),
        _ => match text.parse::<f64>() {
            Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(Rate::PerSecond(rate)),
            _ => Err(format!("'{text}' is neither a positive number nor 'max'")),
        },
    }
}

/// One user's prepared requests.
struct User {
    list: String,
    create: String,
    toggles: Vec<String>,
    authorization: String,
}

struct Workload {
    users: Vec<User>,
    list_cut: u32,
    create_cut: u32,
}

const CREATE_BODY: &str =
    r#"{"title":"mixed task","description":"created during the mixed workload"}"#;

impl Workload {
    fn load(args: &Args) -> Result<Self, String> {
        let cuts: Vec<u32> = args
            .mix
            .split(',')
            .map(|p| p.trim().parse().map_err(|_| format!("--mix: '{p}' is not a percentage")))
            .collect::<Result<_, _>>()?;
        let [list, create, toggle] = cuts[..] else {
            return Err(format!("--mix must be three percentages, not '{}'", args.mix));
        };
        if list + create + toggle != 100 {
            return Err(format!("--mix must sum to 100, not '{}'", args.mix));
        }
        let text = std::fs::read_to_string(&args.users)
            .map_err(|e| format!("cannot read {}: {e}", args.users.display()))?;
        let mut users = Vec::new();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [user, token, tasks @ ..] = &fields[..] else {
                return Err(format!("a line of {} has no token: {line}", args.users.display()));
            };
            if tasks.is_empty() {
                return Err(format!("a line of {} has no task ids: {line}", args.users.display()));
            }
            let base = format!("/api/{user}/tasks");
            users.push(User {
                toggles: tasks.iter().map(|id| format!("{base}/{id}/complete")).collect(),
                list: base.clone(),
                create: base,
                authorization: format!("Bearer {token}"),
            });
        }
        if users.is_empty() {
            return Err(format!("{} lists no users", args.users.display()));
        }
        Ok(Self { users, list_cut: list, create_cut: list + create })
    }

    fn pick(&self, rng: &mut impl Rng, host: &str) -> (Kind, Request<Full<Bytes>>) {
        let user = &self.users[rng.gen_range(0..self.users.len())];
        let roll = rng.gen_range(1..=100);
        let (kind, method, path, body) = if roll <= self.list_cut {
            (Kind::List, "GET", user.list.as_str(), None)
        } else if roll <= self.create_cut {
            (Kind::Create, "POST", user.create.as_str(), Some(CREATE_BODY))
        } else {
            let toggle = &user.toggles[rng.gen_range(0..user.toggles.len())];
            (Kind::Toggle, "PATCH", toggle.as_str(), None)
        };
        let builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", host)
            .header("authorization", user.authorization.as_str());
        let request = match body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(body.as_bytes()))),
            None => builder.body(Full::new(Bytes::new())),
        };
        (kind, request.unwrap_or_else(|e| panic!("a request of the workload is malformed: {e}")))
    }
}

/// The three requests of the mix; their latencies are also reported apart.
#[derive(Debug, Clone, Copy)]
enum Kind {
    List = 0,
    Create = 1,
    Toggle = 2,
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    /// By [`Kind`].
    latencies_us: [Vec<u32>; 3],
    /// When the last answer arrived.
    last: Option<Instant>,
    statuses: HashMap<u16, u64>,
    created: HashMap<String, u64>,
    unparsed_201: u64,
    bytes: u64,
    connect_errors: u64,
    read_errors: u64,
    timeouts: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (mine, theirs) in self.latencies_us.iter_mut().zip(other.latencies_us) {
            mine.extend(theirs);
        }
        self.last = self.last.max(other.last);
        for (code, n) in other.statuses {
            *self.statuses.entry(code).or_default() += n;
        }
        for (user, n) in other.created {
            *self.created.entry(user).or_default() += n;
        }
        self.unparsed_201 += other.unparsed_201;
        self.bytes += other.bytes;
        self.connect_errors += other.connect_errors;
        self.read_errors += other.read_errors;
        self.timeouts += other.timeouts;
    }

    fn record_201(&mut self, body: &[u8]) {
        const KEY: &[u8] = br#""user_id":""#;
        let user = body
            .windows(KEY.len())
            .position(|window| window == KEY)
            .map(|at| &body[at + KEY.len()..])
            .and_then(|rest| rest.iter().position(|&b| b == b'"').map(|end| &rest[..end]));
        match user.and_then(|user| std::str::from_utf8(user).ok()) {
            Some(user) => *self.created.entry(user.to_owned()).or_default() += 1,
            None => self.unparsed_201 += 1,
        }
    }
}

struct Plan {
    address: String,
    host: String,
    start: Instant,
    end: Instant,
    /// Between two requests of one connection; `None`: closed-loop, no schedule.
    interval: Option<Duration>,
    timeout: Duration,
    workload: Workload,
}

/// One connection: its requests are due at `start + offset + k × interval`; each is sent when
/// due, or at once when the server's previous answer came after that. Closed-loop, each request
/// is due when the previous answer arrives.
async fn connection(plan: Arc<Plan>, offset: Duration, seed: u64) -> Tally {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let mut sender = None;
    let mut due = plan.start + offset;
    while due < plan.end {
        // Timed from when it was due when the server made it late, else from when it was sent.
        let timed_from = match plan.interval {
            None => Instant::now(),
            Some(_) if Instant::now() > due => due,
            Some(_) => {
                tokio::time::sleep_until(due).await;
                Instant::now()
            }
        };
        due = plan.interval.map_or(timed_from, |interval| due + interval);
        if sender.is_none() {
            match connect(&plan.address).await {
                Ok(s) => sender = Some(s),
                Err(_) => {
                    tally.connect_errors += 1;
                    continue;
                }
            }
        }
        let Some(open) = sender.as_mut() else { continue };
        let (kind, request) = plan.workload.pick(&mut rng, &plan.host);
        let exchange = async {
            open.ready().await?;
            let response = open.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        };
        match tokio::time::timeout(plan.timeout, exchange).await {
            Ok(Ok((status, body))) => {
                let now = Instant::now();
                let elapsed = now - timed_from;
                tally.last = Some(now);
                let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
                tally.latencies_us[kind as usize].push(micros);
                *tally.statuses.entry(status).or_default() += 1;
                tally.bytes += body.len() as u64;
                if status == 201 {
                    tally.record_201(&body);
                }
            }
            Ok(Err(_)) => {
                tally.read_errors += 1;
                sender = None;
            }
            Err(_) => {
                tally.timeouts += 1;
                sender = None;
            }
        }
    }
    tally
}

async fn connect(address: &str) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(address).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) =
        http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The `q` quantile of sorted `values` (nearest rank), 0 when there are none.
fn percentile(values: &[u32], q: f64) -> u32 {
    if values.is_empty() {
        return 0;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// wrk's way of writing a duration.
fn wrk_duration(us: u32) -> String {
    let us = f64::from(us);
    if us < 1_000.0 {
        format!("{us:.2}us")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    if !(args.duration > 0.0 && args.connections > 0) {
        return Err("--duration and --connections must be positive".into());
    }
    let workload = Workload::load(&args)?;
    let authority = args
        .url
        .strip_prefix("http://")
        .ok_or("--url must be http://host:port")?
        .trim_end_matches('/')
        .to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (tally, start) = runtime.block_on(async {
        // Connections open before the clock starts, so the first requests do not wait on them.
        let start = Instant::now() + Duration::from_millis(200);
        let plan = Arc::new(Plan {
            address: authority.clone(),
            host: authority,
            start,
            end: start + Duration::from_secs_f64(args.duration),
            interval: match args.rate {
                Rate::Max => None,
                Rate::PerSecond(rate) => {
                    Some(Duration::from_secs_f64(args.connections as f64 / rate))
                }
            },
            timeout: Duration::from_secs_f64(args.timeout),
            workload,
        });
        let seed: u64 = rand::thread_rng().r#gen();
        let spacing = match args.rate {
            Rate::Max => Duration::ZERO,
            Rate::PerSecond(rate) => Duration::from_secs_f64(1.0 / rate),
        };
        let handles: Vec<_> = (0..args.connections)
            .map(|i| {
                let offset = spacing * u32::try_from(i).unwrap_or(u32::MAX);
                tokio::spawn(connection(plan.clone(), offset, seed.wrapping_add(i as u64)))
            })
            .collect();
        let mut tally = Tally::default();
        for handle in handles {
            tally.merge(handle.await.map_err(|e| e.to_string())?);
        }
        Ok::<_, String>((tally, start))
    })?;
    report(&args, tally, start)
}

/// Prints the figures; the rate is of answers, over the time until the last one arrived, so a
/// server that fell behind the schedule shows a rate below the one offered.
fn report(args: &Args, mut tally: Tally, start: Instant) -> Result<(), String> {
    let took = tally
        .last
        .map_or(0.0, |last| last.saturating_duration_since(start).as_secs_f64())
        .max(args.duration);
    let mut all: Vec<u32> = tally.latencies_us.concat();
    all.sort_unstable();
    let done = all.len();
    let at = |q: f64| percentile(&all, q);
    let non_2xx: u64 =
        tally.statuses.iter().filter(|(code, _)| !(200..300).contains(*code)).map(|(_, n)| n).sum();
    let mut out = String::new();
    let _ = match args.rate {
        Rate::Max => writeln!(
            out,
            "Closed-loop mixed workload over {} connections for {}s, mix {}",
            args.connections, args.duration, args.mix
        ),
        Rate::PerSecond(rate) => writeln!(
            out,
            "Open-loop mixed workload @ {rate} req/s over {} connections for {}s, mix {} (timed from when each request was due)",
            args.connections, args.duration, args.mix
        ),
    };
    let _ = writeln!(out, "Latency Distribution");
    for (label, q) in [("50%", 0.5), ("75%", 0.75), ("90%", 0.9), ("99%", 0.99), ("99.9%", 0.999)] {
        let _ = writeln!(out, "  {label:>6}  {}", wrk_duration(at(q)));
    }
    let _ = writeln!(out, "  {:>6}  {}", "max", wrk_duration(at(1.0)));
    for (kind, latencies) in
        [Kind::List, Kind::Create, Kind::Toggle].iter().zip(&mut tally.latencies_us)
    {
        latencies.sort_unstable();
        let _ = writeln!(
            out,
            "  {kind:?}: {} requests, p50 {}, p99 {}, p99.9 {}, max {}",
            latencies.len(),
            wrk_duration(percentile(latencies, 0.5)),
            wrk_duration(percentile(latencies, 0.99)),
            wrk_duration(percentile(latencies, 0.999)),
            wrk_duration(percentile(latencies, 1.0)),
        );
    }
    let _ =
        writeln!(out, "  {done} requests in {took:.2}s, {:.2}MB read", tally.bytes as f64 / 1e6);
    if tally.connect_errors + tally.read_errors + tally.timeouts > 0 {
        let _ = writeln!(
            out,
            "  Socket errors: connect {}, read {}, write 0, timeout {}",
            tally.connect_errors, tally.read_errors, tally.timeouts
        );
    }
    if non_2xx > 0 {
        let _ = writeln!(out, "  Non-2xx or 3xx responses: {non_2xx}");
    }
    let _ = writeln!(out, "Requests/sec: {:.2}", done as f64 / took);
    print!("{out}");

    let mut counts = String::new();
    for (user, n) in &tally.created {
        let _ = writeln!(counts, "created {user} {n}");
    }
    for (code, n) in &tally.statuses {
        let _ = writeln!(counts, "status {code} {n}");
    }
    let _ = writeln!(counts, "unparsed_201 {}", tally.unparsed_201);
    std::fs::write(&args.counts, counts)
        .map_err(|e| format!("cannot write {}: {e}", args.counts.display()))
}
