//! Accounts and sessions under /api/auth: Better Auth's paths, bodies, cookie and errors.

use reqwest::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, spawn_app, spawn_app_with, spawn_sqlite_app_with};

pub const PASSWORD: &str = "a long enough passphrase";

/// What a sign-up or sign-in answered, with the credentials a client would keep.
pub struct SignedIn {
    pub body: Value,
    /// `better-auth.session_token=<value>`, ready for a `Cookie` header.
    pub cookie: String,
    /// The `set-auth-token` header: the signed token for `Authorization: Bearer`.
    pub bearer: String,
}

impl SignedIn {
    pub fn token(&self) -> &str {
        self.body["token"].as_str().unwrap()
    }

    pub fn user_id(&self) -> &str {
        self.body["user"]["id"].as_str().unwrap()
    }
}

pub async fn post(app: &TestApp, path: &str, body: &Value) -> Response {
    app.client.post(app.url(&format!("/api/auth{path}"))).json(body).send().await.unwrap()
}

/// The first `Set-Cookie` header, cut at its first `;`.
fn cookie_of(response: &Response) -> Option<String> {
    let set = response.headers().get("set-cookie")?.to_str().unwrap();
    Some(set.split(';').next().unwrap().to_owned())
}

pub async fn signed_in(response: Response) -> SignedIn {
    assert_eq!(response.status(), 200);
    let cookie = cookie_of(&response).expect("a session cookie");
    let bearer = response.headers()["set-auth-token"].to_str().unwrap().to_owned();
    SignedIn { body: response.json().await.unwrap(), cookie, bearer }
}

pub async fn sign_up(app: &TestApp, email: &str) -> SignedIn {
    let body = json!({ "name": "Ada", "email": email, "password": PASSWORD });
    signed_in(post(app, "/sign-up/email", &body).await).await
}

pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Response {
    post(app, "/sign-in/email", &json!({ "email": email, "password": password })).await
}

pub async fn get_session(app: &TestApp, header: (&str, &str)) -> Response {
    app.client
        .get(app.url("/api/auth/get-session"))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap()
}

/// Asserts Better Auth's error body (and not the task API's) and returns it.
pub async fn assert_auth_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "code in {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {body}");
    assert!(body.get("error_code").is_none(), "not the task API's body: {body}");
    body
}

#[tokio::test]
async fn sign_up_returns_the_session_token_the_user_and_a_better_auth_cookie() {
    let app = spawn_app().await;
    let response = post(
        &app,
        "/sign-up/email",
        &json!({ "name": "Ada", "email": " Ada@Example.com ", "password": PASSWORD }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("better-auth.session_token="), "{set_cookie}");
    assert!(
        set_cookie.ends_with("; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"),
        "{set_cookie}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let bearer = response.headers()["set-auth-token"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(
        set_cookie.split(';').next().unwrap(),
        format!("better-auth.session_token={bearer}")
    );
    assert!(
        bearer.starts_with(&format!("{token}.")),
        "the cookie value is the token, a dot, a MAC"
    );
    let user = &body["user"];
    assert_eq!(user["email"], "ada@example.com", "trimmed and lowercased");
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["image"], Value::Null);
    assert_eq!(user["id"].as_str().unwrap().len(), 32);
    let created = user["createdAt"].as_str().unwrap();
    assert!(taskgate::domain::accounts::parse_iso8601(created).is_some(), "{created}");
    assert!(created.ends_with('Z') && created.len() == 24, "JavaScript's ISO form: {created}");
}

#[tokio::test]
async fn signing_up_again_with_the_same_email_in_another_case_is_a_422() {
    let app = spawn_app().await;
    sign_up(&app, "ada@example.com").await;
    let again = json!({ "name": "Eve", "email": "ADA@example.com", "password": PASSWORD });
    let response = post(&app, "/sign-up/email", &again).await;
    assert_auth_error(response, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL").await;
}

#[tokio::test]
async fn passwords_shorter_than_8_or_longer_than_128_characters_are_refused() {
    let app = spawn_app().await;
    let with =
        |password: String| json!({ "name": "A", "email": "a@example.com", "password": password });
    let short = post(&app, "/sign-up/email", &with("1234567".into())).await;
    assert_auth_error(short, 400, "PASSWORD_TOO_SHORT").await;
    let long = post(&app, "/sign-up/email", &with("x".repeat(129))).await;
    assert_auth_error(long, 400, "PASSWORD_TOO_LONG").await;
    let long_sign_in = sign_in(&app, "a@example.com", &"x".repeat(129)).await;
    assert_auth_error(long_sign_in, 400, "PASSWORD_TOO_LONG").await;
    // Eight characters of two bytes each: long enough, and any Unicode is welcome.
    let unicode = post(&app, "/sign-up/email", &with("éééééééé".into())).await;
    assert_eq!(unicode.status(), 200);
    assert_eq!(sign_in(&app, "a@example.com", "éééééééé").await.status(), 200);
}

#[tokio::test]
async fn a_common_password_is_refused_with_password_compromised_and_a_helpful_message() {
    let app = spawn_app().await;
    let body = json!({ "name": "A", "email": "a@example.com", "password": "Password1" });
    let refused = post(&app, "/sign-up/email", &body).await;
    let refused = assert_auth_error(refused, 400, "PASSWORD_COMPROMISED").await;
    assert!(refused["message"].as_str().unwrap().contains("choose another"), "{refused}");
    assert_eq!(sign_in(&app, "a@example.com", "Password1").await.status(), 401, "no account made");
}

#[tokio::test]
async fn an_implausible_email_is_invalid_email() {
    let app = spawn_app().await;
    let body = json!({ "name": "A", "email": "not-an-email", "password": PASSWORD });
    assert_auth_error(post(&app, "/sign-up/email", &body).await, 400, "INVALID_EMAIL").await;
    let response = sign_in(&app, "not-an-email", PASSWORD).await;
    assert_auth_error(response, 400, "INVALID_EMAIL").await;
}

#[tokio::test]
async fn a_missing_field_or_a_body_that_is_not_json_is_a_validation_error() {
    let app = spawn_app().await;
    let missing =
        post(&app, "/sign-up/email", &json!({ "email": "a@example.com", "password": PASSWORD }))
            .await;
    assert_auth_error(missing, 400, "VALIDATION_ERROR").await;
    let wrong_type =
        post(&app, "/sign-in/email", &json!({ "email": 5, "password": PASSWORD })).await;
    assert_auth_error(wrong_type, 400, "VALIDATION_ERROR").await;
    let not_json = app
        .client
        .post(app.url("/api/auth/sign-in/email"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_auth_error(not_json, 400, "VALIDATION_ERROR").await;
}

#[tokio::test]
async fn sign_in_gives_a_new_session_for_the_right_password_with_the_email_in_any_case() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let response = sign_in(&app, "  ADA@example.COM", PASSWORD).await;
    let signed = signed_in(response).await;
    assert_eq!(signed.body["redirect"], false);
    assert_eq!(signed.user_id(), up.user_id());
    assert_ne!(signed.token(), up.token(), "a new session token on every sign-in");
    let session = get_session(&app, ("cookie", &signed.cookie)).await;
    let session: Value = session.json().await.unwrap();
    assert_eq!(session["user"]["id"], up.user_id());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    sign_up(&app, "ada@example.com").await;
    let wrong = sign_in(&app, "ada@example.com", "not the passphrase").await;
    assert!(wrong.headers().get("set-cookie").is_none());
    let wrong = assert_auth_error(wrong, 401, "INVALID_EMAIL_OR_PASSWORD").await;
    let unknown = sign_in(&app, "nobody@example.com", PASSWORD).await;
    let unknown = assert_auth_error(unknown, 401, "INVALID_EMAIL_OR_PASSWORD").await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["message"], "Invalid email or password");
}

#[tokio::test]
async fn get_session_with_the_cookie_shows_the_session_and_user_but_never_the_token() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let response = get_session(&app, ("cookie", &format!("theme=dark; {}", up.cookie))).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none(), "not refreshed within a day");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"], up.body["user"]);
    let session = &body["session"];
    assert_eq!(session["userId"], up.user_id());
    assert_eq!(session["token"], session["id"], "the token field is the revocation handle");
    assert!(!body.to_string().contains(up.token()), "the credential is never echoed");
    for field in ["expiresAt", "createdAt", "updatedAt"] {
        assert!(session[field].as_str().is_some(), "{field} in {session}");
    }
    assert_eq!(session["ipAddress"], "127.0.0.1");
    let expires =
        taskgate::domain::accounts::parse_iso8601(session["expiresAt"].as_str().unwrap()).unwrap();
    let created =
        taskgate::domain::accounts::parse_iso8601(session["createdAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, time::Duration::days(7));
}

#[tokio::test]
async fn a_bearer_session_token_works_signed_or_bare() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    for bearer in [up.bearer.clone(), up.token().to_owned()] {
        let response = get_session(&app, ("authorization", &format!("Bearer {bearer}"))).await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["id"], up.user_id(), "{bearer}");
    }
}

#[tokio::test]
async fn without_a_valid_session_get_session_is_null() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let none = app.client.get(app.url("/api/auth/get-session")).send().await.unwrap();
    assert_eq!(none.status(), 200);
    assert_eq!(none.json::<Value>().await.unwrap(), Value::Null);
    // The right token under a MAC made with another secret.
    let forged = {
        use base64::Engine;
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<Sha256>::new_from_slice(b"not-the-server-secret-not-at-all!!").unwrap();
        mac.update(up.token().as_bytes());
        let signature =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        format!(
            "better-auth.session_token={}.{}",
            up.token(),
            signature.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
        )
    };
    let response = get_session(&app, ("cookie", &forged)).await;
    assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
    let unknown =
        get_session(&app, ("authorization", "Bearer abcdefghijklmnopqrstuvwxyz012345")).await;
    assert_eq!(unknown.json::<Value>().await.unwrap(), Value::Null);
}

#[tokio::test]
async fn sign_out_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let other = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let response = app
        .client
        .post(app.url("/api/auth/sign-out"))
        .header("cookie", &up.cookie)
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cleared = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cleared.starts_with("better-auth.session_token=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "success": true }));
    let after = get_session(&app, ("cookie", &up.cookie)).await;
    let set = after.headers()["set-cookie"].to_str().unwrap();
    assert!(set.contains("Max-Age=0"), "a cookie naming no live session is cleared: {set}");
    assert_eq!(after.json::<Value>().await.unwrap(), Value::Null, "revoked server-side");
    let bearer = get_session(&app, ("authorization", &format!("Bearer {}", up.token()))).await;
    assert_eq!(bearer.json::<Value>().await.unwrap(), Value::Null);
    let still = get_session(&app, ("cookie", &other.cookie)).await;
    assert_eq!(still.json::<Value>().await.unwrap()["user"]["id"], up.user_id(), "others stay");
}

#[tokio::test]
async fn the_database_keeps_only_sha256_hashes_of_session_tokens() {
    let app = spawn_sqlite_app_with(|_| {}).await;
    let up = sign_up(&app, "ada@example.com").await;
    let db = rusqlite::Connection::open(&app.db_path).unwrap();
    let hashes: Vec<Vec<u8>> = db
        .prepare("SELECT token_hash FROM sessions")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hashes, vec![Sha256::digest(up.token().as_bytes()).to_vec()]);
    let dump: String = db
        .query_row(
            "SELECT group_concat(id || ' ' || user_id || ' ' || hex(token_hash), ' ') FROM sessions",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(!dump.contains(up.token()));
    let hash: String =
        db.query_row("SELECT password_hash FROM credentials", [], |row| row.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
}

#[tokio::test]
async fn a_session_used_a_day_after_its_last_refresh_slides_forward_and_an_expired_one_ends() {
    let app = spawn_sqlite_app_with(|_| {}).await;
    let up = sign_up(&app, "ada@example.com").await;
    let db = rusqlite::Connection::open(&app.db_path).unwrap();
    let day_ms = 86_400_000i64;
    // As if the session had been created (and last refreshed) two days ago.
    db.execute("UPDATE sessions SET expires_at = expires_at - 2 * ?1", [day_ms]).unwrap();
    let response = get_session(&app, ("cookie", &up.cookie)).await;
    let set = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("Max-Age=604800"), "refreshed cookie: {set}");
    assert!(response.headers().get("set-auth-token").is_some());
    let body: Value = response.json().await.unwrap();
    let expires =
        taskgate::domain::accounts::parse_iso8601(body["session"]["expiresAt"].as_str().unwrap())
            .unwrap();
    let remaining = expires - time::OffsetDateTime::now_utc();
    assert!(remaining > time::Duration::days(7) - time::Duration::minutes(1), "{remaining}");

    db.execute("UPDATE sessions SET expires_at = ?1", [super::helpers::now() * 1000 - 1]).unwrap();
    let expired = get_session(&app, ("cookie", &up.cookie)).await;
    assert_eq!(expired.json::<Value>().await.unwrap(), Value::Null);
    let left: i64 = db.query_row("SELECT count(*) FROM sessions", [], |row| row.get(0)).unwrap();
    assert_eq!(left, 0, "an expired session is deleted when presented");
}

#[tokio::test]
async fn on_https_the_cookie_is_secure_and_prefixed() {
    let app = spawn_app_with(|s| s.public_url = Some("https://todo.example".into())).await;
    let body = json!({ "name": "Ada", "email": "ada@example.com", "password": PASSWORD });
    let response = post(&app, "/sign-up/email", &body).await;
    let set = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("__Secure-better-auth.session_token="), "{set}");
    assert!(set.ends_with("; Secure"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let session = get_session(&app, ("cookie", &cookie)).await;
    assert!(session.json::<Value>().await.unwrap()["user"].is_object());
}

#[tokio::test]
async fn auth_errors_outside_the_handlers_keep_better_auths_format() {
    let app = spawn_app().await;
    let unknown = app.client.get(app.url("/api/auth/no-such-endpoint")).send().await.unwrap();
    assert_auth_error(unknown, 404, "NOT_FOUND").await;
    let wrong_method = app.client.get(app.url("/api/auth/sign-in/email")).send().await.unwrap();
    assert_auth_error(wrong_method, 405, "METHOD_NOT_ALLOWED").await;
    let huge =
        json!({ "name": "x".repeat(100_000), "email": "a@example.com", "password": PASSWORD });
    assert_auth_error(post(&app, "/sign-up/email", &huge).await, 413, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn without_a_configured_secret_sqlite_makes_one_beside_the_database_with_mode_0600() {
    // Nothing configured at all: no secret, no JWKS issuer.
    let app = spawn_sqlite_app_with(|s| s.better_auth_secret = None).await;
    let up = sign_up(&app, "ada@example.com").await;
    let session = get_session(&app, ("cookie", &up.cookie)).await;
    assert_eq!(session.json::<Value>().await.unwrap()["user"]["id"], up.user_id());
    let path = taskgate::services::secret::path_beside(&app.db_path);
    let secret = std::fs::read_to_string(&path).unwrap();
    assert!(secret.len() >= 32);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    // The cookie is signed with that secret, not some other.
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.trim().as_bytes()).unwrap();
    mac.update(up.token().as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        up.bearer,
        format!(
            "{}.{}",
            up.token(),
            signature.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
        )
    );
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn postgres_without_a_configured_secret_refuses_to_start() {
    let url = crate::helpers::pg::required_database_url();
    let schema = crate::helpers::pg::TestSchema::create(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings(&dir);
    settings.database_url = schema.url();
    settings.better_auth_secret = None;
    settings.jwks_url = Some("http://127.0.0.1:9/jwks".into());
    settings.jwt_issuer = Some("https://issuer.example".into());
    settings.jwt_audience = Some("https://issuer.example".into());
    let error = match taskgate::app::Application::build(settings).await {
        Ok(_) => panic!("must refuse"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("BETTER_AUTH_SECRET is required with PostgreSQL"), "{error}");
}
