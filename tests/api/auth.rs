//! Bearer transport and token verification: every 401 code, and the tokens that must never pass.

use serde_json::{Value, json};

use crate::helpers::{
    SECRET, assert_error, now, raw_token, sign, sign_with, spawn_app, spawn_app_with, token_for,
};

async fn list_with_header(
    app: &crate::helpers::TestApp,
    user: &str,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.get(app.url(&format!("/api/{user}/tasks")));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.unwrap()
}

fn www_authenticate(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn no_token_is_401_missing_token_with_a_bare_challenge() {
    let app = spawn_app().await;
    let response = list_with_header(&app, "u", None).await;
    assert_eq!(www_authenticate(&response), r#"Bearer realm="taskgate""#);
    assert_error(response, 401, "MISSING_TOKEN").await;
}

#[tokio::test]
async fn a_token_in_the_query_string_is_not_accepted() {
    let app = spawn_app().await;
    let token = token_for("u");
    let only_query = app
        .client
        .get(app.url(&format!("/api/u/tasks?access_token={token}")))
        .send()
        .await
        .unwrap();
    assert_error(only_query, 401, "INVALID_HEADER_FORMAT").await;
    let both = app
        .authed(app.client.get(app.url(&format!("/api/u/tasks?access_token={token}"))), &token)
        .send()
        .await
        .unwrap();
    assert_error(both, 401, "INVALID_HEADER_FORMAT").await;
}

#[tokio::test]
async fn malformed_authorization_headers_are_401_invalid_header_format() {
    let app = spawn_app().await;
    let token = token_for("u");
    for value in [
        format!("Basic {token}"),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        token.clone(),
        format!("Bearer {token} extra"),
    ] {
        let response = list_with_header(&app, "u", Some(&value)).await;
        let challenge = www_authenticate(&response);
        assert!(challenge.contains(r#"error="invalid_request""#), "{challenge}");
        assert_error(response, 401, "INVALID_HEADER_FORMAT").await;
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let app = spawn_app().await;
    let token = token_for("u");
    let response = app
        .client
        .get(app.url("/api/u/tasks"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "INVALID_HEADER_FORMAT").await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let response = list_with_header(&app, "u", Some(&format!("bearer {}", token_for("u")))).await;
    assert_eq!(response.status(), 200);
}

async fn assert_token_refused(app: &crate::helpers::TestApp, token: &str, code: &str) {
    let response = list_with_header(app, "u", Some(&format!("Bearer {token}"))).await;
    let challenge = www_authenticate(&response);
    assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    assert!(challenge.contains("error_description="), "{challenge}");
    assert_error(response, 401, code).await;
}

#[tokio::test]
async fn structurally_broken_tokens_are_401_malformed_token() {
    let app = spawn_app().await;
    let good = token_for("u");
    let cases = [
        "not-a-jwt".to_owned(),
        "a.b".to_owned(),
        format!("{good}.extra"),
        format!("{}x.{}", &good[..good.find('.').unwrap()], &good[good.find('.').unwrap() + 1..]),
        "x".repeat(8 * 1024 + 1),
        raw_token(
            r#"{"alg":"HS256","crit":["exp"]}"#,
            &json!({"sub":"u","exp": now() + 60}).to_string(),
        ),
        raw_token(r#"{"alg":"HS256"}"#, r#"{"sub":"u","sub":"u","exp":9999999999}"#),
        raw_token(r#"{"alg":"HS256"}"#, r#"[1,2]"#),
    ];
    for token in cases {
        assert_token_refused(&app, &token, "MALFORMED_TOKEN").await;
    }
}

#[tokio::test]
async fn exp_is_required_and_must_be_a_number() {
    let app = spawn_app().await;
    assert_token_refused(&app, &sign(&json!({ "sub": "u" })), "MALFORMED_TOKEN").await;
    assert_token_refused(
        &app,
        &sign(&json!({ "sub": "u", "exp": (now() + 60).to_string() })),
        "MALFORMED_TOKEN",
    )
    .await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_401_invalid_signature() {
    let app = spawn_app().await;
    let forged = sign_with(
        &json!({ "sub": "u", "exp": now() + 60 }),
        b"another-secret-another-secret-another!",
    );
    assert_token_refused(&app, &forged, "INVALID_TOKEN_SIGNATURE").await;
    let good = token_for("u");
    let tampered = format!("{}A", &good[..good.len() - 1]);
    let tampered =
        if tampered == good { format!("{}B", &good[..good.len() - 1]) } else { tampered };
    assert_token_refused(&app, &tampered, "INVALID_TOKEN_SIGNATURE").await;
}

#[tokio::test]
async fn alg_none_in_any_spelling_and_other_algorithms_are_refused() {
    use base64::Engine;
    let app = spawn_app().await;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let payload = b64(&json!({ "sub": "u", "exp": now() + 60 }).to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        assert_token_refused(&app, &format!("{header}.{payload}."), "INVALID_TOKEN_SIGNATURE")
            .await;
        assert_token_refused(
            &app,
            &format!("{header}.{payload}.{}", b64("x")),
            "INVALID_TOKEN_SIGNATURE",
        )
        .await;
    }
    // Correctly MACed with the secret, but claiming an algorithm the secret does not allow.
    for alg in ["HS384", "HS512", "RS256", "EdDSA", "hs256"] {
        let token = raw_token(
            &format!(r#"{{"alg":"{alg}"}}"#),
            &json!({ "sub": "u", "exp": now() + 60 }).to_string(),
        );
        assert_token_refused(&app, &token, "INVALID_TOKEN_SIGNATURE").await;
    }
}

#[tokio::test]
async fn key_carrying_headers_are_ignored() {
    let app = spawn_app().await;
    // A token signed with the attacker's own secret, pointing at that secret as a JWK.
    use base64::Engine;
    let attacker = b"attacker-secret-attacker-secret-attacker";
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(attacker);
    let header = format!(
        r#"{{"alg":"HS256","jwk":{{"kty":"oct","k":"{k}"}},"jku":"http://127.0.0.1:9/jwks","x5u":"http://127.0.0.1:9/x"}}"#
    );
    let input = {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}", b64(&header), b64(&json!({ "sub": "u", "exp": now() + 60 }).to_string()))
    };
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(attacker),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    assert_token_refused(&app, &format!("{input}.{signature}"), "INVALID_TOKEN_SIGNATURE").await;
    // The same headers on a token signed with the real secret change nothing either.
    let genuine = raw_token(&header, &json!({ "sub": "u", "exp": now() + 60 }).to_string());
    assert_eq!(list_with_header(&app, "u", Some(&format!("Bearer {genuine}"))).await.status(), 200);
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_401_token_expired() {
    let app = spawn_app().await;
    let cases = [
        json!({ "sub": "u", "exp": now() - 1 }),
        json!({ "sub": "u", "exp": now() + 600, "nbf": now() + 120 }),
        json!({ "sub": "u", "exp": now() + 600, "iat": now() + 120 }),
    ];
    for claims in cases {
        assert_token_refused(&app, &sign(&claims), "TOKEN_EXPIRED").await;
    }
}

#[tokio::test]
async fn leeway_tolerates_small_clock_skew() {
    let app = spawn_app_with(|s| s.jwt_leeway = 30).await;
    let token = sign(&json!({ "sub": "u", "exp": now() - 10, "iat": now() + 10 }));
    assert_eq!(list_with_header(&app, "u", Some(&format!("Bearer {token}"))).await.status(), 200);
    let too_old = sign(&json!({ "sub": "u", "exp": now() - 45 }));
    assert_token_refused(&app, &too_old, "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn uid_is_accepted_when_sub_is_absent() {
    let app = spawn_app().await;
    let token = sign(&json!({ "uid": "u", "exp": now() + 60 }));
    assert_eq!(list_with_header(&app, "u", Some(&format!("Bearer {token}"))).await.status(), 200);
}

#[tokio::test]
async fn unusable_user_ids_are_401_missing_uid_claim() {
    let app = spawn_app().await;
    let exp = now() + 60;
    let cases = [
        json!({ "exp": exp }),
        json!({ "sub": "", "exp": exp }),
        json!({ "sub": 42, "exp": exp }),
        json!({ "uid": null, "exp": exp }),
        json!({ "sub": "u", "uid": "v", "exp": exp }),
        json!({ "sub": "x".repeat(256), "exp": exp }),
    ];
    for claims in cases {
        assert_token_refused(&app, &sign(&claims), "MISSING_UID_CLAIM").await;
    }
    let agreeing = sign(&json!({ "sub": "u", "uid": "u", "exp": exp }));
    assert_eq!(
        list_with_header(&app, "u", Some(&format!("Bearer {agreeing}"))).await.status(),
        200
    );
}

#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let app = spawn_app_with(|s| {
        s.jwt_issuer = Some("https://app.example".into());
        s.jwt_audience = Some("https://app.example".into());
    })
    .await;
    let exp = now() + 60;
    let good = sign(
        &json!({ "sub": "u", "exp": exp, "iss": "https://app.example", "aud": "https://app.example" }),
    );
    assert_eq!(list_with_header(&app, "u", Some(&format!("Bearer {good}"))).await.status(), 200);
    let in_list = sign(
        &json!({ "sub": "u", "exp": exp, "iss": "https://app.example", "aud": ["other", "https://app.example"] }),
    );
    assert_eq!(list_with_header(&app, "u", Some(&format!("Bearer {in_list}"))).await.status(), 200);
    let cases = [
        json!({ "sub": "u", "exp": exp, "aud": "https://app.example" }),
        json!({ "sub": "u", "exp": exp, "iss": "https://evil.example", "aud": "https://app.example" }),
        json!({ "sub": "u", "exp": exp, "iss": "https://app.example" }),
        json!({ "sub": "u", "exp": exp, "iss": "https://app.example", "aud": "https://app.example/" }),
    ];
    for claims in cases {
        assert_token_refused(&app, &sign(&claims), "INVALID_TOKEN_CLAIMS").await;
    }
}

#[tokio::test]
async fn audience_is_not_checked_when_none_is_configured() {
    let app = spawn_app().await;
    let token = sign(&json!({ "sub": "u", "exp": now() + 60, "aud": "http://localhost:3000" }));
    assert_eq!(list_with_header(&app, "u", Some(&format!("Bearer {token}"))).await.status(), 200);
}

#[tokio::test]
async fn better_auths_other_jwts_are_not_access_tokens() {
    let app = spawn_app().await;
    let exp = now() + 60;
    let email_verification = sign(
        &json!({ "email": "u@example.com", "updateTo": "v@example.com", "iat": now(), "exp": exp }),
    );
    let email_verification_plain =
        sign(&json!({ "email": "u@example.com", "iat": now(), "exp": exp }));
    let cookie_cache = sign(&json!({
        "session": { "session": { "userId": "u", "token": "t" }, "user": { "id": "u" } },
        "updatedAt": now(), "version": "1", "iat": now(), "exp": exp
    }));
    let refresh = sign(&json!({ "sub": "u", "exp": exp, "token_type": "refresh" }));
    let id_token = sign(&json!({ "sub": "u", "exp": exp, "nonce": "n" }));
    for token in [email_verification, email_verification_plain, cookie_cache, refresh, id_token] {
        assert_token_refused(&app, &token, "INVALID_TOKEN_CLAIMS").await;
    }
}

#[tokio::test]
async fn a_better_auth_style_hs256_token_with_its_user_claims_is_accepted() {
    let app = spawn_app().await;
    let token = sign(&json!({
        "iat": now(), "name": "Ann", "email": "ann@example.com", "emailVerified": false, "image": null,
        "createdAt": "2026-11-21T09:00:00.000Z", "updatedAt": "2026-11-21T09:00:00.000Z",
        "id": "ann-id", "sub": "ann-id", "exp": now() + 900,
        "iss": "http://127.0.0.1:3005", "aud": "http://127.0.0.1:3005"
    }));
    let response = list_with_header(&app, "ann-id", Some(&format!("Bearer {token}"))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_token_command_mints_a_token_the_service_accepts() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let token = crate::helpers::mint_with_cli(
        dir.path(),
        &["--user", "cli-user", "--ttl", "60"],
        Some(SECRET),
    );
    let response = list_with_header(&app, "cli-user", Some(&format!("Bearer {token}"))).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!([]));
}
