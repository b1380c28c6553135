//! The HTTP edge under hostile clients: slow and silent connections, floods, one greedy user,
//! oversized uploads, odd request ids, write timeouts; and CORS, HSTS and metrics.

use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with, token_for};

/// Generous bound for "the server acts soon": the tests wait for an event, this only stops a hang.
const PATIENCE: Duration = Duration::from_secs(15);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection (or resets it); returns what was read.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server should have closed the connection");
    seen
}

#[tokio::test]
async fn a_client_that_dribbles_its_headers_is_disconnected_after_the_header_timeout() {
    let app = spawn_app_with(|s| s.header_timeout_secs = 1).await;
    let mut stream = connect(&app).await;
    let started = std::time::Instant::now();
    stream.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // One header byte every 200 ms: always "active", never done.
    let dribble = tokio::spawn(async move {
        for byte in
            b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter().cycle()
        {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut buffer = [0u8; 256];
    let closed = tokio::time::timeout(PATIENCE, reader.read(&mut buffer)).await;
    dribble.abort();
    assert!(matches!(closed, Ok(Ok(0) | Err(_))), "closed without an answer: {closed:?}");
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the timeout");
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(|s| s.header_timeout_secs = 1).await;
    let mut stream = connect(&app).await;
    assert!(read_until_closed(&mut stream).await.is_empty());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let app = spawn_app_with(|s| {
        s.header_timeout_secs = 1;
        s.idle_timeout_secs = 3;
    })
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buffer = [0u8; 1024];
    let n = stream.read(&mut buffer).await.unwrap();
    assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
    let idle_from = std::time::Instant::now();
    read_until_closed(&mut stream).await;
    let idle = idle_from.elapsed();
    assert!(idle >= Duration::from_millis(2500), "kept for the idle timeout: {idle:?}");
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once_and_the_cap_frees_up() {
    let app = spawn_app_with(|s| s.max_connections = Some(3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        // A complete exchange proves the connection holds a slot.
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buffer = [0u8; 1024];
        assert!(stream.read(&mut buffer).await.unwrap() > 0);
        held.push(stream);
    }
    let mut extra = connect(&app).await;
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(read_until_closed(&mut extra).await.is_empty(), "refused without an answer");
    drop(held);
    // Slots free as the server notices the closes.
    let mut served = false;
    for _ in 0..200 {
        if let Ok(response) = app.client.get(app.url("/healthz")).send().await
            && response.status() == 200
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(served, "closed connections give their slots back");
}

/// A connection from `source` (any 127.0.0.0/8 address is this machine) that has been served
/// once, so it is known to hold a slot; or `None` when the server closed it unanswered.
async fn served_connection_from(app: &TestApp, source: &str) -> Option<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let server = app.address.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(PATIENCE, stream.read(&mut buffer)).await.unwrap();
    match read {
        Ok(n) if n > 0 => {
            assert!(buffer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buffer));
            Some(stream)
        }
        _ => None,
    }
}

#[tokio::test]
async fn one_address_cannot_take_every_connection_while_others_are_served() {
    let app = spawn_app_with(|s| s.max_connections_per_address = 2).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(served_connection_from(&app, "127.0.0.1").await.expect("under the cap"));
    }
    assert!(
        served_connection_from(&app, "127.0.0.1").await.is_none(),
        "a third connection from the same address is closed unanswered"
    );
    let other = served_connection_from(&app, "127.0.0.2").await;
    assert!(other.is_some(), "another address is still served");
    drop(held);
    // The address's slots come back as the server notices the closes.
    let mut again = None;
    for _ in 0..200 {
        again = served_connection_from(&app, "127.0.0.1").await;
        if again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(again.is_some(), "closed connections give their address's slots back");
}

#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_the_per_address_cap() {
    let app = spawn_app_with(|s| {
        s.max_connections_per_address = 1;
        s.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(served_connection_from(&app, "127.0.0.1").await.expect("a proxy is exempt"));
    }
    let _other = served_connection_from(&app, "127.0.0.2").await.expect("under its cap");
    assert!(
        served_connection_from(&app, "127.0.0.2").await.is_none(),
        "any other address keeps its cap"
    );
}

/// Starts a create for `user` that stays in flight while `blocker` holds SQLite's write lock.
fn hold_request(app: &TestApp, user: &str) -> tokio::task::JoinHandle<u16> {
    let request = app
        .authed(app.client.post(app.url(&format!("/api/{user}/tasks"))), &token_for(user))
        .json(&json!({ "title": "held" }));
    tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
}

#[tokio::test]
async fn one_user_holding_requests_gets_429_while_others_and_health_checks_are_served() {
    let app = crate::helpers::spawn_sqlite_app_with(|s| {
        s.max_inflight_per_user = 4;
        s.db_busy_timeout_ms = 10_000;
    })
    .await;
    // Writes wait for the lock this connection holds: each is a request in flight.
    let blocker = rusqlite::Connection::open(&app.db_path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let held: Vec<_> = (0..4).map(|_| hold_request(&app, "greedy")).collect();
    let token = token_for("greedy");
    let mut refused = None;
    for _ in 0..200 {
        let response = app.list_tasks("greedy", &token).await;
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = refused.expect("the fifth request in flight is refused");
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_error(refused, 429, "TOO_MANY_REQUESTS").await;
    assert_eq!(app.list_tasks("fair", &token_for("fair")).await.status(), 200);
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    blocker.execute_batch("COMMIT").unwrap();
    for request in held {
        assert_eq!(request.await.unwrap(), 201, "the held writes complete");
    }
    assert_eq!(app.list_tasks("greedy", &token).await.status(), 200, "the user's slots are back");
}

#[tokio::test]
async fn an_oversized_upload_that_expects_100_continue_gets_413_without_continue() {
    let app = spawn_app().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/u/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n",
        token_for("u")
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 8192];
    let n = tokio::time::timeout(PATIENCE, stream.read(&mut buffer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&buffer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
}

#[tokio::test]
async fn a_chunked_body_past_the_limit_is_413_and_nothing_is_written() {
    // A chunked body declares no size, so the edge cannot refuse it up front: it is cut off at
    // the limit while it is read.
    let app = spawn_app().await;
    let token = token_for("u");
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/u/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut request = head.into_bytes();
    let chunk = format!("{{\"title\":\"{}\"}}", "x".repeat(70 * 1024));
    request.extend_from_slice(format!("{:x}\r\n{chunk}\r\n0\r\n\r\n", chunk.len()).as_bytes());
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let mut buffer = vec![0u8; 8192];
    while !String::from_utf8_lossy(&answer).contains("PAYLOAD_TOO_LARGE") {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buffer)).await.unwrap() {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    let list = app.list_tasks("u", &token).await;
    assert_eq!(list.headers()["x-total-count"], "0", "nothing was created");
}

#[tokio::test]
async fn request_ids_are_kept_only_when_short_visible_ascii() {
    let app = spawn_app().await;
    let id_for = |sent: &'static str| {
        let request = app.client.get(app.url("/healthz")).header("x-request-id", sent);
        async move {
            request.send().await.unwrap().headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(id_for("trace-abc-123").await, "trace-abc-123");
    let long: &'static str = Box::leak("x".repeat(129).into_boxed_str());
    for bad in [long, "has space", "tab\there"] {
        let answered = id_for(bad).await;
        assert_ne!(answered, bad);
        assert!(uuid::Uuid::parse_str(&answered).is_ok(), "a fresh id: {answered}");
    }
    let fresh = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(uuid::Uuid::parse_str(fresh.headers()["x-request-id"].to_str().unwrap()).is_ok());
}

#[tokio::test]
async fn a_write_still_queued_when_the_request_times_out_is_never_made() {
    let app = crate::helpers::spawn_sqlite_app_with(|s| {
        s.request_timeout_secs = 1;
        s.db_busy_timeout_ms = 10_000;
    })
    .await;
    // Another connection holds the write lock, so the writer waits at BEGIN IMMEDIATE.
    let blocker = rusqlite::Connection::open(&app.db_path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let response = app.create_task("slow", &token_for("slow"), &json!({ "title": "late" })).await;
    assert_error(response, 408, "REQUEST_TIMEOUT").await;
    blocker.execute_batch("COMMIT").unwrap();
    // The writer now runs the queued job; a later write in the same queue proves it has.
    app.new_task("slow", "after").await;
    let tasks: serde_json::Value =
        app.list_tasks("slow", &token_for("slow")).await.json().await.unwrap();
    let titles: Vec<_> = tasks.as_array().unwrap().iter().map(|t| t["title"].clone()).collect();
    assert_eq!(titles, vec![json!("after")], "the timed-out create wrote nothing");
}

const PAGE_ORIGIN: &str = "http://127.0.0.1:5173";

#[tokio::test]
async fn a_listed_origin_gets_cors_headers_and_a_204_preflight() {
    let app =
        spawn_app_with(|s| s.cors_origins = format!("{PAGE_ORIGIN}, https://app.example")).await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/u/tasks"))
        .header("origin", PAGE_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type, idempotency-key")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], PAGE_ORIGIN);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = headers["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    for header in ["authorization", "content-type", "if-match", "idempotency-key"] {
        assert!(allowed.contains(header), "{allowed}");
    }

    let listed = app
        .client
        .get(app.url("/api/u/tasks"))
        .bearer_auth(token_for("u"))
        .header("origin", PAGE_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.headers()["access-control-allow-origin"], PAGE_ORIGIN);
    let exposed =
        listed.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    for header in [
        "link",
        "x-total-count",
        "x-request-id",
        "location",
        "etag",
        "set-auth-jwt",
        "set-auth-token",
    ] {
        assert!(exposed.contains(header), "{exposed}");
    }
}

#[tokio::test]
async fn an_unlisted_origin_gets_no_cors_headers_at_all() {
    for origins in ["", PAGE_ORIGIN] {
        let app = spawn_app_with(|s| s.cors_origins = origins.to_owned()).await;
        for origin in ["https://evil.example", "null", "http://127.0.0.1:5174"] {
            let preflight = app
                .client
                .request(reqwest::Method::OPTIONS, app.url("/api/u/tasks"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .send()
                .await
                .unwrap();
            let simple = app
                .client
                .get(app.url("/api/u/tasks"))
                .bearer_auth(token_for("u"))
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            for response in [preflight, simple] {
                let cors: Vec<_> = response
                    .headers()
                    .keys()
                    .filter(|name| name.as_str().starts_with("access-control-"))
                    .collect();
                assert!(cors.is_empty(), "{origins:?} / {origin}: {cors:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_malformed_cors_origin_list_is_refused_at_start() {
    for bad in ["*", "https://app.example/", "app.example", "https://app.example/path"] {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::helpers::test_settings(&dir);
        settings.cors_origins = bad.to_owned();
        let error = taskgate::app::Application::build(settings).await.err().expect("refused");
        assert!(error.to_string().contains("TASKGATE_CORS_ORIGINS"), "{bad}: {error}");
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_public_url_is_https() {
    let https = spawn_app_with(|s| s.public_url = Some("https://todo.example".into())).await;
    let response = https.client.get(https.url("/healthz")).send().await.unwrap();
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
    let plain = spawn_app().await;
    let response = plain.client.get(plain.url("/healthz")).send().await.unwrap();
    assert!(response.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_without_user_ids() {
    let app = spawn_app_with(|s| s.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let metrics_url = format!("{}/metrics", app.metrics_address.as_deref().unwrap());
    app.new_task("metric-user-7f3a", "counted").await;
    app.list_tasks("metric-user-7f3a", &token_for("metric-user-7f3a")).await;
    app.list_tasks("metric-user-7f3a", "not-a-token").await;
    let text = app.client.get(&metrics_url).send().await.unwrap().text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|line| line.starts_with(prefix))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
    };
    let route = r#"route="/api/{user_id}/tasks""#;
    assert!(
        value(&format!(r#"taskgate_http_requests_total{{method="POST",{route},status="201"}}"#))
            >= 1.0
    );
    assert!(
        value(&format!(r#"taskgate_http_requests_total{{method="GET",{route},status="200"}}"#))
            >= 1.0
    );
    assert!(value(r#"taskgate_http_request_duration_seconds_bucket{method="GET","#) >= 0.0);
    assert!(value(r#"taskgate_auth_refusals_total{error_code="MALFORMED_TOKEN"}"#) >= 1.0);
    let db_gauge = match crate::helpers::pg::test_database_url() {
        Some(_) => "taskgate_db_connections",
        None => "taskgate_db_writer_queue",
    };
    assert!(value(db_gauge) >= 0.0);
    assert!(value("taskgate_list_cache_bytes") >= 0.0);
    assert!(value(r#"taskgate_build_info{version=""#) == 1.0);
    assert!(!text.contains("metric-user-7f3a"), "no user id in any label");
    // Metrics are not on the API's listener: there, /metrics is just a path of the web app.
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(public.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(!public.text().await.unwrap().contains("taskgate_"), "no metric on the public port");
}

#[tokio::test]
async fn a_body_that_trickles_past_the_body_timeout_is_a_408_and_writes_nothing() {
    let app = spawn_app_with(|s| s.body_timeout_secs = 1).await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/u/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{{\"title\":",
        token_for("u")
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // A byte every 300 ms: never idle, never done.
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let mut buffer = vec![0u8; 4096];
    let n = tokio::time::timeout(PATIENCE, reader.read(&mut buffer)).await.unwrap().unwrap();
    trickle.abort();
    let answer = String::from_utf8_lossy(&buffer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
    let listed = app.list_tasks("u", &token_for("u")).await;
    assert_eq!(listed.headers()["x-total-count"], "0");
}

#[tokio::test]
async fn errors_made_by_the_edge_under_api_auth_speak_better_auths_convention() {
    let app = spawn_app().await;
    let mut stream = connect(&app).await;
    stream
        .write_all(
            b"POST /api/auth/sign-up/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 10000000\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    let mut buffer = vec![0u8; 8192];
    let n = tokio::time::timeout(PATIENCE, stream.read(&mut buffer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&buffer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":"PAYLOAD_TOO_LARGE""#), "{answer}");
    assert!(!answer.contains("error_code"), "not the task API's body: {answer}");
    // And the task API keeps its own.
    let tasks = app.client.get(app.url("/api/u/nowhere/x/y")).send().await.unwrap();
    assert_error(tasks, 404, "NOT_FOUND").await;
}
