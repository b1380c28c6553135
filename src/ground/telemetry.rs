//! Logging: one subscriber for the process, text or JSON, filtered by `RUST_LOG`, written to
//! standard output in batches by a background thread, so that no request waits on the terminal or
//! the pipe and a busy server makes a few system calls a second instead of one per line.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::ground::clock::monotonic_ms;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written (`TASKGATE_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// How often queued lines are written out: the most a line waits before it can be read.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Bytes queued at most; past that (standard output is not being read) new lines are dropped
/// and counted rather than growing memory or stalling requests.
const MAX_QUEUED_BYTES: usize = 16 << 20;

/// Where log lines go: standard output for the server; standard error for commands whose
/// standard output is their result (`taskgate token` prints a token there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Starts logging. Keep the guard until the process exits: dropping it writes what is queued.
pub fn init(format: LogFormat, target: LogTarget) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let queue = Arc::new(LogQueue { target, ..LogQueue::default() });
    let json = format == LogFormat::Json;
    let _ = ACCESS.set((queue.clone(), json));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(LogWriter(queue.clone()))
        .event_format(LineFormat { json })
        .try_init();
    let flusher = {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || {
                while !queue.stopping.load(Ordering::Acquire) {
                    std::thread::sleep(FLUSH_EVERY);
                    queue.write_out();
                }
            })
            .ok()
    };
    LogGuard { queue, flusher }
}

struct LogQueue {
    target: LogTarget,
    lines: Mutex<Vec<u8>>,
    dropped: AtomicU64,
    stopping: AtomicBool,
}

impl Default for LogQueue {
    fn default() -> Self {
        Self {
            target: LogTarget::Stdout,
            lines: Mutex::default(),
            dropped: AtomicU64::default(),
            stopping: AtomicBool::default(),
        }
    }
}

impl LogQueue {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, line: &[u8]) {
        self.push_with(|out| out.extend_from_slice(line));
    }

    /// Appends one line written by `write`, unless too much is queued already.
    fn push_with(&self, write: impl FnOnce(&mut Vec<u8>)) {
        let mut lines = self.lock();
        if lines.len() > MAX_QUEUED_BYTES {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            write(&mut lines);
        }
    }

    /// Writes everything queued to standard output (errors there have nowhere to go).
    fn write_out(&self) {
        // The next batch starts with this one's capacity, so a busy server does not regrow it.
        let batch = {
            let mut lines = self.lock();
            let capacity = lines.capacity().min(MAX_QUEUED_BYTES);
            std::mem::replace(&mut *lines, Vec::with_capacity(capacity))
        };
        let mut out: Box<dyn Write> = match self.target {
            LogTarget::Stdout => Box::new(std::io::stdout().lock()),
            LogTarget::Stderr => Box::new(std::io::stderr().lock()),
        };
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let _ = writeln!(
                out,
                "taskgate: {dropped} log lines dropped: the log output is not keeping up"
            );
        }
        if !batch.is_empty() {
            let _ = out.write_all(&batch);
        }
        let _ = out.flush();
    }
}

/// Hands formatted lines to the queue; the subscriber writes each event with one call.
struct LogWriter(Arc<LogQueue>);

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = &'a LogQueue;

    fn make_writer(&'a self) -> Self::Writer {
        &self.0
    }
}

impl Write for &LogQueue {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes out the last lines when the process ends.
pub struct LogGuard {
    queue: Arc<LogQueue>,
    flusher: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.queue.stopping.store(true, Ordering::Release);
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        self.queue.write_out();
    }
}

/// One line per event: `2026-12-01T14:15:02.919540Z  INFO message key=value ...`, or the same as a
/// flat JSON object. Written by hand because the general formatter cost a quarter of a small
/// request's CPU time; values a client chose are escaped here too (see [`Untrusted`]).
struct LineFormat {
    json: bool,
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let level = *event.metadata().level();
        let mut message = MessageVisitor(None);
        event.record(&mut message);
        let message = message.0.unwrap_or_default();
        if self.json {
            writer.write_str("{\"timestamp\":\"")?;
            write_timestamp(&mut writer)?;
            write!(writer, "\",\"level\":\"{level}\",\"message\":")?;
            write_json_str(&mut writer, &message)?;
            let mut fields = FieldVisitor { writer: &mut writer, json: true, result: Ok(()) };
            event.record(&mut fields);
            fields.result?;
            writer.write_str("}\n")
        } else {
            write_timestamp(&mut writer)?;
            write!(writer, " {level:>5} ")?;
            if let Some(scope) = ctx.event_scope() {
                for span in scope.from_root() {
                    write!(writer, "{}: ", span.name())?;
                }
            }
            writer.write_str(&message)?;
            let mut fields = FieldVisitor { writer: &mut writer, json: false, result: Ok(()) };
            event.record(&mut fields);
            fields.result?;
            writer.write_char('\n')
        }
    }
}

/// RFC 3339 UTC with microseconds; the part down to the second is formatted once a second.
fn write_timestamp(writer: &mut Writer<'_>) -> std::fmt::Result {
    with_timestamp(|second, micros| write!(writer, "{second}.{micros:06}Z"))
}

/// Calls `f` with now as `2026-12-01T14:15:02` and its microseconds.
fn with_timestamp<R>(f: impl FnOnce(&str, u32) -> R) -> R {
    thread_local! {
        static SECOND: std::cell::RefCell<(u64, String)> =
            const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    // The calendar is worked out once a second; every line reads only the clock.
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let unix = since_epoch.as_secs();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != unix {
            *second = unix;
            let now = time::OffsetDateTime::from_unix_timestamp(unix as i64)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            *text = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            );
        }
        f(text, since_epoch.subsec_micros())
    })
}

/// The queue and format of the process's log, for [`access`]; unset until [`init`].
static ACCESS: OnceLock<(Arc<LogQueue>, bool)> = OnceLock::new();

/// One request, as the access log line states it.
pub struct Access<'a> {
    pub method: &'a str,
    /// A route template of the router (or `<app>`, `<unmatched>`), never a raw path.
    pub route: &'a str,
    pub status: u16,
    pub latency_us: u64,
    pub request_id: &'a str,
}

/// Writes the access log line for one request: the same line the subscriber would write for
/// `info!(method, route, status, latency_us, request_id, "request")`, formatted straight into the
/// queue, because the general path costs several times more than a small request itself.
pub fn access(line: Access<'_>) {
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let Some((queue, json)) = ACCESS.get() else {
        // No process logger (an embedded or test server): the ordinary path.
        tracing::info!(
            method = line.method,
            route = line.route,
            status = line.status,
            latency_us = line.latency_us,
            request_id = line.request_id,
            "request"
        );
        return;
    };
    let mut numbers = itoa::Buffer::new();
    with_timestamp(|second, micros| {
        let mut micros_text = [b'0'; 6];
        let digits = numbers.format(micros).as_bytes();
        micros_text[6 - digits.len().min(6)..].copy_from_slice(&digits[..digits.len().min(6)]);
        queue.push_with(|out| {
            let text = |out: &mut Vec<u8>, key: &str, value: &str| {
                if *json {
                    out.extend_from_slice(b",\"");
                    out.extend_from_slice(key.as_bytes());
                    out.extend_from_slice(b"\":");
                    push_json_str(out, value);
                } else {
                    out.push(b' ');
                    out.extend_from_slice(key.as_bytes());
                    out.push(b'=');
                    push_untrusted(out, value);
                }
            };
            let number = |out: &mut Vec<u8>, key: &str, value: u64| {
                out.extend_from_slice(if *json { b",\"" } else { b" " });
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(if *json { b"\":" } else { b"=" });
                out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            };
            if *json {
                out.extend_from_slice(b"{\"timestamp\":\"");
            }
            out.extend_from_slice(second.as_bytes());
            out.push(b'.');
            out.extend_from_slice(&micros_text);
            if *json {
                out.extend_from_slice(b"Z\",\"level\":\"INFO\",\"message\":\"request\"");
            } else {
                out.extend_from_slice(b"Z  INFO request");
            }
            text(out, "method", line.method);
            // Our own route template (`/api/{user_id}/tasks`), never client text: written as is.
            if *json {
                out.extend_from_slice(b",\"route\":\"");
            } else {
                out.extend_from_slice(b" route=");
            }
            out.extend_from_slice(line.route.as_bytes());
            if *json {
                out.push(b'"');
            }
            number(out, "status", u64::from(line.status));
            number(out, "latency_us", line.latency_us);
            text(out, "request_id", line.request_id);
            out.extend_from_slice(if *json { b"}\n" } else { b"\n" });
        });
    });
}

fn push_json_str(out: &mut Vec<u8>, value: &str) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

fn push_untrusted(out: &mut Vec<u8>, value: &str) {
    if is_plain(value) {
        out.extend_from_slice(value.as_bytes());
    } else {
        out.extend_from_slice(format!("{value:?}").as_bytes());
    }
}

fn write_json_str(writer: &mut impl std::fmt::Write, value: &str) -> std::fmt::Result {
    match serde_json::to_string(value) {
        Ok(quoted) => writer.write_str(&quoted),
        Err(_) => writer.write_str("\"\""),
    }
}

struct MessageVisitor(Option<String>);

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// Writes every field but the message: `key=value` (text) or `,"key":value` (JSON).
struct FieldVisitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    json: bool,
    result: std::fmt::Result,
}

impl FieldVisitor<'_, '_> {
    fn key(&mut self, field: &Field) -> std::fmt::Result {
        if self.json {
            write!(self.writer, ",\"{}\":", field.name())
        } else {
            write!(self.writer, " {}=", field.name())
        }
    }

    fn raw(&mut self, field: &Field, value: impl std::fmt::Display) {
        if field.name() == "message" || self.result.is_err() {
            return;
        }
        self.result = self.key(field).and_then(|()| write!(self.writer, "{value}"));
    }

    fn text(&mut self, field: &Field, value: &str) {
        if field.name() == "message" || self.result.is_err() {
            return;
        }
        self.result = self.key(field).and_then(|()| {
            if self.json {
                write_json_str(self.writer, value)
            } else {
                write!(self.writer, "{}", Untrusted(value))
            }
        });
    }
}

impl Visit for FieldVisitor<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.raw(field, value);
        } else {
            self.text(field, &value.to_string());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            return;
        }
        // `%value` and `?value` fields: formatted, then escaped like any other text.
        self.text(field, &format!("{value:?}"));
    }
}

fn is_plain(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@/+".contains(&b))
}

/// A value a client chose (a token's subject, a header), made safe for a log line: written as is
/// when it is plain (letters, digits, `-_.:@/+`), else quoted with every control character, quote
/// and backslash escaped, so it can neither end the line, forge a field, nor drive a terminal.
pub struct Untrusted<'a>(pub &'a str);

impl std::fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if is_plain(self.0) { f.write_str(self.0) } else { write!(f, "{:?}", self.0) }
    }
}

/// Counts events and lets one log line through per quiet period (10 s), so that a flood of
/// refusals cannot flood the log. Shared freely: every method takes `&self`.
pub struct QuietLog {
    /// [`monotonic_ms`] of the last line written (0: none yet).
    last_ms: AtomicU64,
    count: AtomicU64,
}

const QUIET_MS: u64 = 10_000;

impl QuietLog {
    pub const fn new() -> Self {
        Self { last_ms: AtomicU64::new(0), count: AtomicU64::new(0) }
    }

    /// `Some(events since the last line)` when a line may be written now.
    pub fn tick(&self) -> Option<u64> {
        let now = monotonic_ms() + QUIET_MS;
        let count = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < QUIET_MS
            || self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        self.count.fetch_sub(count, Ordering::Relaxed);
        Some(count)
    }
}

impl Default for QuietLog {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Untrusted;

    #[test]
    fn untrusted_values_cannot_break_or_forge_a_line() {
        assert_eq!(Untrusted("alice-01@example.com").to_string(), "alice-01@example.com");
        assert_eq!(Untrusted("a\nb").to_string(), r#""a\nb""#);
        assert_eq!(Untrusted("x error_code=FAKE").to_string(), r#""x error_code=FAKE""#);
        assert_eq!(Untrusted("\u{1b}[31mred").to_string(), r#""\u{1b}[31mred""#);
        assert_eq!(Untrusted("q\"uote\\").to_string(), r#""q\"uote\\""#);
        assert_eq!(Untrusted("").to_string(), r#""""#);
    }
}
