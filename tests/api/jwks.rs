//! Tokens from JWKS issuers (a Better Auth server's `/api/auth/jwks`): every algorithm, rotation,
//! the refetch cool-down, an issuer that is down, and the key-confusion attacks.

use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

use crate::helpers::{TestApp, assert_error, now, spawn_app_with};
use crate::keys::{ALL, Alg, ISSUER, JwksServer, TestKey, access_claims};

/// How long a test waits for the service to pick up a change at the issuer (a cool-down or a
/// periodic refresh of one second), and how often it looks meanwhile.
const PATIENCE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);

async fn spawn_with_jwks(jwks: &JwksServer, cooldown_secs: u64, shared_secret: bool) -> TestApp {
    spawn_with_jwks_url(jwks.url.clone(), cooldown_secs, shared_secret).await
}

/// A service trusting the JWKS at `url` for `ISSUER`, with or without the shared secret too.
/// Without it the service runs on SQLite, the one backend that can make its own server secret.
async fn spawn_with_jwks_url(url: String, cooldown_secs: u64, shared_secret: bool) -> TestApp {
    let configure = move |s: &mut taskgate::config::Settings| {
        s.jwks_url = Some(url);
        s.jwt_issuer = Some(ISSUER.into());
        s.jwt_audience = Some(ISSUER.into());
        s.jwks_cooldown_secs = cooldown_secs;
        if !shared_secret {
            s.better_auth_secret = None;
        }
    };
    if shared_secret {
        spawn_app_with(configure).await
    } else {
        crate::helpers::spawn_sqlite_app_with(configure).await
    }
}

async fn status_for(app: &TestApp, user: &str, token: &str) -> u16 {
    app.list_tasks(user, token).await.status().as_u16()
}

#[tokio::test]
async fn tokens_of_every_better_auth_algorithm_are_accepted() {
    for alg in ALL {
        let key = TestKey::generate(alg, &format!("kid-{}", alg.name()));
        let jwks = JwksServer::start(&[&key]).await;
        let app = spawn_with_jwks(&jwks, 60, false).await;
        let token = key.token_for("ba-user");
        let created = app.create_task("ba-user", &token, &json!({ "title": alg.name() })).await;
        assert_eq!(created.status(), 201, "{alg:?}");
        assert_eq!(status_for(&app, "ba-user", &token).await, 200, "{alg:?}");
        assert_error(app.list_tasks("someone-else", &token).await, 403, "FORBIDDEN_USER_ACCESS")
            .await;
    }
}

#[tokio::test]
async fn a_key_verifies_only_its_own_algorithm() {
    let keys: Vec<TestKey> = ALL.iter().map(|alg| TestKey::generate(*alg, alg.name())).collect();
    let refs: Vec<&TestKey> = keys.iter().collect();
    let jwks = JwksServer::start(&refs).await;
    let app = spawn_with_jwks(&jwks, 60, true).await;
    for key in &keys {
        for other in ALL.iter().filter(|a| **a != key.alg) {
            // The key's kid with another algorithm named in the header: refused before any crypto.
            let token = key.sign_with_header(json!({ "alg": other.name() }), &access_claims("u"));
            assert_error(app.list_tasks("u", &token).await, 401, "INVALID_TOKEN_SIGNATURE").await;
        }
        // A signature by one key presented under another key's kid.
        let impostor = keys.iter().find(|k| k.alg != key.alg).unwrap();
        let token = impostor.sign_with_header(
            json!({ "kid": key.kid, "alg": impostor.alg.name() }),
            &access_claims("u"),
        );
        assert_error(app.list_tasks("u", &token).await, 401, "INVALID_TOKEN_SIGNATURE").await;
    }
}

#[tokio::test]
async fn hs256_macs_made_with_a_public_key_are_refused() {
    let rsa = TestKey::generate(Alg::Rs256, "rsa");
    let ed = TestKey::generate(Alg::EdDsa, "ed");
    let jwks = JwksServer::start(&[&rsa, &ed]).await;
    for with_secret in [false, true] {
        let app = spawn_with_jwks(&jwks, 60, with_secret).await;
        for key in [&rsa, &ed] {
            for secret in [key.public_bytes.clone(), key.jwk.to_string().into_bytes()] {
                let token = {
                    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                    header.kid = Some(key.kid.clone());
                    jsonwebtoken::encode(
                        &header,
                        &access_claims("u"),
                        &jsonwebtoken::EncodingKey::from_secret(&secret),
                    )
                    .unwrap()
                };
                assert_error(app.list_tasks("u", &token).await, 401, "INVALID_TOKEN_SIGNATURE")
                    .await;
            }
        }
    }
}

#[tokio::test]
async fn wrong_issuer_or_audience_is_401_invalid_token_claims() {
    let key = TestKey::generate(Alg::EdDsa, "k");
    let jwks = JwksServer::start(&[&key]).await;
    let app = spawn_with_jwks(&jwks, 60, false).await;
    let mut wrong_iss = access_claims("u");
    wrong_iss["iss"] = json!("https://evil.example");
    let mut wrong_aud = access_claims("u");
    wrong_aud["aud"] = json!("https://other.example");
    let mut no_aud = access_claims("u");
    no_aud.as_object_mut().unwrap().remove("aud");
    for claims in [wrong_iss, wrong_aud, no_aud] {
        assert_error(app.list_tasks("u", &key.sign(&claims)).await, 401, "INVALID_TOKEN_CLAIMS")
            .await;
    }
    let mut expired = access_claims("u");
    expired["exp"] = json!(now() - 5);
    assert_error(app.list_tasks("u", &key.sign(&expired)).await, 401, "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn rotation_new_kids_are_fetched_and_removed_kids_stop_working() {
    let old = TestKey::generate(Alg::EdDsa, "old");
    let new = TestKey::generate(Alg::EdDsa, "new");
    let jwks = JwksServer::start(&[&old]).await;
    let app = spawn_with_jwks(&jwks, 1, false).await;
    assert_eq!(status_for(&app, "u", &old.token_for("u")).await, 200);

    jwks.publish(&[&new]);
    assert_eq!(
        status_for(&app, "u", &new.token_for("u")).await,
        200,
        "an unknown kid triggers a refetch"
    );
    let response = app.list_tasks("u", &old.token_for("u")).await;
    assert_error(response, 401, "INVALID_TOKEN_SIGNATURE").await;
}

#[tokio::test]
async fn unknown_kids_cause_at_most_one_refetch_per_cooldown() {
    let key = TestKey::generate(Alg::Es256, "known");
    let jwks = JwksServer::start(&[&key]).await;
    let app = std::sync::Arc::new(spawn_with_jwks(&jwks, 60, false).await);
    assert_eq!(jwks.fetches(), 1, "fetched once at start");

    let mut attempts = Vec::new();
    for n in 0..25 {
        let app = app.clone();
        let token =
            key.sign_with_header(json!({ "kid": format!("unknown-{n}") }), &access_claims("u"));
        attempts.push(tokio::spawn(async move { app.list_tasks("u", &token).await.status() }));
    }
    for attempt in attempts {
        assert_eq!(attempt.await.unwrap(), 401);
    }
    assert_eq!(jwks.fetches(), 2, "one refetch for 25 unknown kids within the cool-down");
    assert_eq!(status_for(&app, "u", &key.token_for("u")).await, 200);
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_issuer_is_down() {
    let key = TestKey::generate(Alg::Rs256, "k");
    let jwks = JwksServer::start(&[&key]).await;
    let app = spawn_with_jwks(&jwks, 1, false).await;
    jwks.set_down(true);
    // An unknown kid makes it refetch, which fails; the cached key is kept.
    let unknown = key.sign_with_header(json!({ "kid": "other" }), &access_claims("u"));
    assert_error(app.list_tasks("u", &unknown).await, 401, "INVALID_TOKEN_SIGNATURE").await;
    assert!(jwks.fetches() >= 2);
    assert_eq!(status_for(&app, "u", &key.token_for("u")).await, 200);
}

#[tokio::test]
async fn with_no_usable_key_at_all_a_token_is_503_not_401() {
    let key = TestKey::generate(Alg::EdDsa, "k");
    let jwks = JwksServer::start(&[]).await;
    jwks.set_down(true);
    let app = spawn_with_jwks(&jwks, 1, false).await;
    let response = app.list_tasks("u", &key.token_for("u")).await;
    assert_eq!(response.headers()["retry-after"], "1");
    assert_error(response, 503, "SERVICE_UNAVAILABLE").await;

    // Once the issuer answers, the same token works as soon as the one-second cool-down since the
    // failed refetch has passed; until then it stays a 503, never a 401.
    jwks.set_down(false);
    jwks.publish(&[&key]);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let response = app.list_tasks("u", &key.token_for("u")).await;
        if response.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {} after {PATIENCE:?}", response.status());
        assert_error(response, 503, "SERVICE_UNAVAILABLE").await;
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test]
async fn key_carrying_headers_never_cause_a_request() {
    let key = TestKey::generate(Alg::EdDsa, "k");
    let attacker = TestKey::generate(Alg::EdDsa, "attacker");
    let jwks = JwksServer::start(&[&key]).await;
    let trap = JwksServer::start(&[&attacker]).await;
    let app = spawn_with_jwks(&jwks, 1, false).await;
    let header = json!({
        "kid": "attacker", "jku": trap.url, "x5u": trap.url,
        "jwk": attacker.jwk, "x5c": ["MIIB"]
    });
    let token = attacker.sign_with_header(header, &access_claims("u"));
    assert_error(app.list_tasks("u", &token).await, 401, "INVALID_TOKEN_SIGNATURE").await;
    assert_eq!(trap.fetches(), 0, "no request to a URL named by a token");
}

#[tokio::test]
async fn a_token_without_kid_is_refused_when_the_issuer_has_several_keys() {
    let one = TestKey::generate(Alg::EdDsa, "one");
    let two = TestKey::generate(Alg::EdDsa, "two");
    let jwks = JwksServer::start(&[&one, &two]).await;
    let app = spawn_with_jwks(&jwks, 60, false).await;
    let token = one.sign_with_header(json!({ "kid": null }), &access_claims("u"));
    assert_error(app.list_tasks("u", &token).await, 401, "INVALID_TOKEN_SIGNATURE").await;

    let single = JwksServer::start(&[&one]).await;
    let app = spawn_with_jwks(&single, 60, false).await;
    assert_eq!(status_for(&app, "u", &token).await, 200, "unambiguous with a single key");
}

#[tokio::test]
async fn weak_or_mislabelled_keys_in_the_jwks_are_skipped() {
    use base64::Engine;
    let good = TestKey::generate(Alg::EdDsa, "good");
    let mislabelled_ec = {
        let mut jwk = TestKey::generate(Alg::Es256, "mislabelled").jwk;
        jwk["alg"] = json!("RS256");
        jwk
    };
    let weak_rsa = {
        let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xc5u8; 128]);
        json!({ "kty": "RSA", "alg": "RS256", "kid": "weak", "n": modulus, "e": "AQAB" })
    };
    let jwks = JwksServer::start(&[]).await;
    jwks.publish_raw(vec![
        weak_rsa,
        mislabelled_ec,
        json!({ "kty": "oct", "k": "c2VjcmV0" }),
        good.jwk.clone(),
    ]);
    let app = spawn_with_jwks(&jwks, 60, false).await;
    assert_eq!(status_for(&app, "u", &good.token_for("u")).await, 200, "usable keys still load");
}

#[tokio::test]
async fn several_issuers_each_with_their_own_audience() {
    let a = TestKey::generate(Alg::EdDsa, "a");
    let b = TestKey::generate(Alg::Es256, "b");
    let jwks_a = JwksServer::start(&[&a]).await;
    let jwks_b = JwksServer::start(&[&b]).await;
    let issuers = json!([
        { "jwks_url": jwks_a.url, "issuer": "https://a.example", "audience": "https://a.example" },
        { "jwks_url": jwks_b.url, "issuer": "https://b.example", "audience": "taskgate" },
    ])
    .to_string();
    // Without the shared secret: SQLite, which makes its own server secret.
    let app = crate::helpers::spawn_sqlite_app_with(move |s| {
        s.better_auth_secret = None;
        s.jwks_issuers = Some(issuers);
    })
    .await;
    let claims = |iss: &str, aud: &str| {
        let mut claims = access_claims("u");
        claims["iss"] = json!(iss);
        claims["aud"] = json!(aud);
        claims
    };
    assert_eq!(
        status_for(&app, "u", &a.sign(&claims("https://a.example", "https://a.example"))).await,
        200
    );
    assert_eq!(status_for(&app, "u", &b.sign(&claims("https://b.example", "taskgate"))).await, 200);
    // B's key does not speak for issuer A, nor A's audience for B.
    let cross = b.sign(&claims("https://a.example", "https://a.example"));
    assert_eq!(status_for(&app, "u", &cross).await, 401);
    let wrong_aud = b.sign(&claims("https://b.example", "https://a.example"));
    assert_error(app.list_tasks("u", &wrong_aud).await, 401, "INVALID_TOKEN_CLAIMS").await;
}

#[tokio::test]
async fn a_jwks_url_without_issuer_and_audience_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings(&dir);
    settings.jwks_url = Some("http://127.0.0.1:9/api/auth/jwks".into());
    settings.better_auth_secret = None;
    let error = match taskgate::app::Application::build(settings).await {
        Ok(_) => panic!("must refuse"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("TASKGATE_JWT_ISSUER") && error.contains("TASKGATE_JWT_AUDIENCE"),
        "{error}"
    );
}

#[tokio::test]
async fn periodic_refresh_drops_removed_keys() {
    let key = TestKey::generate(Alg::EdDsa, "k");
    let jwks = JwksServer::start(&[&key]).await;
    let url = jwks.url.clone();
    let app = spawn_app_with(move |s| {
        s.jwks_url = Some(url);
        s.jwt_issuer = Some(ISSUER.into());
        s.jwt_audience = Some(ISSUER.into());
        s.jwks_refresh_secs = 1;
    })
    .await;
    assert_eq!(status_for(&app, "u", &key.token_for("u")).await, 200);
    let replacement = TestKey::generate(Alg::EdDsa, "k2");
    jwks.publish(&[&replacement]);
    // A known kid never causes a refetch: the old key works until a periodic refresh drops it.
    let deadline = Instant::now() + PATIENCE;
    let response = loop {
        let response = app.list_tasks("u", &key.token_for("u")).await;
        if response.status() != 200 {
            break response;
        }
        assert!(Instant::now() < deadline, "the removed key still works after {PATIENCE:?}");
        tokio::time::sleep(POLL).await;
    };
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], "INVALID_TOKEN_SIGNATURE");
}

#[tokio::test]
async fn redirects_are_followed_within_the_origin_only() {
    let key = TestKey::generate(Alg::EdDsa, "k");
    let jwks = JwksServer::start(&[&key]).await;
    let same_origin = jwks.redirect_url("/api/auth/jwks");
    let app = spawn_with_jwks_url(same_origin, 60, false).await;
    assert_eq!(status_for(&app, "u", &key.token_for("u")).await, 200);

    // The same server under another host name is another origin: not followed.
    let elsewhere = JwksServer::start(&[&key]).await;
    let other_host = elsewhere.url.replace("127.0.0.1", "localhost");
    let app = spawn_with_jwks_url(jwks.redirect_url(&other_host), 60, false).await;
    assert_error(app.list_tasks("u", &key.token_for("u")).await, 503, "SERVICE_UNAVAILABLE").await;
    assert_eq!(elsewhere.fetches(), 0, "the redirect to another origin was not followed");
}

#[tokio::test]
async fn an_oversized_jwks_is_refused() {
    let key = TestKey::generate(Alg::EdDsa, "k");
    let jwks = JwksServer::start(&[]).await;
    // About 300 KiB of well-formed keys, the real one among them.
    let mut keys: Vec<Value> = (0..3000)
        .map(|n| {
            let mut jwk = key.jwk.clone();
            jwk["kid"] = json!(format!("padding-key-number-{n:06}"));
            jwk
        })
        .collect();
    keys.push(key.jwk.clone());
    jwks.publish_raw(keys);
    let app = spawn_with_jwks(&jwks, 60, false).await;
    assert_error(app.list_tasks("u", &key.token_for("u")).await, 503, "SERVICE_UNAVAILABLE").await;
}

#[tokio::test]
async fn a_zero_cooldown_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings(&dir);
    settings.jwks_cooldown_secs = 0;
    let error = match taskgate::app::Application::build(settings).await {
        Ok(_) => panic!("must refuse"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("TASKGATE_JWKS_COOLDOWN"), "{error}");
}

#[tokio::test]
async fn the_same_subject_from_two_issuers_or_the_shared_secret_names_three_owners() {
    let a = TestKey::generate(Alg::EdDsa, "a");
    let b = TestKey::generate(Alg::Es256, "b");
    let jwks_a = JwksServer::start(&[&a]).await;
    let jwks_b = JwksServer::start(&[&b]).await;
    let issuers = json!([
        { "jwks_url": jwks_a.url, "issuer": "https://a.example", "audience": "taskgate" },
        { "jwks_url": jwks_b.url, "issuer": "https://b.example", "audience": "taskgate" },
    ])
    .to_string();
    // The shared secret stays configured beside both issuers.
    let app = spawn_app_with(move |s| s.jwks_issuers = Some(issuers)).await;
    let from = |key: &TestKey, iss: &str| {
        let mut claims = access_claims("alice");
        claims["iss"] = json!(iss);
        claims["aud"] = json!("taskgate");
        key.sign(&claims)
    };
    let tokens = [
        ("issuer A", from(&a, "https://a.example")),
        ("issuer B", from(&b, "https://b.example")),
        ("the shared secret", crate::helpers::token_for("alice")),
    ];
    for (name, token) in &tokens {
        let created = app.create_task("alice", token, &json!({ "title": name })).await;
        assert_eq!(created.status(), 201, "{name}");
    }
    let mut ids = Vec::new();
    for (name, token) in &tokens {
        let listed = app.list_tasks("alice", token).await;
        assert_eq!(listed.headers()["x-total-count"], "1", "{name}");
        let tasks: Value = listed.json().await.unwrap();
        assert_eq!(tasks[0]["title"], json!(name), "{name} sees only its own alice's task");
        assert_eq!(tasks[0]["user_id"], "alice");
        ids.push(tasks[0]["id"].as_str().unwrap().to_owned());
    }
    // Another issuer's alice's task, by id: a 404 for every verb, and nothing changes.
    let (_, token_b) = &tokens[1];
    assert_error(app.get_task("alice", token_b, &ids[0]).await, 404, "NOT_FOUND").await;
    assert_error(app.delete_task("alice", token_b, &ids[0]).await, 404, "NOT_FOUND").await;
    let (_, token_a) = &tokens[0];
    assert_eq!(app.get_task("alice", token_a, &ids[0]).await.status(), 200);
}
