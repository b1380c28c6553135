//! Managing sessions and the account under /api/auth: list-sessions, revoke-session(s),
//! change-password, update-user, delete-user, and the CSRF check on cookie-authenticated POSTs.

use reqwest::Response;
use serde_json::{Value, json};

use crate::accounts::{
    PASSWORD, SignedIn, assert_auth_error, get_session, sign_in, sign_up, signed_in,
};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A POST as a browser on the service's own origin sends it: the cookie and the Origin.
async fn browser_post(app: &TestApp, path: &str, who: &SignedIn, body: &Value) -> Response {
    app.client
        .post(app.url(&format!("/api/auth{path}")))
        .header("cookie", &who.cookie)
        .header("origin", &app.address)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A POST as a non-browser client sends it: the bearer session token, no cookie, no Origin.
pub async fn bearer_post(app: &TestApp, path: &str, who: &SignedIn, body: &Value) -> Response {
    app.client
        .post(app.url(&format!("/api/auth{path}")))
        .header("authorization", format!("Bearer {}", who.bearer))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn sessions_of(app: &TestApp, who: &SignedIn) -> Vec<Value> {
    let response = app
        .client
        .get(app.url("/api/auth/list-sessions"))
        .header("cookie", &who.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn is_live(app: &TestApp, who: &SignedIn) -> bool {
    let body: Value = get_session(app, ("cookie", &who.cookie)).await.json().await.unwrap();
    !body.is_null()
}

#[tokio::test]
async fn list_sessions_shows_each_session_with_a_handle_that_is_never_a_credential() {
    let app = spawn_app().await;
    let first = sign_up(&app, "ada@example.com").await;
    let second = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let other_user = sign_up(&app, "eve@example.com").await;
    let sessions = sessions_of(&app, &first).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for session in &sessions {
        assert_eq!(session["userId"], first.user_id());
        let handle = session["token"].as_str().unwrap();
        assert_eq!(handle, session["id"].as_str().unwrap());
        assert_ne!(handle, first.token());
        assert_ne!(handle, second.token());
        let as_bearer = get_session(&app, ("authorization", &format!("Bearer {handle}"))).await;
        assert_eq!(as_bearer.json::<Value>().await.unwrap(), Value::Null, "not a credential");
    }
    assert!(!sessions.iter().any(|s| s["userId"] == other_user.user_id()));
    let none = app.client.get(app.url("/api/auth/list-sessions")).send().await.unwrap();
    assert_auth_error(none, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn revoke_session_ends_the_named_session_of_the_user_and_no_one_elses() {
    let app = spawn_app().await;
    let first = sign_up(&app, "ada@example.com").await;
    let second = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let eve = sign_up(&app, "eve@example.com").await;
    let eve_handle = sessions_of(&app, &eve).await[0]["token"].as_str().unwrap().to_owned();
    // Another user's handle changes nothing.
    let response =
        browser_post(&app, "/revoke-session", &first, &json!({ "token": eve_handle })).await;
    assert_eq!(response.status(), 200);
    assert!(is_live(&app, &eve).await);

    let handles: Vec<String> = sessions_of(&app, &first)
        .await
        .iter()
        .map(|s| s["token"].as_str().unwrap().to_owned())
        .collect();
    let second_id = get_session(&app, ("cookie", &second.cookie))
        .await
        .json::<Value>()
        .await
        .unwrap()["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(handles.contains(&second_id));
    let response =
        browser_post(&app, "/revoke-session", &first, &json!({ "token": second_id })).await;
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "status": true }));
    assert!(!is_live(&app, &second).await, "revoked at once");
    assert!(is_live(&app, &first).await);
    assert!(!is_live(&app, &second).await);
}

#[tokio::test]
async fn revoke_other_sessions_keeps_only_this_one_and_revoke_sessions_ends_all() {
    let app = spawn_app().await;
    let first = sign_up(&app, "ada@example.com").await;
    let second = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let third = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let response = bearer_post(&app, "/revoke-other-sessions", &first, &json!({})).await;
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "status": true }));
    assert!(is_live(&app, &first).await);
    assert!(!is_live(&app, &second).await && !is_live(&app, &third).await);

    let fourth = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let response = browser_post(&app, "/revoke-sessions", &first, &json!({})).await;
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "status": true }));
    assert!(!is_live(&app, &first).await && !is_live(&app, &fourth).await);
}

#[tokio::test]
async fn change_password_needs_the_current_one_and_can_revoke_the_other_sessions() {
    let app = spawn_app().await;
    let first = sign_up(&app, "ada@example.com").await;
    let second = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let new = "a brand new passphrase";
    let wrong = json!({ "currentPassword": "not the passphrase", "newPassword": new });
    let response = browser_post(&app, "/change-password", &first, &wrong).await;
    assert_auth_error(response, 400, "INVALID_PASSWORD").await;
    let short = json!({ "currentPassword": PASSWORD, "newPassword": "short" });
    let response = browser_post(&app, "/change-password", &first, &short).await;
    assert_auth_error(response, 400, "PASSWORD_TOO_SHORT").await;
    let common = json!({ "currentPassword": PASSWORD, "newPassword": "iloveyou" });
    let response = browser_post(&app, "/change-password", &first, &common).await;
    assert_auth_error(response, 400, "PASSWORD_COMPROMISED").await;
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await.status(), 200, "unchanged");

    let keep = json!({ "currentPassword": PASSWORD, "newPassword": new });
    let response = browser_post(&app, "/change-password", &first, &keep).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token"], Value::Null);
    assert_eq!(body["user"]["id"], first.user_id());
    assert!(is_live(&app, &second).await, "others stay without revokeOtherSessions");
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await.status(), 401);
    assert_eq!(sign_in(&app, "ada@example.com", new).await.status(), 200);

    let newer = "the newest passphrase of all";
    let revoke =
        json!({ "currentPassword": new, "newPassword": newer, "revokeOtherSessions": true });
    let replaced = signed_in(browser_post(&app, "/change-password", &first, &revoke).await).await;
    assert_ne!(replaced.token(), first.token());
    assert!(!is_live(&app, &first).await && !is_live(&app, &second).await, "all ended");
    assert!(is_live(&app, &replaced).await, "a new session replaces them");
}

#[tokio::test]
async fn update_user_sets_the_name_but_never_the_email() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let response = browser_post(&app, "/update-user", &up, &json!({ "name": "Ada L." })).await;
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "status": true }));
    let session: Value = get_session(&app, ("cookie", &up.cookie)).await.json().await.unwrap();
    assert_eq!(session["user"]["name"], "Ada L.");
    assert_eq!(session["user"]["email"], "ada@example.com");
    let email = json!({ "email": "eve@example.com" });
    let response = browser_post(&app, "/update-user", &up, &email).await;
    assert_auth_error(response, 400, "EMAIL_CAN_NOT_BE_UPDATED").await;
    let long = json!({ "name": "x".repeat(256) });
    assert_auth_error(
        browser_post(&app, "/update-user", &up, &long).await,
        400,
        "VALIDATION_ERROR",
    )
    .await;
    let not_an_object = json!(["name", "Eve"]);
    let response = browser_post(&app, "/update-user", &up, &not_an_object).await;
    assert_auth_error(response, 400, "BODY_MUST_BE_AN_OBJECT").await;
    let nothing = json!({});
    let response = browser_post(&app, "/update-user", &up, &nothing).await;
    assert_auth_error(response, 400, "BAD_REQUEST").await;
    let session: Value = get_session(&app, ("cookie", &up.cookie)).await.json().await.unwrap();
    assert_eq!(session["user"]["name"], "Ada L.", "a refused update changes nothing");
}

#[tokio::test]
async fn delete_user_with_the_password_removes_the_account_its_sessions_and_its_tasks() {
    let app = spawn_app().await;
    let up = sign_up(&app, "ada@example.com").await;
    let other = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let jwt = {
        let response = app
            .client
            .get(app.url("/api/auth/token"))
            .header("cookie", &up.cookie)
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    };
    let list = app
        .client
        .post(app.url(&format!("/api/{}/lists", up.user_id())))
        .bearer_auth(&jwt)
        .json(&json!({ "name": "Mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 201);
    let list_id = list.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let created =
        app.create_task(up.user_id(), &jwt, &json!({ "title": "mine", "list_id": list_id })).await;
    assert_eq!(created.status(), 201);
    let eve = sign_up(&app, "eve@example.com").await;

    let wrong =
        browser_post(&app, "/delete-user", &up, &json!({ "password": "not it at all" })).await;
    assert_auth_error(wrong, 400, "INVALID_PASSWORD").await;
    assert!(is_live(&app, &up).await, "nothing deleted");

    let response = browser_post(&app, "/delete-user", &up, &json!({ "password": PASSWORD })).await;
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "success": true, "message": "User deleted" })
    );
    assert!(!is_live(&app, &up).await && !is_live(&app, &other).await);
    assert_eq!(sign_in(&app, "ada@example.com", PASSWORD).await.status(), 401);
    // The token is refused though still signed, and the tasks are gone.
    let refused = app.list_tasks(up.user_id(), &jwt).await;
    crate::helpers::assert_error(refused, 401, "SESSION_REVOKED").await;
    let eve_jwt = {
        let response =
            app.client.get(app.url("/api/auth/token")).header("cookie", &eve.cookie).send();
        response.await.unwrap().json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    };
    let listed = app.list_tasks(up.user_id(), &eve_jwt).await;
    crate::helpers::assert_error(listed, 403, "FORBIDDEN_USER_ACCESS").await;
    assert!(is_live(&app, &eve).await, "other users untouched");
    if app.db_path.exists() {
        // On SQLite the file tells: the lists went with the tasks.
        let db = rusqlite::Connection::open(&app.db_path).unwrap();
        let left: i64 = db
            .query_row("SELECT count(*) FROM lists WHERE subject = ?1", [up.user_id()], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(left, 0, "the account's lists are deleted with it");
    }
    // The address is free again.
    sign_up(&app, "ada@example.com").await;
}

#[tokio::test]
async fn a_cookie_authenticated_post_needs_a_trusted_origin_and_changes_nothing_without_one() {
    let app = spawn_app_with(|s| {
        s.trusted_origins = "https://app.example".into();
        s.cors_origins = "https://cors.example".into();
    })
    .await;
    let up = sign_up(&app, "ada@example.com").await;
    let send = |origin: Option<&str>| {
        let mut request =
            app.client.post(app.url("/api/auth/sign-out")).header("cookie", &up.cookie);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_auth_error(send(None).await.unwrap(), 403, "MISSING_OR_NULL_ORIGIN").await;
    assert_auth_error(send(Some("null")).await.unwrap(), 403, "MISSING_OR_NULL_ORIGIN").await;
    assert_auth_error(send(Some("https://evil.example")).await.unwrap(), 403, "INVALID_ORIGIN")
        .await;
    assert!(is_live(&app, &up).await, "nothing changed");
    assert_eq!(send(Some("https://app.example")).await.unwrap().status(), 200);
    assert!(!is_live(&app, &up).await);
    // A CORS origin, allowed to send credentials, is trusted to post them too.
    let again = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let from_cors = app
        .client
        .post(app.url("/api/auth/sign-out"))
        .header("cookie", &again.cookie)
        .header("origin", "https://cors.example")
        .send()
        .await
        .unwrap();
    assert_eq!(from_cors.status(), 200);
    assert!(!is_live(&app, &again).await);
    // Without the cookie there is no ambient credential to abuse: bearer clients need no Origin.
    let bearer = sign_up(&app, "eve@example.com").await;
    let response = bearer_post(&app, "/revoke-sessions", &bearer, &json!({})).await;
    assert_eq!(response.status(), 200);
    assert!(!is_live(&app, &bearer).await);
}

#[tokio::test]
async fn the_audit_log_shows_a_user_their_own_security_events_newest_first() {
    let app = spawn_app().await;
    let ada = sign_up(&app, "ada@example.com").await;
    let eve = sign_up(&app, "eve@example.com").await;
    assert_eq!(sign_in(&app, "ada@example.com", "not the passphrase").await.status(), 401);
    let second = signed_in(sign_in(&app, "ada@example.com", PASSWORD).await).await;
    let change = json!({ "currentPassword": PASSWORD, "newPassword": "a brand new passphrase" });
    assert_eq!(browser_post(&app, "/change-password", &ada, &change).await.status(), 200);
    assert_eq!(bearer_post(&app, "/revoke-other-sessions", &ada, &json!({})).await.status(), 200);
    assert!(!is_live(&app, &second).await);

    // The failed sign-in is recorded after its answer: wait for it, within a bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let events = loop {
        let response = app
            .client
            .get(app.url("/api/auth/audit"))
            .header("cookie", &ada.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let events: Vec<Value> = response.json().await.unwrap();
        if events.len() >= 5 || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::task::yield_now().await;
    };
    let mut names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names[..2], ["other-sessions-revoked", "password-changed"], "newest first");
    assert_eq!(names.pop(), Some("sign-up"), "oldest last");
    // The failed sign-in is written after its answer, so it may land after the next sign-in.
    names.sort_unstable();
    assert_eq!(names, ["other-sessions-revoked", "password-changed", "sign-in", "sign-in-failed"]);
    assert_eq!(events[0]["ipAddress"], "127.0.0.1");
    assert!(events[0]["createdAt"].as_str().is_some());
    assert!(!serde_json::to_string(&events).unwrap().contains(PASSWORD), "no secrets");

    let theirs: Vec<Value> = app
        .client
        .get(app.url("/api/auth/audit"))
        .header("cookie", &eve.cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1, "only their own: {theirs:?}");
    let none = app.client.get(app.url("/api/auth/audit")).send().await.unwrap();
    assert_auth_error(none, 401, "UNAUTHORIZED").await;
}

/// A POST to `path` as a browser on `origin` would send it, without any cookie.
async fn cookieless_post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: (&str, &str),
) -> reqwest::Response {
    let mut request = app.client.post(app.url(&format!("/api/auth{path}")));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.header("content-type", body.0).body(body.1.to_owned()).send().await.unwrap()
}

#[tokio::test]
async fn login_csrf_a_cross_site_sign_in_or_sign_up_is_refused_without_any_cookie() {
    let app = spawn_app().await;
    sign_up(&app, "attacker@example.com").await;
    let json = r#"{"email":"attacker@example.com","password":"a long enough passphrase"}"#;
    let sign_up_json =
        r#"{"name":"A","email":"new@example.com","password":"a long enough passphrase"}"#;
    // A cross-site page: an untrusted Origin, a null one (sandboxed frames, data: URLs), or
    // only Sec-Fetch-Site where a browser sends no Origin.
    for (headers, code) in [
        (vec![("origin", "https://evil.example")], "INVALID_ORIGIN"),
        (vec![("origin", "null")], "MISSING_OR_NULL_ORIGIN"),
        (vec![("sec-fetch-site", "cross-site")], "INVALID_ORIGIN"),
        (vec![("sec-fetch-site", "same-site")], "INVALID_ORIGIN"),
    ] {
        for (path, body) in [("/sign-in/email", json), ("/sign-up/email", sign_up_json)] {
            let response = cookieless_post(&app, path, &headers, ("application/json", body)).await;
            assert!(response.headers().get("set-cookie").is_none(), "{path} {headers:?}");
            assert_auth_error(response, 403, code).await;
        }
    }
    // The form's own trick: a text/plain body that happens to be JSON, from no origin at all.
    let form = r#"{"email":"attacker@example.com","password":"a long enough passphrase","x":"="}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"] {
        let response = cookieless_post(&app, "/sign-in/email", &[], (content_type, form)).await;
        assert!(response.headers().get("set-cookie").is_none(), "{content_type}");
        assert_auth_error(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    }
    let no_type = app
        .client
        .post(app.url("/api/auth/sign-in/email"))
        .body(json.to_owned())
        .send()
        .await
        .unwrap();
    assert_auth_error(no_type, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    // No account was made by the refused sign-ups.
    let taken = sign_in(&app, "new@example.com", PASSWORD).await;
    assert_auth_error(taken, 401, "INVALID_EMAIL_OR_PASSWORD").await;
    // Clients that are no browser (curl, Better Auth's client in Node) and the app itself work.
    let curl = cookieless_post(&app, "/sign-in/email", &[], ("application/json", json)).await;
    assert_eq!(curl.status(), 200);
    let own = [("origin", app.address.as_str()), ("sec-fetch-site", "same-origin")];
    let app_itself =
        cookieless_post(&app, "/sign-in/email", &own, ("application/json; charset=utf-8", json))
            .await;
    assert_eq!(app_itself.status(), 200);
}

#[tokio::test]
async fn every_loopback_name_of_the_service_is_its_own_origin() {
    let app = spawn_app().await;
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    for (n, host) in ["localhost", "127.0.0.1", "[::1]"].into_iter().enumerate() {
        let origin = format!("http://{host}:{port}");
        let up = sign_up(&app, &format!("ada-{n}@example.com")).await;
        let renamed = app
            .client
            .post(app.url("/api/auth/update-user"))
            .header("cookie", &up.cookie)
            .header("origin", &origin)
            .json(&json!({ "name": "Renamed" }))
            .send()
            .await
            .unwrap();
        assert_eq!(renamed.status(), 200, "{origin}");
        let out = app
            .client
            .post(app.url("/api/auth/sign-out"))
            .header("cookie", &up.cookie)
            .header("origin", &origin)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 200, "{origin}");
        assert!(!is_live(&app, &up).await, "{origin}: signed out for real");
    }
    // Another port on the same host is another origin.
    let up = sign_up(&app, "eve@example.com").await;
    let elsewhere = app
        .client
        .post(app.url("/api/auth/sign-out"))
        .header("cookie", &up.cookie)
        .header("origin", "http://localhost:1")
        .send()
        .await
        .unwrap();
    assert_auth_error(elsewhere, 403, "INVALID_ORIGIN").await;
}

#[tokio::test]
async fn names_and_images_with_control_or_bidirectional_characters_are_refused() {
    let app = spawn_app().await;
    for (field, value) in [
        ("name", "Ada\u{0}"),
        ("name", "Ada\u{202E}gpj.exe"),
        ("name", "Ada\u{2066}x"),
        ("name", "line\nbreak"),
        ("image", "https://img.example/a\u{0}.png"),
    ] {
        let mut body = json!({ "name": "Ada", "email": "x@example.com", "password": PASSWORD });
        body[field] = json!(value);
        let response = crate::accounts::post(&app, "/sign-up/email", &body).await;
        assert_auth_error(response, 400, "VALIDATION_ERROR").await;
        let ada = sign_up(&app, &format!("ada{}@example.com", value.len())).await;
        let update = bearer_post(&app, "/update-user", &ada, &json!({ field: value })).await;
        assert_auth_error(update, 400, "VALIDATION_ERROR").await;
    }
}

#[tokio::test]
async fn composed_and_decomposed_spellings_of_an_email_are_one_account() {
    let app = spawn_app().await;
    sign_up(&app, "jos\u{e9}@example.com").await;
    let body = json!({ "name": "Other", "email": "jose\u{301}@example.com", "password": PASSWORD });
    let again = crate::accounts::post(&app, "/sign-up/email", &body).await;
    assert_auth_error(again, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL").await;
    assert_eq!(sign_in(&app, "JOSE\u{301}@example.com", PASSWORD).await.status(), 200);
}
