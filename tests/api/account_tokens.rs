//! The access tokens the service's own accounts get (GET /api/auth/token, `set-auth-jwt`), the
//! JWKS that publishes their key, and the task API accepting them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::account_sessions::bearer_post;
use crate::accounts::{SignedIn, assert_auth_error, get_session, sign_up};
use crate::helpers::{TestApp, spawn_app, spawn_app_with, spawn_sqlite_app_with};
use crate::keys::{Alg, TestKey};

async fn jwt_for(app: &TestApp, signed: &SignedIn) -> String {
    let response = app
        .client
        .get(app.url("/api/auth/token"))
        .header("cookie", &signed.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

fn segment(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn jwks(app: &TestApp) -> Value {
    app.client.get(app.url("/api/auth/jwks")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_token_is_a_15_minute_eddsa_jwt_shaped_as_better_auth_makes_them() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let jwt = jwt_for(&app, &up).await;
    let header = segment(&jwt, 0);
    let jwks = jwks(&app).await;
    let kid = jwks["keys"][0]["kid"].as_str().unwrap();
    assert_eq!(header, json!({ "alg": "EdDSA", "kid": kid }), "no typ, as Better Auth");
    assert_eq!(kid.len(), 32);

    let claims = segment(&jwt, 1);
    let session: Value = get_session(&app, ("cookie", &up.cookie)).await.json().await.unwrap();
    assert_eq!(claims["sub"], up.user_id());
    assert_eq!(claims["id"], up.user_id());
    assert_eq!(claims["sid"], session["session"]["id"]);
    assert_eq!(claims["iss"], app.address, "the default public URL is http://{{listen address}}");
    assert_eq!(claims["aud"], app.address);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["name"], "Ada");
    assert_eq!(claims["emailVerified"], false);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert!(claims.get("nbf").is_none() && claims.get("jti").is_none());

    // It verifies with the published key, as any verifier would check it.
    let jwk = &jwks["keys"][0];
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert!(jwk.get("use").is_none());
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&app.address]);
    validation.set_audience(&[&app.address]);
    jsonwebtoken::decode::<Value>(&jwt, &key, &validation).unwrap();
}

#[tokio::test]
async fn the_task_api_accepts_the_token_for_the_users_own_tasks_only() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let jwt = jwt_for(&app, &up).await;
    let created = app.create_task(up.user_id(), &jwt, &json!({ "title": "from an account" })).await;
    assert_eq!(created.status(), 201);
    let listed: Value = app.list_tasks(up.user_id(), &jwt).await.json().await.unwrap();
    assert_eq!(listed[0]["title"], "from an account", "{listed}");
    assert_eq!(app.list_tasks("someone-else", &jwt).await.status(), 403);
}

#[tokio::test]
async fn get_session_hands_out_the_token_in_set_auth_jwt() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let response = get_session(&app, ("authorization", &format!("Bearer {}", up.bearer))).await;
    let jwt = response.headers()["set-auth-jwt"].to_str().unwrap().to_owned();
    assert_eq!(segment(&jwt, 1)["sub"], up.user_id());
    assert_eq!(app.list_tasks(up.user_id(), &jwt).await.status(), 200);
    let anonymous = app.client.get(app.url("/api/auth/get-session")).send().await.unwrap();
    assert!(anonymous.headers().get("set-auth-jwt").is_none());
}

#[tokio::test]
async fn without_a_session_there_is_no_token() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/auth/token")).send().await.unwrap();
    assert_auth_error(response, 401, "UNAUTHORIZED").await;
    let bogus = app
        .client
        .get(app.url("/api/auth/token"))
        .header("authorization", "Bearer abcdefghijklmnopqrstuvwxyz012345")
        .send()
        .await
        .unwrap();
    assert_auth_error(bogus, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_our_kid_and_issuer_is_refused() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let genuine = segment(&jwt_for(&app, &up).await, 1);
    let kid = jwks(&app).await["keys"][0]["kid"].as_str().unwrap().to_owned();
    let forger = TestKey::generate(Alg::EdDsa, &kid);
    let forged = forger.sign(&genuine);
    assert_eq!(app.list_tasks(up.user_id(), &forged).await.status(), 401);
}

#[tokio::test]
async fn the_signing_key_is_stored_with_its_private_half_sealed() {
    let app = spawn_sqlite_app_with(|_| {}).await;
    let published = jwks(&app).await;
    let db = rusqlite::Connection::open(&app.db_path).unwrap();
    let (kid, public, sealed): (String, Vec<u8>, Vec<u8>) = db
        .query_row("SELECT kid, public_key, sealed_private_key FROM signing_keys", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .unwrap();
    assert_eq!(published["keys"][0]["kid"], kid);
    assert_eq!(published["keys"][0]["x"], URL_SAFE_NO_PAD.encode(&public));
    // A 12-byte nonce, the 32-byte seed encrypted, a 16-byte tag.
    assert_eq!(sealed.len(), 12 + 32 + 16);
}

#[tokio::test]
async fn with_a_public_url_it_is_the_issuer_and_audience() {
    let app = spawn_app_with(|s| s.public_url = Some("https://todo.example/".into())).await;
    let up = sign_up(&app, "ada@example.com").await;
    let claims = segment(&jwt_for(&app, &up).await, 1);
    assert_eq!(claims["iss"], "https://todo.example");
    assert_eq!(claims["aud"], "https://todo.example");
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn instances_sharing_a_postgres_database_share_one_key_and_accept_each_others_tokens() {
    let url = crate::helpers::pg::required_database_url();
    let schema = crate::helpers::pg::TestSchema::create(&url).await;
    let shared = |s: &mut taskgate::config::Settings| {
        s.database_url = schema.url();
        s.public_url = Some("http://taskgate.test".into());
    };
    let (a, b) = tokio::join!(spawn_app_with(shared), spawn_app_with(shared));
    assert_eq!(jwks(&a).await, jwks(&b).await, "one first key, whichever started first");
    let up = sign_up(&a, "ada@example.com").await;
    let jwt = jwt_for(&a, &up).await;
    assert_eq!(b.list_tasks(up.user_id(), &jwt).await.status(), 200);
    let session = get_session(&b, ("cookie", &up.cookie)).await;
    assert_eq!(session.json::<Value>().await.unwrap()["user"]["id"], up.user_id());
}

async fn sign_out_with_bearer(app: &TestApp, signed: &SignedIn) {
    assert_eq!(bearer_post(app, "/sign-out", signed, &json!({})).await.status(), 200);
}

/// Sends `request` again and again until it is refused (401), every answer before being
/// `accepted`; the refusal. Fails once `within` has passed since `since`.
async fn refused_within<F, Fut>(
    since: std::time::Instant,
    within: std::time::Duration,
    accepted: u16,
    mut request: F,
) -> reqwest::Response
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    loop {
        let response = request().await;
        if response.status() == 401 {
            return response;
        }
        assert_eq!(response.status(), accepted);
        assert!(since.elapsed() < within, "still accepted after {within:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn by_default_a_token_outlives_its_session_until_it_expires() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let jwt = jwt_for(&app, &up).await;
    sign_out_with_bearer(&app, &up).await;
    assert_eq!(app.list_tasks(up.user_id(), &jwt).await.status(), 200, "the documented window");
}

#[tokio::test]
async fn with_strict_sessions_a_token_of_an_ended_session_is_refused_within_5_seconds() {
    let app = spawn_app_with(|s| s.strict_sessions = true).await;
    let up = sign_up(&app, "ada@example.com").await;
    let other = crate::accounts::signed_in(
        crate::accounts::sign_in(&app, "ada@example.com", crate::accounts::PASSWORD).await,
    )
    .await;
    let jwt = jwt_for(&app, &up).await;
    let other_jwt = jwt_for(&app, &other).await;
    assert_eq!(app.list_tasks(up.user_id(), &jwt).await.status(), 200);
    sign_out_with_bearer(&app, &up).await;
    let signed_out = std::time::Instant::now();
    let within = std::time::Duration::from_secs(6);
    let refused =
        refused_within(signed_out, within, 200, || app.list_tasks(up.user_id(), &jwt)).await;
    crate::helpers::assert_error(refused, 401, "SESSION_REVOKED").await;
    assert_eq!(app.list_tasks(up.user_id(), &other_jwt).await.status(), 200, "other sessions");
}

fn hs256(settings: &mut taskgate::config::Settings) {
    settings.token_alg = taskgate::config::TokenAlg::Hs256;
}

#[tokio::test]
async fn with_hs256_the_tokens_are_signed_with_the_server_secret_and_the_task_api_accepts_them() {
    let app = spawn_app_with(hs256).await;
    let up = sign_up(&app, "ada@example.com").await;
    let jwt = jwt_for(&app, &up).await;
    assert_eq!(segment(&jwt, 0), json!({ "alg": "HS256", "typ": "JWT" }));

    // Any service holding the shared secret verifies it, with the same claims as EdDSA tokens.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[&app.address]);
    validation.set_audience(&[&app.address]);
    let key = DecodingKey::from_secret(crate::helpers::SECRET.as_bytes());
    let claims = jsonwebtoken::decode::<Value>(&jwt, &key, &validation).unwrap().claims;
    let session: Value = get_session(&app, ("cookie", &up.cookie)).await.json().await.unwrap();
    assert_eq!(claims["sub"], up.user_id());
    assert_eq!(claims["sid"], session["session"]["id"]);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);

    let created = app.create_task(up.user_id(), &jwt, &json!({ "title": "hs256" })).await;
    assert_eq!(created.status(), 201);

    // get-session's set-auth-jwt is signed the same way.
    let response = get_session(&app, ("cookie", &up.cookie)).await;
    let header_jwt = response.headers()["set-auth-jwt"].to_str().unwrap().to_owned();
    assert_eq!(segment(&header_jwt, 0)["alg"], "HS256");
    let listed: Value = app.list_tasks(up.user_id(), &header_jwt).await.json().await.unwrap();
    assert_eq!(listed[0]["title"], "hs256", "{listed}");

    // The EdDSA keys stay published (the secret never is).
    let keys = jwks(&app).await["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["alg"], "EdDSA");
}

#[tokio::test]
async fn hs256_account_tokens_and_shared_secret_tokens_with_the_same_sub_have_distinct_owners() {
    let app = spawn_app_with(hs256).await;
    let up = sign_up(&app, "ada@example.com").await;
    let own = jwt_for(&app, &up).await;
    assert_eq!(
        app.create_task(up.user_id(), &own, &json!({ "title": "mine" })).await.status(),
        201
    );

    // Same secret, same subject, but not the service's own issuer: the shared secret's user.
    let now = crate::helpers::now();
    let external = crate::helpers::sign_with(
        &json!({ "sub": up.user_id(), "iat": now, "exp": now + 300 }),
        crate::helpers::SECRET.as_bytes(),
    );
    let listed: Value = app.list_tasks(up.user_id(), &external).await.json().await.unwrap();
    assert_eq!(listed, json!([]), "the shared secret's user sees none of the account's tasks");

    // A token claiming the own issuer but signed with another secret is refused.
    let forged = crate::helpers::sign_with(
        &json!({ "sub": up.user_id(), "iss": app.address, "aud": app.address,
                 "iat": now, "exp": now + 300 }),
        b"another-secret-of-at-least-32-bytes-long",
    );
    assert_eq!(app.list_tasks(up.user_id(), &forged).await.status(), 401);
}

#[tokio::test]
async fn with_eddsa_an_hs256_token_naming_the_own_issuer_is_not_an_account_token() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let own = jwt_for(&app, &up).await;
    assert_eq!(
        app.create_task(up.user_id(), &own, &json!({ "title": "mine" })).await.status(),
        201
    );
    let now = crate::helpers::now();
    let hs = crate::helpers::sign_with(
        &json!({ "sub": up.user_id(), "sid": "x", "iss": app.address, "aud": app.address,
                 "iat": now, "exp": now + 300 }),
        crate::helpers::SECRET.as_bytes(),
    );
    let listed: Value = app.list_tasks(up.user_id(), &hs).await.json().await.unwrap();
    assert_eq!(listed, json!([]), "only HS256 mode makes secret-signed tokens account tokens");
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn keys_rotate_beside_running_postgres_instances_signs_with_a_new_kid_while_the_old_stays_valid()
 {
    // Rotating beside running instances needs a database several processes share.
    let url = crate::helpers::pg::required_database_url();
    let schema = crate::helpers::pg::TestSchema::create(&url).await;
    let shared = |reload: u64| {
        let url = schema.url();
        move |s: &mut taskgate::config::Settings| {
            s.database_url = url;
            s.public_url = Some("http://taskgate.test".into());
            s.keys_reload_secs = reload;
        }
    };
    // `a` reloads every second; `b` only every 30 s, so it meets the new kid before reloading.
    let (a, b) = tokio::join!(spawn_app_with(shared(1)), spawn_app_with(shared(30)));
    let up = sign_up(&a, "ada@example.com").await;
    let before = jwt_for(&a, &up).await;
    let old_kid = segment(&before, 0)["kid"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let output = crate::helpers::taskgate_command(dir.path())
        .args(["keys", "rotate"])
        .env("DATABASE_URL", schema.url())
        .env("BETTER_AUTH_SECRET", crate::helpers::SECRET)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // The running instance loads the new key on its next reload.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let keys = loop {
        let keys = jwks(&a).await["keys"].as_array().unwrap().clone();
        if keys.len() == 2 {
            break keys;
        }
        assert!(std::time::Instant::now() < deadline, "the new key never arrived: {keys:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(keys[0]["kid"], old_kid.as_str(), "the old key stays published");
    let new_kid = keys[1]["kid"].as_str().unwrap();
    assert_ne!(new_kid, old_kid);
    assert!(String::from_utf8_lossy(&output.stdout).contains(new_kid));

    let after = jwt_for(&a, &up).await;
    assert_eq!(segment(&after, 0)["kid"], new_kid, "new tokens carry the new kid");
    assert_eq!(a.list_tasks(up.user_id(), &before).await.status(), 200, "old tokens still work");
    assert_eq!(a.list_tasks(up.user_id(), &after).await.status(), 200);
    // `b` meets the new kid and reads the keys again, at most once a second (the cool-down may
    // still run from its start); well before its own 30 s reload.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = b.list_tasks(up.user_id(), &after).await.status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 401, "an unknown kid is refused until the keys are read again");
        assert!(std::time::Instant::now() < deadline, "an unknown kid never made b reload");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(b.list_tasks(up.user_id(), &before).await.status(), 200);
}

async fn delete_account(app: &TestApp, signed: &SignedIn) {
    let body = json!({ "password": crate::accounts::PASSWORD });
    assert_eq!(bearer_post(app, "/delete-user", signed, &body).await.status(), 200);
}

#[tokio::test]
async fn a_deleted_accounts_token_is_refused_at_once_without_strict_sessions() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let jwt = jwt_for(&app, &up).await;
    assert_eq!(app.list_tasks(up.user_id(), &jwt).await.status(), 200);
    delete_account(&app, &up).await;
    let created =
        app.create_task(up.user_id(), &jwt, &serde_json::json!({ "title": "ghost" })).await;
    crate::helpers::assert_error(created, 401, "SESSION_REVOKED").await;
    // Another account's tokens are unaffected.
    let eve = sign_up(&app, "eve@example.com").await;
    assert_eq!(app.list_tasks(eve.user_id(), &jwt_for(&app, &eve).await).await.status(), 200);
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn a_deleted_accounts_token_is_refused_on_every_postgres_instance_within_5_seconds() {
    let url = crate::helpers::pg::required_database_url();
    let schema = crate::helpers::pg::TestSchema::create(&url).await;
    let shared = |s: &mut taskgate::config::Settings| {
        s.database_url = schema.url();
        s.public_url = Some("http://taskgate.test".into());
    };
    let (a, b) = tokio::join!(spawn_app_with(shared), spawn_app_with(shared));
    let up = sign_up(&a, "ada@example.com").await;
    let jwt = jwt_for(&a, &up).await;
    assert_eq!(b.list_tasks(up.user_id(), &jwt).await.status(), 200, "b knows the token");
    delete_account(&a, &up).await;
    let deleted = std::time::Instant::now();
    let title = json!({ "title": "ghost" });
    let within = std::time::Duration::from_secs(5);
    let refused =
        refused_within(deleted, within, 201, || b.create_task(up.user_id(), &jwt, &title)).await;
    crate::helpers::assert_error(refused, 401, "SESSION_REVOKED").await;
}
