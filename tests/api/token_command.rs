//! `taskgate token` refuses a user id or a lifetime it should not mint, before signing anything.

use base64::Engine;
use serde_json::Value;

use crate::helpers::{SECRET, mint_with_cli, spawn_app, taskgate_command};

/// Runs `taskgate token` with `args` and the test secret; asserts it failed without printing a
/// token, and returns what it said on stderr.
fn refused(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = taskgate_command(dir.path())
        .arg("token")
        .args(args)
        .env("BETTER_AUTH_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{args:?} must fail");
    assert!(
        output.stdout.is_empty(),
        "{args:?} printed {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr).unwrap()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[test]
fn an_empty_user_is_refused() {
    let stderr = refused(&["--user", ""]);
    assert!(stderr.contains("--user") && stderr.contains("must not be empty"), "{stderr}");
}

#[test]
fn a_user_over_255_bytes_is_refused() {
    let stderr = refused(&["--user", &"é".repeat(128)]);
    assert!(stderr.contains("--user") && stderr.contains("at most 255 bytes"), "{stderr}");
    assert!(stderr.contains("256"), "says how long it was: {stderr}");
}

#[tokio::test]
async fn a_user_of_exactly_255_bytes_is_minted_and_accepted_by_the_service() {
    let app = spawn_app().await;
    let user = "u".repeat(255);
    let dir = tempfile::tempdir().unwrap();
    let token = mint_with_cli(dir.path(), &["--user", &user], Some(SECRET));
    assert_eq!(app.list_tasks(&user, &token).await.status(), 200);
}

#[test]
fn a_ttl_of_zero_is_refused() {
    let stderr = refused(&["--user", "u", "--ttl", "0"]);
    assert!(stderr.contains("--ttl") && stderr.contains("at least 1"), "{stderr}");
}

#[test]
fn a_ttl_over_one_year_is_refused_with_the_limit() {
    for ttl in ["31536001", "18446744073709551615"] {
        let stderr = refused(&["--user", "u", "--ttl", ttl]);
        assert!(stderr.contains("more than one year") && stderr.contains("31536000"), "{stderr}");
    }
}

#[test]
fn a_ttl_that_is_not_a_number_of_seconds_is_refused() {
    for ttl in ["99999999999999999999999", "abc", "1.5", "-1"] {
        let stderr = refused(&["--user", "u", &format!("--ttl={ttl}")]);
        assert!(stderr.contains("whole number of seconds"), "{ttl}: {stderr}");
    }
}

#[test]
fn a_ttl_of_exactly_one_year_is_minted_with_that_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let token = mint_with_cli(dir.path(), &["--user", "u", "--ttl", "31536000"], Some(SECRET));
    let claims = claims_of(&token);
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 31_536_000);
    let default = claims_of(&mint_with_cli(dir.path(), &["--user", "u"], Some(SECRET)));
    assert_eq!(default["exp"].as_u64().unwrap() - default["iat"].as_u64().unwrap(), 900);
}

#[tokio::test]
async fn the_readme_token_is_accepted_by_the_server_beside_it_with_nothing_exported() {
    // The server makes its secret beside the database; `token` with the same settings finds it.
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/t.db", dir.path().display());
    let (server, log) = crate::operator::start(dir.path(), &[]);
    let address = log.split("address=").nth(1).unwrap().split_whitespace().next().unwrap();
    let output = taskgate_command(dir.path())
        .args(["token", "--user", "alice"])
        .env("DATABASE_URL", &database)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let client = crate::helpers::http_client();
    let created = client
        .post(format!("http://{address}/api/alice/tasks"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "title": "Buy milk" }))
        .send()
        .await
        .unwrap();
    let listed =
        client.get(format!("http://{address}/api/alice/tasks")).bearer_auth(&token).send().await;
    crate::operator::stop(server);
    assert_eq!(created.status(), 201);
    assert_eq!(listed.unwrap().status(), 200);
}

#[test]
fn without_a_secret_on_postgresql_token_refuses_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = taskgate_command(dir.path())
        .args(["token", "--user", "alice"])
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nowhere")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BETTER_AUTH_SECRET"), "{stderr}");
}
