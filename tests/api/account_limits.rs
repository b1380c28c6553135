//! The rate limits of /api/auth: per client address (Better Auth's defaults, IPv6 by /64), per
//! account for wrong passwords (without letting a stranger lock the owner out), shared through
//! the database, answered with 429, `Retry-After` and `X-Retry-After`.

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

async fn sign_in_with(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> Response {
    app.client
        .post(app.url("/api/auth/sign-in/email"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Waits until the failures counted after the answers (on another task) are all in.
async fn until_counted(app: &TestApp, forwarded_for: &str, email: &str) {
    for _ in 0..500 {
        let probe = sign_in_with(app, forwarded_for, email, "still a wrong password").await;
        if probe.status() == 429 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the wrong passwords were never counted");
}

#[tokio::test]
async fn a_stranger_guessing_from_many_addresses_cannot_keep_the_owner_out() {
    let app = limited_app("127.0.0.1").await;
    sign_up(&app, "ada@example.com").await;
    // Ten wrong passwords from ten addresses: the account's minute is full.
    for hop in 1..=10 {
        let address = format!("198.51.100.{hop}");
        let guess = sign_in_with(&app, &address, "ada@example.com", "wrong guess").await;
        assert_eq!(guess.status(), 401, "guess {hop}");
    }
    // An address that guessed wrong is not heard again this minute...
    until_counted(&app, "198.51.100.1", "ada@example.com").await;
    assert_limited(sign_in_with(&app, "198.51.100.2", "ADA@example.com", PASSWORD).await, 60).await;
    // ...but the owner's right password from an address without a wrong one gets through,
    let owner = sign_in_with(&app, "203.0.113.7", "ada@example.com", PASSWORD).await;
    assert_eq!(owner.status(), 200, "the owner is never locked out by a stranger");
    // and a fresh address is heard once: a wrong guess, then it waits too.
    let fresh = sign_in_with(&app, "203.0.113.8", "ada@example.com", "wrong again").await;
    assert_eq!(fresh.status(), 401);
    until_counted(&app, "203.0.113.8", "ada@example.com").await;
    // Another account is not affected.
    let other = sign_in_with(&app, "198.51.100.3", "eve@example.com", "anything at all").await;
    assert_eq!(other.status(), 401);
}

#[tokio::test]
async fn addresses_of_one_ipv6_64_share_one_limit() {
    let app = limited_app("127.0.0.1").await;
    // Four addresses of 2001:db8:1:2::/64: the fourth password request within 10 s is 429.
    for host in 1..=3 {
        let response =
            sign_in_from(&app, &format!("2001:db8:1:2::{host:x}"), "no@example.com").await;
        assert_eq!(response.status(), 401, "host {host}");
    }
    assert_limited(sign_in_from(&app, "2001:db8:1:2:ffff::9", "no@example.com").await, 10).await;
    // The mapped IPv4 form is the IPv4 address: the same limit.
    for _ in 0..3 {
        assert_eq!(sign_in_from(&app, "192.0.2.1", "no@example.com").await.status(), 401);
    }
    assert_limited(sign_in_from(&app, "::ffff:192.0.2.1", "no@example.com").await, 10).await;
    // Another /64 has its own.
    assert_eq!(sign_in_from(&app, "2001:db8:1:3::1", "no@example.com").await.status(), 401);
}

#[tokio::test]
async fn wrong_current_passwords_with_a_session_are_limited_per_account_and_audited() {
    let app = limited_app("127.0.0.1").await;
    let ada = sign_up(&app, "ada@example.com").await;
    let attempt = |hop: u32, path: &'static str, body: Value| {
        app.client
            .post(app.url(&format!("/api/auth{path}")))
            .header("x-forwarded-for", format!("198.51.100.{hop}"))
            .bearer_auth(&ada.bearer)
            .json(&body)
            .send()
    };
    for hop in 1..=10 {
        let response = if hop % 2 == 0 {
            attempt(hop, "/delete-user", json!({ "password": "a wrong password" })).await
        } else {
            let body = json!({ "currentPassword": "a wrong password", "newPassword": "another long passphrase" });
            attempt(hop, "/change-password", body).await
        };
        assert_auth_error(response.unwrap(), 400, "INVALID_PASSWORD").await;
    }
    let body = json!({ "currentPassword": PASSWORD, "newPassword": "another long passphrase" });
    assert_limited(attempt(11, "/change-password", body).await.unwrap(), 60).await;
    let audit: Value = app
        .client
        .get(app.url("/api/auth/audit"))
        .bearer_auth(&ada.bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wrong = audit.as_array().unwrap().iter().filter(|e| e["event"] == "wrong-password").count();
    assert_eq!(wrong, 10, "each wrong password is in the audit log: {audit}");
    // The account still exists: nothing was changed or deleted.
    assert_eq!(sign_in_with(&app, "203.0.113.1", "ada@example.com", PASSWORD).await.status(), 200);
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
