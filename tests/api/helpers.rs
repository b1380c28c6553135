//! Test harness: a real server on port 0 with a fresh database (SQLite, or a fresh PostgreSQL
//! schema when `TEST_DATABASE_URL` is set), and typed request helpers.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};
use taskgate::app::Application;
use taskgate::config::{LogFormat, Settings, Switch, TokenAlg};
use taskgate::store::sqlite::Synchronous;
use tempfile::TempDir;

#[path = "../support/pg.rs"]
pub mod pg;

pub const SECRET: &str = "an-hs256-test-secret-of-at-least-32-bytes";

/// Settings a test starts from: port 0, a database in `dir`, the test secret.
pub fn test_settings(dir: &TempDir) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.path().join("taskgate.db").display()),
        better_auth_secret: Some(SECRET.into()),
        jwt_issuer: None,
        jwt_audience: None,
        jwks_url: None,
        jwks_issuers: None,
        jwks_cooldown_secs: 60,
        jwks_refresh_secs: 300,
        jwt_leeway: 0,
        sqlite_synchronous: Synchronous::Normal,
        db_busy_timeout_ms: 200,
        db_max_connections: 8,
        db_acquire_timeout_ms: 1000,
        db_statement_timeout_ms: 1500,
        max_tasks_per_user: 10_000,
        list_cache_mb: 16,
        max_concurrency: 1024,
        request_timeout_secs: 30,
        shutdown_timeout_secs: 5,
        log_format: LogFormat::Text,
        header_timeout_secs: 10,
        idle_timeout_secs: 60,
        body_timeout_secs: 10,
        max_connections: None,
        max_connections_per_address: 256,
        max_inflight_per_user: 32,
        max_inflight_per_address: 256,
        cors_origins: String::new(),
        trusted_origins: String::new(),
        // Tests sign in far more often than the limits allow; the limits' own tests turn them on.
        rate_limit: Switch::Off,
        strict_sessions: false,
        token_alg: TokenAlg::EdDsa,
        keys_reload_secs: 30,
        metrics_listen: None,
        trusted_proxies: String::new(),
        public_url: None,
    }
}

pub struct TestApp {
    pub address: String,
    /// `http://host:port` of the metrics listener, when the settings asked for one.
    pub metrics_address: Option<String>,
    pub client: Client,
    /// The SQLite file, when the app runs on SQLite.
    pub db_path: PathBuf,
    /// The PostgreSQL schema, when the app runs on PostgreSQL; dropped with the app.
    _schema: Option<pg::TestSchema>,
    _dir: TempDir,
}

/// An app on the backend under test: PostgreSQL when `TEST_DATABASE_URL` is set, else SQLite.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let schema = match pg::test_database_url() {
        Some(url) => Some(pg::TestSchema::create(&url).await),
        None => None,
    };
    spawn(schema, configure).await
}

/// An app on SQLite whatever the environment, for tests that reach into the database file.
pub async fn spawn_sqlite_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(None, configure).await
}

/// An app on `schema` (PostgreSQL), or on SQLite when `None`, after `configure`.
pub async fn spawn(
    schema: Option<pg::TestSchema>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&dir);
    if let Some(schema) = &schema {
        settings.database_url = schema.url();
    }
    configure(&mut settings);
    let db_path = dir.path().join("taskgate.db");
    let app = Application::build(settings).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_addr().map(|addr| format!("http://{addr}"));
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp { address, metrics_address, client: http_client(), db_path, _schema: schema, _dir: dir }
}

/// The `taskgate` binary run in `dir`, with no taskgate configuration inherited from the
/// environment the tests run in.
pub fn taskgate_command(dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_taskgate"));
    command.current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("TASKGATE_") || name == "BETTER_AUTH_SECRET" || name == "DATABASE_URL" {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `taskgate token` with `args` in `dir` and returns the token it printed.
pub fn mint_with_cli(dir: &std::path::Path, args: &[&str], secret: Option<&str>) -> String {
    let mut command = taskgate_command(dir);
    command.arg("token").args(args);
    if let Some(secret) = secret {
        command.env("BETTER_AUTH_SECRET", secret);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// An HTTP client for talking to the server under test.
pub fn http_client() -> Client {
    taskgate::ground::tls::install_tls_provider();
    Client::new()
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An HS256 token with the given claims, signed with `SECRET`.
pub fn sign(claims: &Value) -> String {
    sign_with(claims, SECRET.as_bytes())
}

pub fn sign_with(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret))
        .unwrap()
}

/// A valid access token for `user`, as Better Auth's HS256 deployments send it.
pub fn token_for(user: &str) -> String {
    sign(&json!({ "sub": user, "iat": now(), "exp": now() + 900 }))
}

/// A token with a hand-written header and payload (any JSON text), HS256-signed with `SECRET`.
pub fn raw_token(header: &str, payload: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{input}.{signature}")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn authed(&self, builder: RequestBuilder, token: &str) -> RequestBuilder {
        builder.header("Authorization", format!("Bearer {token}"))
    }

    pub async fn list_tasks(&self, user: &str, token: &str) -> Response {
        self.authed(self.client.get(self.url(&format!("/api/{user}/tasks"))), token)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_task(&self, user: &str, token: &str, body: &Value) -> Response {
        self.authed(self.client.post(self.url(&format!("/api/{user}/tasks"))), token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a task for `user` and returns it.
    pub async fn new_task(&self, user: &str, title: &str) -> Value {
        let response = self.create_task(user, &token_for(user), &json!({ "title": title })).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn get_task(&self, user: &str, token: &str, id: &str) -> Response {
        self.authed(self.client.get(self.url(&format!("/api/{user}/tasks/{id}"))), token)
            .send()
            .await
            .unwrap()
    }

    pub async fn replace_task(&self, user: &str, token: &str, id: &str, body: &Value) -> Response {
        self.authed(self.client.put(self.url(&format!("/api/{user}/tasks/{id}"))), token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_task(&self, user: &str, token: &str, id: &str) -> Response {
        self.authed(self.client.delete(self.url(&format!("/api/{user}/tasks/{id}"))), token)
            .send()
            .await
            .unwrap()
    }

    pub async fn complete_task(
        &self,
        user: &str,
        token: &str,
        id: &str,
        body: Option<&Value>,
    ) -> Response {
        let builder = self.authed(
            self.client.patch(self.url(&format!("/api/{user}/tasks/{id}/complete"))),
            token,
        );
        let builder = match body {
            Some(body) => builder.json(body),
            None => builder,
        };
        builder.send().await.unwrap()
    }
}

/// Asserts the one error body and returns it.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    if response.status() != status {
        let actual = response.status();
        panic!("status {actual}, not {status}: {}", response.text().await.unwrap_or_default());
    }
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "error bodies are JSON"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], code, "error_code in {body}");
    assert_eq!(body["status_code"], status, "status_code in {body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "detail in {body}");
    body
}
