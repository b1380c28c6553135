//! `exp` is exclusive (RFC 7519 4.1.4): a token is expired from the second it names, plus leeway.

use serde_json::json;

use crate::helpers::{assert_error, now, sign, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_token_whose_exp_is_the_current_second_is_401_token_expired() {
    let app = spawn_app().await;
    // The server reads the clock after this line, and clocks only move forward: for the server,
    // now >= exp, whatever the timing.
    let token = sign(&json!({ "sub": "u", "exp": now() }));
    let response = app.list_tasks("u", &token).await;
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    assert_error(response, 401, "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn with_leeway_a_token_is_expired_from_exp_plus_leeway() {
    let app = spawn_app_with(|s| s.jwt_leeway = 5).await;
    let at_the_limit = sign(&json!({ "sub": "u", "exp": now() - 5 }));
    assert_error(app.list_tasks("u", &at_the_limit).await, 401, "TOKEN_EXPIRED").await;
    let within = sign(&json!({ "sub": "u", "exp": now() - 1 }));
    assert_eq!(app.list_tasks("u", &within).await.status(), 200);
}
