//! Start-up: configuration the service refuses, and graceful shutdown.

use std::time::Duration;
use taskgate::app::{Application, StartupError};
use taskgate::config::ConfigError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{test_settings, token_for};

async fn build_error(configure: impl FnOnce(&mut taskgate::config::Settings)) -> StartupError {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&dir);
    configure(&mut settings);
    match Application::build(settings).await {
        Ok(_) => panic!("the app should refuse to start"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_short_secret_is_refused_with_advice() {
    let error = build_error(|s| s.better_auth_secret = Some("too-short".into())).await;
    assert!(matches!(error, StartupError::Config(ConfigError::SecretTooShort(9))), "{error}");
    assert!(error.to_string().contains("openssl rand -base64 32"));
}

#[tokio::test]
async fn without_a_secret_postgres_is_refused_with_advice() {
    let error = build_error(|s| {
        s.better_auth_secret = None;
        s.database_url = "postgres://taskgate@127.0.0.1:9/taskgate".into();
    })
    .await;
    assert!(
        matches!(error, StartupError::Config(ConfigError::SecretRequiredWithPostgres)),
        "{error}"
    );
    assert!(error.to_string().contains("openssl rand -base64 32"));
}

#[tokio::test]
async fn leeway_over_60_seconds_is_refused() {
    let error = build_error(|s| s.jwt_leeway = 61).await;
    assert!(matches!(error, StartupError::Config(ConfigError::LeewayTooLarge(61))), "{error}");
}

#[tokio::test]
async fn an_unsupported_database_url_is_refused() {
    let error = build_error(|s| s.database_url = "mysql://localhost/x".into()).await;
    assert!(matches!(error, StartupError::Config(ConfigError::UnsupportedDatabase(_))), "{error}");
}

#[test]
fn the_binary_exits_with_a_message_on_a_short_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = crate::helpers::taskgate_command(dir.path())
        .arg("serve")
        .env("BETTER_AUTH_SECRET", "short")
        .env("TASKGATE_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite://{}/t.db", dir.path().display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("BETTER_AUTH_SECRET") && stderr.contains("openssl rand -base64 32"),
        "{stderr}"
    );
    assert!(!stderr.contains("short\""), "the secret itself is not echoed: {stderr}");
}

#[tokio::test]
async fn the_database_and_its_folder_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&dir);
    let path = dir.path().join("nested/folder/taskgate.db");
    settings.database_url = format!("sqlite://{}", path.display());
    let _app = Application::build(settings).await.unwrap();
    assert!(path.exists());
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build(test_settings(&dir)).await.unwrap();
    let address = format!("127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let body = r#"{"title":"finishing"}"#;
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // `Expect: 100-continue`, so that the server says when it has the request and starts reading
    // its body: from then on the request is in flight.
    let head = format!(
        "POST /api/u/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        token_for("u"),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = tokio::time::timeout(Duration::from_secs(10), read_head(&mut stream))
        .await
        .expect("the server reads the request's body");
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    stream.write_all(&body.as_bytes()[..5]).await.unwrap();

    stop.send(()).unwrap();
    // Shutdown has begun once the listener is closed and new connections are refused; the rest
    // of the body arrives after that.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "still accepting connections");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stream.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(&address).await.is_err(), "no longer listening");
}

/// Reads one response head (up to its blank line) from `stream`, and nothing after it.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("a response head");
        head.push(byte);
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test]
async fn settings_are_read_from_a_dot_env_file() {
    let app = crate::helpers::spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("BETTER_AUTH_SECRET={}\n", crate::helpers::SECRET),
    )
    .unwrap();
    let token = crate::helpers::mint_with_cli(dir.path(), &["--user", "from-dotenv"], None);
    assert_eq!(app.list_tasks("from-dotenv", &token).await.status(), 200);
}

#[test]
fn the_migrate_command_creates_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/migrated.db");
    let output = crate::helpers::taskgate_command(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", format!("sqlite://{}", path.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' \
             AND name IN ('tasks', 'idempotency_keys', 'task_owners')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 3);
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(version, migrations as i64, "every migration applied");
}

#[tokio::test]
async fn an_in_memory_sqlite_database_is_refused_with_a_message() {
    for url in ["sqlite://:memory:", "sqlite::memory:", "sqlite://t.db?mode=memory"] {
        let error = build_error(|s| s.database_url = url.into()).await;
        assert!(
            matches!(error, StartupError::Config(ConfigError::InMemoryDatabase(_))),
            "{url}: {error}"
        );
        assert!(error.to_string().contains("use a file"), "{error}");
    }
}

#[tokio::test]
async fn a_second_process_on_the_same_sqlite_file_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let first = Application::build(test_settings(&dir)).await.unwrap();
    let output = crate::helpers::taskgate_command(dir.path())
        .arg("serve")
        .env("BETTER_AUTH_SECRET", crate::helpers::SECRET)
        .env("TASKGATE_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("taskgate.db").display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another taskgate process is using"), "{stderr}");
    assert!(stderr.contains("PostgreSQL"), "the message says what to do instead: {stderr}");
    drop(first);
}

/// Runs `taskgate migrate` on `database_url` twice: the first says what it applied, the
/// second that there was nothing to do; neither prints a database NOTICE or a credential.
fn migrate_twice(database_url: &str, migrations_dir: &str) {
    let dir = tempfile::tempdir().unwrap();
    let migrations = std::fs::read_dir(migrations_dir).unwrap().count();
    let expected = [
        format!("applied migrations 1 to {migrations} (schema version {migrations})"),
        format!("is up to date (schema version {migrations})"),
    ];
    for expected in expected {
        let output = crate::helpers::taskgate_command(dir.path())
            .arg("migrate")
            .env("DATABASE_URL", database_url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stdout.contains(&expected), "{stdout}");
        assert!(!stdout.contains("search_path"), "{stdout}");
        assert!(!stderr.contains("NOTICE") && !stderr.contains("already exists"), "{stderr}");
    }
}

#[test]
fn the_migrate_command_says_what_it_applied_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    migrate_twice(&url, concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn the_migrate_command_creates_the_schema_on_postgres_too() {
    let url = crate::helpers::pg::required_database_url();
    let schema = crate::helpers::pg::TestSchema::create(&url).await;
    migrate_twice(&schema.url(), concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
    let (client, connection) =
        tokio_postgres::connect(&schema.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename IN ('tasks', 'task_owners', 'idempotency_keys')), \
             (SELECT max(version) FROM taskgate_migrations)",
            &[],
        )
        .await
        .unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i32>(1)),
        (3, migrations as i32),
        "applied once, in full"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_is_refused_at_start_without_its_password() {
    let error =
        build_error(|s| s.database_url = "postgres://app:hunter2@127.0.0.1:1/db".into()).await;
    let message = error.to_string();
    assert!(message.contains("cannot reach PostgreSQL at postgres://127.0.0.1:1/db"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn postgres_with_sslmode_require_refuses_a_server_certificate_that_does_not_verify() {
    let url = crate::helpers::pg::required_database_url();
    // The test server's certificate (if it has TLS at all) is not signed by a trusted root.
    let separator = if url.contains('?') { '&' } else { '?' };
    let error = build_error(|s| s.database_url = format!("{url}{separator}sslmode=require")).await;
    let message = error.to_string();
    assert!(message.contains("cannot reach PostgreSQL") && message.contains("TLS"), "{message}");
}
