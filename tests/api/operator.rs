//! What an operator sees from the binary: the start-up line, warnings about misspelt variables,
//! and no secret in any message, including `.env` problems and URLs with credentials.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::helpers::{SECRET, taskgate_command};

/// Starts `taskgate serve` with `env` and returns it with every log line up to the listening line.
/// The caller stops (and waits for) the child.
#[allow(clippy::zombie_processes)]
pub fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, String) {
    let mut command = taskgate_command(dir);
    command
        .arg("serve")
        .env("TASKGATE_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite://{}/t.db", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log = String::new();
    // The log writer flushes within milliseconds; the listening line ends the start-up.
    for line in lines.by_ref() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("taskgate listening") {
            return (child, log);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
    panic!("taskgate did not start: {log}{stderr}");
}

pub fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_start_up_line_names_version_database_key_sources_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let (child, log) = start(
        dir.path(),
        &[
            ("BETTER_AUTH_SECRET", SECRET),
            ("TASKGATE_JWT_AUDIENCE", "https://app.example"),
            ("TASKGATE_LOG_FORMAT", "json"),
        ],
    );
    stop(child);
    let line: serde_json::Value = log
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .find(|line: &serde_json::Value| line["message"] == "taskgate listening")
        .unwrap();
    assert_eq!(line["version"], env!("CARGO_PKG_VERSION"));
    assert!(line["database"].as_str().unwrap().starts_with("sqlite://"), "{line}");
    assert_eq!(
        line["key_sources"],
        "its own accounts (EdDSA, /api/auth/jwks), BETTER_AUTH_SECRET (HS256)"
    );
    assert_eq!(line["issuer_enforced"], false);
    assert_eq!(line["audience_enforced"], true);
    assert!(line["max_connections"].as_u64().is_some_and(|n| n >= 64), "{line}");
    // A URL a terminal makes clickable, of the address it listens on.
    assert_eq!(line["url"], format!("http://{}/", line["address"].as_str().unwrap()), "{line}");
}

#[test]
fn a_misspelt_taskgate_variable_is_warned_about_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (child, log) = start(
        dir.path(),
        &[
            ("BETTER_AUTH_SECRET", SECRET),
            ("TASKGATE_JWT_AUDIENCEE", "https://app.example"),
            // The test and benchmark scripts' own variable: not a misspelt setting.
            ("TASKGATE_BIN", "/usr/local/bin/taskgate"),
        ],
    );
    stop(child);
    let warning = log.lines().find(|line| line.contains("TASKGATE_JWT_AUDIENCEE"));
    assert!(warning.is_some_and(|line| line.contains("WARN")), "{log}");
    assert!(!log.contains("TASKGATE_BIN"), "{log}");
    assert!(
        !log.contains("TASKGATE_LISTEN\n") && !log.contains("variable=TASKGATE_LISTEN"),
        "{log}"
    );
}

#[test]
fn urls_are_logged_without_credentials_or_query() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9: the fetch fails, which is logged, and the start goes on.
    let jwks = "http://keyuser:keypass-4d2c@127.0.0.1:9/api/auth/jwks?api_key=query-secret-9f1b";
    let (child, log) = start(
        dir.path(),
        &[
            ("TASKGATE_JWKS_URL", jwks),
            ("TASKGATE_JWT_ISSUER", "http://127.0.0.1:9"),
            ("TASKGATE_JWT_AUDIENCE", "http://127.0.0.1:9"),
        ],
    );
    stop(child);
    assert!(log.contains("http://127.0.0.1:9/api/auth/jwks"), "{log}");
    assert!(log.contains("JWKS fetch failed"), "{log}");
    for secret in ["keyuser", "keypass-4d2c", "query-secret-9f1b"] {
        assert!(!log.contains(secret), "{secret} reached the log: {log}");
    }
}

#[test]
fn a_refused_database_url_is_shown_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = taskgate_command(dir.path())
        .arg("serve")
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("TASKGATE_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", "mysql://admin:db-pass-77ab@db.internal/tasks?token=tok-31c9")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("db.internal"), "the message says which URL: {all}");
    assert!(!all.contains("db-pass-77ab") && !all.contains("tok-31c9"), "{all}");
}

#[test]
fn a_broken_env_file_is_reported_by_line_number_without_its_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "TASKGATE_LOG_FORMAT=text\nthis is not an assignment env-secret-5e0d\n",
    )
    .unwrap();
    let output = taskgate_command(dir.path())
        .args(["token", "--user", "u"])
        .env("BETTER_AUTH_SECRET", SECRET)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(!stderr.contains("env-secret-5e0d"), "{stderr}");
}

/// A running `taskgate serve` whose log is read until it stops.
struct Served {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    log: String,
    address: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts the binary with the test secret and `env`, and reads its log up to the listening
    /// line, which names the address.
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = taskgate_command(dir.path());
        command
            .arg("serve")
            .env("BETTER_AUTH_SECRET", SECRET)
            .env("TASKGATE_LISTEN", "127.0.0.1:0")
            .env("DATABASE_URL", format!("sqlite://{}/t.db", dir.path().display()))
            .envs(env.iter().copied())
            .stdout(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut log = String::new();
        let address = loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                let _ = child.wait();
                panic!("taskgate did not start: {log}");
            }
            log.push_str(&line);
            if let Some(rest) = line.split("address=").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        Self { child, stdout, log, address, _dir: dir }
    }

    /// Sends one raw HTTP/1.1 request (its head without the blank line) and returns the answer.
    fn request(&self, head: &str) -> String {
        self.request_with_body(head, "")
    }

    /// Like [`Served::request`], with `body` after the head.
    fn request_with_body(&self, head: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        write!(stream, "{head}\r\nConnection: close\r\n\r\n{body}").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// SIGTERM, then everything it logged until it exited.
    fn stop(mut self) -> String {
        use std::io::Read;
        std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        self.stdout.read_to_string(&mut self.log).unwrap();
        self.child.wait().unwrap();
        self.log
    }
}

#[test]
fn a_forged_user_id_cannot_break_a_log_line() {
    let served = Served::start(&[]);
    // A valid token whose user id carries a line break, a forged line and a terminal escape:
    // no user id may hold a control character, so it is refused, and nothing of it is logged raw.
    let evil = "mallory\n2026-01-01T00:00:00.000000Z  INFO request forged=1\u{1b}[2J";
    let token = crate::helpers::sign(&serde_json::json!({
        "sub": evil, "iat": crate::helpers::now(), "exp": crate::helpers::now() + 900
    }));
    let answer = served.request(&format!(
        "GET /api/bob/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}"
    ));
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("MISSING_UID_CLAIM"), "{answer}");
    let log = served.stop();
    assert!(log.lines().any(|line| line.contains("MISSING_UID_CLAIM")), "{log}");
    assert!(!log.lines().any(|line| line.starts_with("2026-01-01")), "a forged line: {log}");
    assert!(!log.contains('\u{1b}'), "a terminal escape reached the log");
}

/// Runs the binary with `env`, sends one request with a bad token and `X-Forwarded-For`, stops it,
/// and returns the `client` its refusal line names.
fn refused_client(env: &[(&str, &str)]) -> String {
    let served = Served::start(env);
    let answer = served.request(
        "GET /api/u/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-a-token\r\n\
         X-Forwarded-For: 203.0.113.7",
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let log = served.stop();
    let refusal = log.lines().find(|line| line.contains("request refused")).unwrap();
    refusal.split("client=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
}

#[test]
fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    assert_eq!(refused_client(&[]), "127.0.0.1", "a forged header does not move the client");
    assert_eq!(refused_client(&[("TASKGATE_TRUSTED_PROXIES", "10.0.0.0/8")]), "127.0.0.1");
    assert_eq!(refused_client(&[("TASKGATE_TRUSTED_PROXIES", "127.0.0.1")]), "203.0.113.7");
}

#[test]
fn the_token_command_prints_only_the_token_on_stdout_and_its_warnings_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let output = taskgate_command(dir.path())
        .args(["token", "--user", "u"])
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("TASKGATE_NOT_A_SETTING", "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(stdout.trim().split('.').count(), 3, "a JWT: {stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("TASKGATE_NOT_A_SETTING"));
}

#[test]
fn a_failed_sign_in_is_logged_with_the_plain_client_address() {
    let served = Served::start(&[]);
    let body = r#"{"email":"nobody@example.com","password":"not the password"}"#;
    let answer = served.request_with_body(
        &format!(
            "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/json\r\nContent-Length: {}",
            body.len()
        ),
        body,
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let log = served.stop();
    let failed = log.lines().find(|line| line.contains("sign-in failed")).unwrap();
    assert!(failed.contains("client=127.0.0.1"), "{failed}");
    assert!(!failed.contains("Some("), "{failed}");
}
