//! Hostile clients at the edge: slow request bodies over HTTP/1.1 and HTTP/2 that must not starve
//! other users, the cap on one address's requests in flight, `/readyz` at capacity, keep-alive
//! after a refusal, and requests without exactly one `Host`.

use bytes::Bytes;
use http_body_util::channel::{Channel, Sender};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{TestApp, assert_error, spawn_app_with, token_for};

/// Stops a hang; the tests wait for events, not for this.
const PATIENCE: Duration = Duration::from_secs(20);
/// Where the attacker connects from; the victims use 127.0.0.1 (both are this machine).
const ATTACKER: &str = "127.0.0.2";

async fn connect_from(app: &TestApp, source: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(app.address.trim_start_matches("http://").parse().unwrap()).await.unwrap()
}

/// A POST whose headers promise 100 body bytes, of which only 4 are sent: it stays in flight
/// until the body timeout.
async fn slow_body_over_http1(app: &TestApp, user: &str) -> TcpStream {
    let mut stream = connect_from(app, ATTACKER).await;
    let head = format!(
        "POST /api/{user}/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"ti",
        token_for(user)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Polls `probe` until it answers `status`; panics after [`PATIENCE`].
async fn until_status<F, Fut>(status: u16, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let seen = probe().await;
        if seen == status {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "never answered {status} (last {seen})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One more request from the attacker's address, with a body the server can read at once.
async fn attacker_probe_over_http1(app: &TestApp) -> u16 {
    let mut stream = connect_from(app, ATTACKER).await;
    let request = format!(
        "POST /api/probe/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n\
         {{\"title\":\"p\"}}",
        token_for("probe")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    answer.get(9..12).and_then(|code| code.parse().ok()).unwrap_or(0)
}

/// Other users keep being served while the attacker holds its requests.
async fn others_are_served(app: &TestApp) {
    let victim = token_for("victim");
    for _ in 0..5 {
        assert_eq!(app.list_tasks("victim", &victim).await.status(), 200);
        let created = app.create_task("victim", &victim, &serde_json::json!({"title": "t"})).await;
        assert_eq!(created.status(), 201);
        let session = app.client.get(app.url("/api/auth/get-session")).send().await.unwrap();
        assert_eq!(session.status(), 200, "the accounts API is served too");
    }
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "slow bodies hold no request slot, so slots are free");
}

#[tokio::test]
async fn slow_bodies_over_http1_from_one_address_hold_no_slot_of_other_users() {
    // Fewer slots than the attacker has requests: each slow body holding one would starve all.
    let app = spawn_app_with(|s| {
        s.max_concurrency = 40;
        s.max_inflight_per_address = 60;
        s.body_timeout_secs = 120;
    })
    .await;
    let mut held = Vec::new();
    for n in 0..60 {
        held.push(slow_body_over_http1(&app, &format!("attacker{n}")).await);
    }
    // The 61st from that address is refused: all 60 are in flight at the edge.
    until_status(429, || attacker_probe_over_http1(&app)).await;
    others_are_served(&app).await;
    drop(held);
    until_status(201, || attacker_probe_over_http1(&app)).await;
}

/// An HTTP/2 connection with prior knowledge (h2c), as the attacker.
async fn http2_connection(
    app: &TestApp,
) -> hyper::client::conn::http2::SendRequest<Channel<Bytes>> {
    let stream = connect_from(app, ATTACKER).await;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    sender
}

/// Starts a slow-body POST on `connection`: its response (when the server gives one before the
/// body is done) and the body's sender, which keeps the body open while held.
fn slow_body_over_http2(
    connection: &mut hyper::client::conn::http2::SendRequest<Channel<Bytes>>,
    app: &TestApp,
    user: &str,
) -> (tokio::task::JoinHandle<Result<hyper::Response<Incoming>, hyper::Error>>, Sender<Bytes>) {
    let (mut body, channel) = Channel::<Bytes>::new(1);
    let request = hyper::Request::post(format!("{}/api/{user}/tasks", app.address))
        .header("authorization", format!("Bearer {}", token_for(user)))
        .header("content-type", "application/json")
        .header("content-length", "100")
        .body(channel)
        .unwrap();
    let response = connection.send_request(request);
    let _ = body.try_send(hyper::body::Frame::data(Bytes::from_static(b"{\"ti")));
    (tokio::spawn(response), body)
}

#[tokio::test]
async fn slow_bodies_over_http2_streams_are_capped_per_address_and_starve_no_one() {
    let app = spawn_app_with(|s| {
        s.max_concurrency = 40;
        s.max_inflight_per_address = 64;
        s.body_timeout_secs = 120;
    })
    .await;
    let mut first = http2_connection(&app).await;
    let mut second = http2_connection(&app).await;
    let mut streams = Vec::new();
    for n in 0..100 {
        let connection = if n % 2 == 0 { &mut first } else { &mut second };
        connection.ready().await.unwrap();
        streams.push(slow_body_over_http2(connection, &app, &format!("attacker{n}")));
    }
    // 64 streams are in flight across both connections; the other 36 are refused at once,
    // without waiting for their bodies.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while streams.iter().filter(|(response, _)| response.is_finished()).count() < 36 {
        assert!(tokio::time::Instant::now() < deadline, "the streams over the cap are refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut refused = 0;
    let mut held = Vec::new();
    for (response, body) in streams {
        if response.is_finished() {
            let response = response.await.unwrap().unwrap();
            assert_eq!(response.status(), 429);
            assert_eq!(response.headers()["retry-after"], "1");
            refused += 1;
        } else {
            held.push((response, body));
        }
    }
    assert_eq!(refused, 36, "the address's cap is across connections and streams");
    assert_eq!(held.len(), 64);
    others_are_served(&app).await;
}

#[tokio::test]
async fn readyz_says_not_ready_while_every_request_slot_is_taken() {
    // A request slot is held while a write waits for SQLite's lock, which a test can hold.
    let app = crate::helpers::spawn_sqlite_app_with(|s| {
        s.max_concurrency = 2;
        s.db_busy_timeout_ms = 10_000;
    })
    .await;
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    let blocker = rusqlite::Connection::open(&app.db_path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let writes: Vec<_> = (0..2)
        .map(|n| {
            let request = app
                .authed(
                    app.client.post(app.url(&format!("/api/w{n}/tasks"))),
                    &token_for(&format!("w{n}")),
                )
                .json(&serde_json::json!({ "title": "waits" }));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    until_status(503, || async {
        app.client.get(app.url("/readyz")).send().await.unwrap().status().as_u16()
    })
    .await;
    let shed = app.list_tasks("other", &token_for("other")).await;
    assert_error(shed, 503, "SERVICE_UNAVAILABLE").await;
    blocker.execute_batch("COMMIT").unwrap();
    for write in writes {
        assert_eq!(write.await.unwrap(), 201);
    }
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
}

/// HTTP/1.1 responses read one at a time from a connection, bytes past one kept for the next.
struct Responses {
    stream: TcpStream,
    seen: Vec<u8>,
}

impl Responses {
    fn new(stream: TcpStream) -> Self {
        Self { stream, seen: Vec::new() }
    }

    /// The next response, head and `Content-Length` body.
    async fn next(&mut self) -> String {
        let mut buffer = [0u8; 4096];
        loop {
            if let Some(end) = self.seen.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.seen[..end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0usize);
                if self.seen.len() >= end + 4 + length {
                    let rest = self.seen.split_off(end + 4 + length);
                    let response = String::from_utf8_lossy(&self.seen).into_owned();
                    self.seen = rest;
                    return response;
                }
            }
            let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut buffer)).await;
            let n = read.expect("a response in time").unwrap_or(0);
            assert!(
                n > 0,
                "the connection closed before a whole response: {}",
                String::from_utf8_lossy(&self.seen)
            );
            self.seen.extend_from_slice(&buffer[..n]);
        }
    }
}

#[tokio::test]
async fn refused_posts_keep_the_connection_for_the_next_request() {
    let app = spawn_app_with(|_| {}).await;
    let mut responses = Responses::new(connect_from(&app, "127.0.0.1").await);
    let good = token_for("keep");
    // Refused before any handler reads the body: a bad token, another user's path.
    let refused = [
        ("Bearer not-a-token", "/api/keep/tasks", "401"),
        (&*format!("Bearer {good}"), "/api/someone-else/tasks", "403"),
    ];
    for round in 0..20 {
        let (authorization, path, status) = refused[round % 2];
        let body = r#"{"title":"refused"}"#;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\
             GET /api/keep/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good}\r\n\r\n",
            body.len()
        );
        // Pipelined: the GET is on the wire before the refusal is answered.
        responses.stream.write_all(request.as_bytes()).await.unwrap();
        let first = responses.next().await;
        assert!(first.starts_with(&format!("HTTP/1.1 {status}")), "{first}");
        let second = responses.next().await;
        assert!(second.starts_with("HTTP/1.1 200"), "round {round}: {second}");
    }
}

#[tokio::test]
async fn a_refusal_that_leaves_a_body_unread_says_connection_close() {
    let app = spawn_app_with(|_| {}).await;
    let mut responses = Responses::new(connect_from(&app, "127.0.0.1").await);
    let head = format!(
        "POST /api/u/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n",
        token_for("u")
    );
    responses.stream.write_all(head.as_bytes()).await.unwrap();
    let answer = responses.next().await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn requests_without_exactly_one_host_are_400() {
    let app = spawn_app_with(|_| {}).await;
    for request in [
        "GET /healthz HTTP/1.1\r\n\r\n".to_owned(),
        "GET /healthz HTTP/1.0\r\n\r\n".to_owned(),
        "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_owned(),
        format!("GET /api/u/tasks HTTP/1.1\r\nAuthorization: Bearer {}\r\n\r\n", token_for("u")),
    ] {
        let mut responses = Responses::new(connect_from(&app, "127.0.0.1").await);
        responses.stream.write_all(request.as_bytes()).await.unwrap();
        let answer = responses.next().await;
        assert!(answer.starts_with("HTTP/1."), "{answer}");
        assert!(answer[9..].starts_with("400"), "{request:?}: {answer}");
    }
    let mut responses = Responses::new(connect_from(&app, "127.0.0.1").await);
    responses.stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    assert!(responses.next().await.starts_with("HTTP/1.1 200"));
}
