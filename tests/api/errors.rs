//! The one error body for everything that is not a task or an auth failure, and resource limits.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_error, spawn_app, token_for};

#[tokio::test]
async fn health_needs_no_token() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn unknown_api_routes_are_json_404s() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/no/such/route")).send().await.unwrap();
    assert_error(response, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let response = app
        .authed(app.client.delete(app.url("/api/u/tasks")), &token_for("u"))
        .send()
        .await
        .unwrap();
    assert_error(response, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let response = app
        .authed(app.client.post(app.url("/api/u/tasks")), &token_for("u"))
        .header("content-type", "application/json")
        .body(r#"{"title": "unterminated"#)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "BAD_REQUEST").await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    for content_type in [Some("text/plain"), None] {
        let mut request = app
            .authed(app.client.post(app.url("/api/u/tasks")), &token_for("u"))
            .body(r#"{"title":"x"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        assert_error(request.send().await.unwrap(), 415, "UNSUPPORTED_MEDIA_TYPE").await;
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let body = json!({ "title": "x", "description": "d".repeat(70 * 1024) });
    let response = app.create_task("u", &token_for("u"), &body).await;
    assert_error(response, 413, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/u/tasks", "/nowhere", "/openapi.json"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_api_and_its_security() {
    let app = spawn_app().await;
    let doc: Value =
        app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let scheme = &doc["components"]["securitySchemes"]["BearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/api/{user_id}/tasks", "get"),
        ("/api/{user_id}/tasks", "post"),
        ("/api/{user_id}/tasks/{id}", "get"),
        ("/api/{user_id}/tasks/{id}", "put"),
        ("/api/{user_id}/tasks/{id}", "delete"),
        ("/api/{user_id}/tasks/{id}/complete", "patch"),
    ];
    for (path, method) in expected {
        let operation = &paths[path][method];
        assert_eq!(operation["security"], json!([{ "BearerAuth": [] }]), "{method} {path}");
    }
    let schemas = &doc["components"]["schemas"];
    for schema in ["Task", "TaskInput", "ErrorBody", "ErrorCode"] {
        assert!(schemas.get(schema).is_some(), "schema {schema}");
    }
    let codes = schemas["ErrorCode"].to_string();
    for code in [
        "MISSING_TOKEN",
        "TOKEN_EXPIRED",
        "FORBIDDEN_USER_ACCESS",
        "VALIDATION_ERROR",
        "SERVICE_UNAVAILABLE",
    ] {
        assert!(codes.contains(code), "{code} in {codes}");
    }
}

#[tokio::test]
async fn the_docs_page_is_served_without_the_internet() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "a Swagger UI page");
    assert!(!html.contains("https://"), "no asset is fetched from elsewhere");
    let bundle = app.client.get(app.url("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
}

/// Sends a create whose write waits while `blocker` holds SQLite's write lock: a request that
/// stays in flight (a slow body no longer does: bodies are read before a request takes a slot).
async fn start_held_request(address: &str, token: &str) -> tokio::net::TcpStream {
    let mut stream =
        tokio::net::TcpStream::connect(address.trim_start_matches("http://")).await.unwrap();
    let body = r#"{"title":"held"}"#;
    let head = format!(
        "POST /api/u/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_are_shed_with_503_but_health_checks_are_not() {
    let app = crate::helpers::spawn_sqlite_app_with(|s| {
        s.max_concurrency = 1;
        s.db_busy_timeout_ms = 10_000;
    })
    .await;
    let token = token_for("u");
    let blocker = rusqlite::Connection::open(&app.db_path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut held = start_held_request(&app.address, &token).await;
    // Wait until the held request owns the one slot: another request is then shed.
    let mut shed = None;
    for _ in 0..500 {
        let response =
            app.client.get(app.url("/api/u/tasks")).bearer_auth(&token).send().await.unwrap();
        if response.status() == 503 {
            shed = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let response = shed.expect("a request beyond the limit is shed");
    assert_eq!(response.headers()["retry-after"], "1");
    assert_error(response, 503, "SERVICE_UNAVAILABLE").await;
    let alive = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), 200, "/healthz is never shed");
    // /readyz is answered too, and tells a load balancer the truth: no slot is free.
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_error(ready, 503, "SERVICE_UNAVAILABLE").await;
    // The auth API shares the one limit, and answers in its own convention; the app's page is
    // static and never shed.
    let session = app.client.get(app.url("/api/auth/get-session")).send().await.unwrap();
    assert_eq!(session.status(), 503);
    assert_eq!(session.headers()["retry-after"], "1", "the auth API says when to retry too");
    let body: serde_json::Value = session.json().await.unwrap();
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the app's page is never shed");
    blocker.execute_batch("COMMIT").unwrap();
    let mut answer = Vec::new();
    held.read_to_end(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 201"));
    // Capacity comes back once the held request is done.
    let listed = app.client.get(app.url("/api/u/tasks")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(listed.status(), 200, "capacity is released");
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_request_that_runs_past_the_timeout_is_a_json_408() {
    let app = crate::helpers::spawn_sqlite_app_with(|s| {
        s.request_timeout_secs = 1;
        s.db_busy_timeout_ms = 10_000;
    })
    .await;
    let blocker = rusqlite::Connection::open(&app.db_path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut held = start_held_request(&app.address, &token_for("u")).await;
    let mut response = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), held.read_to_end(&mut response))
        .await
        .expect("the server answers by itself")
        .unwrap();
    blocker.execute_batch("COMMIT").unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains(r#""error_code":"REQUEST_TIMEOUT""#), "{response}");
}

#[tokio::test]
async fn a_locked_database_is_a_fast_503_and_loses_nothing() {
    let app = crate::helpers::spawn_sqlite_app_with(|_| {}).await;
    let token = token_for("u");
    app.new_task("u", "before").await;
    let locker = rusqlite::Connection::open(&app.db_path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let response = app.create_task("u", &token, &json!({ "title": "during" })).await;
    assert_eq!(response.headers()["retry-after"], "1");
    assert_error(response, 503, "SERVICE_UNAVAILABLE").await;
    locker.execute_batch("ROLLBACK").unwrap();
    let response = app.create_task("u", &token, &json!({ "title": "after" })).await;
    assert_eq!(response.status(), 201);
    let titles: Vec<Value> = app.list_tasks("u", &token).await.json().await.unwrap();
    let titles: Vec<&str> = titles.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["after", "before"]);
}

#[tokio::test]
async fn an_internal_failure_is_a_500_without_internals() {
    let app = crate::helpers::spawn_sqlite_app_with(|_| {}).await;
    let token = token_for("u");
    let sabotage = rusqlite::Connection::open(&app.db_path).unwrap();
    sabotage.execute_batch("DROP TABLE tasks").unwrap();
    let response = app.create_task("u", &token, &json!({ "title": "x" })).await;
    let body = assert_error(response, 500, "INTERNAL_ERROR").await;
    let text = body.to_string().to_lowercase();
    for leak in ["sqlite", "table", "tasks", "select", "insert"] {
        assert!(!text.contains(leak), "{leak} leaked in {text}");
    }
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn a_locked_row_on_postgres_is_a_fast_503_and_loses_nothing() {
    let url = crate::helpers::pg::required_database_url();
    let schema = crate::helpers::pg::TestSchema::create(&url).await;
    let app = crate::helpers::spawn(None, |s| {
        s.database_url = schema.url();
        s.db_statement_timeout_ms = 300;
    })
    .await;
    let token = token_for("u");
    app.new_task("u", "before").await;
    let (locker, connection) =
        tokio_postgres::connect(&schema.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    locker.batch_execute("BEGIN; SELECT * FROM task_owners FOR UPDATE").await.unwrap();
    let started = std::time::Instant::now();
    let response = app.create_task("u", &token, &json!({ "title": "during" })).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(response.headers()["retry-after"], "1");
    assert_error(response, 503, "SERVICE_UNAVAILABLE").await;
    locker.batch_execute("ROLLBACK").await.unwrap();
    let response = app.create_task("u", &token, &json!({ "title": "after" })).await;
    assert_eq!(response.status(), 201);
    let titles: Vec<Value> = app.list_tasks("u", &token).await.json().await.unwrap();
    let titles: Vec<&str> = titles.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["after", "before"]);
}
