//! The rate limits of /api/auth: per client address (Better Auth's defaults), per account for
//! sign-ins, shared through the database, answered with 429, `Retry-After` and `X-Retry-After`.

use reqwest::Response;
use serde_json::{Value, json};

use crate::accounts::{PASSWORD, assert_auth_error, sign_in, sign_up};
use crate::helpers::{TestApp, spawn_app_with};
use taskgate::config::Switch;

async fn limited_app(trusted_proxies: &str) -> TestApp {
    let proxies = trusted_proxies.to_owned();
    spawn_app_with(move |s| {
        s.rate_limit = Switch::On;
        s.trusted_proxies = proxies;
    })
    .await
}

async fn sign_in_from(app: &TestApp, forwarded_for: &str, email: &str) -> Response {
    app.client
        .post(app.url("/api/auth/sign-in/email"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
}

async fn assert_limited(response: Response, at_most_secs: u64) {
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(response.headers()["x-retry-after"], retry.to_string().as_str());
    assert!((1..=at_most_secs).contains(&retry), "{retry}");
    assert_auth_error(response, 429, "TOO_MANY_REQUESTS").await;
}

#[tokio::test]
async fn a_fourth_password_request_from_one_address_within_10_seconds_is_429() {
    let app = limited_app("").await;
    sign_up(&app, "ada@example.com").await;
    for _ in 0..2 {
        assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await.status(), 200);
    }
    assert_limited(sign_in(&app, "ada@example.com", PASSWORD).await, 10).await;
    // Requests that check no password are under the general limit only.
    let session = app.client.get(app.url("/api/auth/get-session")).send().await.unwrap();
    assert_eq!(session.status(), 200);
}

#[tokio::test]
async fn a_forged_x_forwarded_for_resets_no_limit_unless_the_proxy_is_trusted() {
    let app = limited_app("").await;
    for hop in 1..=3 {
        let response = sign_in_from(&app, &format!("203.0.113.{hop}"), "nobody@example.com").await;
        assert_eq!(response.status(), 401);
    }
    assert_limited(sign_in_from(&app, "203.0.113.99", "nobody@example.com").await, 10).await;

    let behind_proxy = limited_app("127.0.0.1").await;
    for hop in 1..=4 {
        let response =
            sign_in_from(&behind_proxy, &format!("203.0.113.{hop}"), "nobody@example.com").await;
        assert_eq!(response.status(), 401, "each client address has its own limit");
    }
}

#[tokio::test]
async fn guesses_spread_over_many_addresses_reach_one_account_ten_times_a_minute() {
    let app = limited_app("127.0.0.1").await;
    sign_up(&app, "ada@example.com").await;
    for hop in 1..=10 {
        let response = sign_in_from(&app, &format!("198.51.100.{hop}"), "ada@example.com").await;
        assert_eq!(response.status(), 200, "attempt {hop}");
    }
    assert_limited(sign_in_from(&app, "198.51.100.11", "ADA@example.com").await, 60).await;
    // Another account is not affected.
    let other = sign_in_from(&app, "198.51.100.12", "eve@example.com").await;
    assert_eq!(other.status(), 401);
}

#[tokio::test]
async fn every_auth_request_counts_toward_100_a_minute_per_address() {
    let app = limited_app("").await;
    for _ in 0..100 {
        let response = app.client.get(app.url("/api/auth/get-session")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
    }
    let response = app.client.get(app.url("/api/auth/jwks")).send().await.unwrap();
    assert_limited(response, 60).await;
    // The task API has its own protections and is not counted here.
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}
