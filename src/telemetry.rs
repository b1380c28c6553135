//! Logging: one subscriber for the process, text or JSON, filtered by `RUST_LOG`, written to
//! standard output by a background thread so that no request waits on the terminal or the pipe.

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Lines buffered for the writer thread; past that, new lines are dropped (and counted by
/// tracing-appender) rather than stalling requests behind a slow log reader.
const BUFFERED_LINES: usize = 64 * 1024;

/// Starts logging. Keep the guard until the process exits: dropping it flushes what is queued.
pub fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // Buffered: the writer thread flushes whenever its queue runs dry, so a busy server writes
    // many lines per system call and an idle one shows each line at once.
    let stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
    let (writer, guard) =
        NonBlockingBuilder::default().buffered_lines_limit(BUFFERED_LINES).finish(stdout);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}

/// A value a client chose (a token's subject, a header), made safe for a log line: written as is
/// when it is plain (letters, digits, `-_.:@/+`), else quoted with every control character, quote
/// and backslash escaped, so it can neither end the line, forge a field, nor drive a terminal.
pub struct Untrusted<'a>(pub &'a str);

impl std::fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plain = !self.0.is_empty()
            && self.0.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@/+".contains(c));
        if plain { f.write_str(self.0) } else { write!(f, "{:?}", self.0) }
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
