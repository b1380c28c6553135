//! The OpenAPI document is exact: every error response has its own description and examples
//! whose body is what the service really answers with that status, on the task API and on
//! `/api/auth` alike.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::accounts::{PASSWORD, SignedIn, assert_auth_error, post, sign_in, sign_up};
use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with, token_for};
use taskgate::config::Switch;

async fn document(app: &TestApp) -> Value {
    let response = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A response object, with a `$ref` to `#/components/responses/...` followed.
fn resolve<'d>(doc: &'d Value, response: &'d Value) -> &'d Value {
    match response["$ref"].as_str() {
        Some(reference) => {
            let name = reference.strip_prefix("#/components/responses/").expect(reference);
            let target = &doc["components"]["responses"][name];
            assert!(target.is_object(), "{reference} resolves");
            target
        }
        None => response,
    }
}

/// The error codes a status may carry (README's table; src/error.rs's `ErrorCode::status`).
fn codes_for(status: u16) -> &'static [&'static str] {
    match status {
        400 => &["BAD_REQUEST"],
        401 => &[
            "MISSING_TOKEN",
            "INVALID_HEADER_FORMAT",
            "MALFORMED_TOKEN",
            "INVALID_TOKEN_SIGNATURE",
            "TOKEN_EXPIRED",
            "MISSING_UID_CLAIM",
            "INVALID_TOKEN_CLAIMS",
        ],
        403 => &["FORBIDDEN_USER_ACCESS"],
        404 => &["NOT_FOUND"],
        409 => &[
            "TASK_LIMIT_REACHED",
            "TAG_LIMIT_REACHED",
            "LIST_NAME_TAKEN",
            "LIST_LIMIT_REACHED",
            "LIST_NOT_EMPTY",
            "TASK_HAS_SUBTASKS",
        ],
        412 => &["PRECONDITION_FAILED"],
        413 => &["PAYLOAD_TOO_LARGE"],
        415 => &["UNSUPPORTED_MEDIA_TYPE"],
        422 => &["VALIDATION_ERROR", "IDEMPOTENCY_KEY_REUSED"],
        429 => &["TOO_MANY_REQUESTS"],
        503 => &["SERVICE_UNAVAILABLE"],
        other => panic!("status {other} is not expected in the document"),
    }
}

/// Every operation as ("METHOD path", operation).
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    found
}

/// Whether an operation ("METHOD path") is one of `/api/auth`, whose errors are Better Auth's.
fn is_auth(operation_name: &str) -> bool {
    operation_name.contains(" /api/auth/")
}

/// Every example body of a task API error response, by example name.
fn examples(response: &Value) -> BTreeMap<String, Value> {
    examples_with_schema(response, "ErrorBody")
}

/// Every example body of a response whose schema is `schema`, by example name.
fn examples_with_schema(response: &Value, schema: &str) -> BTreeMap<String, Value> {
    let content = &response["content"]["application/json"];
    assert_eq!(content["schema"]["$ref"], format!("#/components/schemas/{schema}"), "{response}");
    let mut found: BTreeMap<String, Value> = content["examples"]
        .as_object()
        .map(|all| all.iter().map(|(name, ex)| (name.clone(), ex["value"].clone())).collect())
        .unwrap_or_default();
    if let Some(single) = content.get("example") {
        found.insert("example".to_owned(), single.clone());
    }
    found
}

/// Every error response (400 and up) of `operations` as ("METHOD path status", status, the
/// response with its `$ref` followed), once it is checked that each has a description and that
/// no description serves two statuses.
fn error_responses<'d>(
    doc: &'d Value,
    operations: impl IntoIterator<Item = (String, &'d Value)>,
) -> Vec<(String, u16, &'d Value)> {
    let mut descriptions: BTreeMap<&str, BTreeSet<u16>> = BTreeMap::new();
    let mut found = Vec::new();
    for (operation_name, operation) in operations {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let status: u16 = status.parse().unwrap();
            if status < 400 {
                continue;
            }
            let response = resolve(doc, response);
            let description = response["description"].as_str().unwrap();
            assert!(!description.is_empty(), "{operation_name} {status}");
            descriptions.entry(description).or_default().insert(status);
            found.push((format!("{operation_name} {status}"), status, response));
        }
    }
    for (description, statuses) in descriptions {
        assert_eq!(statuses.len(), 1, "{description:?} is shared by statuses {statuses:?}");
    }
    found
}

#[tokio::test]
async fn every_error_response_has_its_own_description_and_examples_of_its_own_status() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut checked = 0;
    let task_api = operations(&doc).into_iter().filter(|(name, _)| !is_auth(name));
    for (response_name, status, response) in error_responses(&doc, task_api) {
        let examples = examples(response);
        assert!(!examples.is_empty(), "{response_name} has examples");
        for (name, body) in examples {
            let at = format!("{response_name} example {name}: {body}");
            assert_eq!(body["status_code"], status, "{at}");
            let code = body["error_code"].as_str().expect(&at);
            assert!(codes_for(status).contains(&code), "{at}");
            assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{at}");
            if code == "VALIDATION_ERROR" {
                let errors = body["errors"].as_array().expect(&at);
                assert!(!errors.is_empty(), "{at}");
                for error in errors {
                    assert!(error["field"].as_str().is_some_and(|f| !f.is_empty()), "{at}");
                    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{at}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} examples checked");
}

#[tokio::test]
async fn each_route_documents_the_statuses_it_can_answer() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let common = [401, 403, 429, 503];
    let with_body = [400, 413, 415];
    let expected: [(&str, &[u16]); 6] = [
        ("GET /api/{user_id}/tasks", &[422]),
        ("POST /api/{user_id}/tasks", &[400, 413, 415, 422]),
        ("GET /api/{user_id}/tasks/{id}", &[404, 422]),
        ("PUT /api/{user_id}/tasks/{id}", &[400, 404, 413, 415, 422]),
        ("DELETE /api/{user_id}/tasks/{id}", &[404, 422]),
        ("PATCH /api/{user_id}/tasks/{id}/complete", &with_body),
    ];
    let operations: BTreeMap<String, &Value> = operations(&doc).into_iter().collect();
    for (name, specific) in expected {
        let operation = operations.get(name).unwrap_or_else(|| panic!("{name} documented"));
        let documented: BTreeSet<u16> = operation["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|s| s.parse().unwrap())
            .collect();
        for status in common.iter().chain(specific) {
            assert!(documented.contains(status), "{name} documents {status}: {documented:?}");
        }
        for status in [429, 503] {
            let response = resolve(&doc, &operation["responses"][status.to_string()]);
            assert!(response["headers"].get("Retry-After").is_some(), "{name} {status}");
        }
        let unauthorized = resolve(&doc, &operation["responses"]["401"]);
        let codes: BTreeSet<String> = examples(unauthorized)
            .values()
            .map(|body| body["error_code"].as_str().unwrap().to_owned())
            .collect();
        assert!(codes.contains("MISSING_TOKEN") && codes.contains("TOKEN_EXPIRED"), "{codes:?}");
    }
    let complete = operations["PATCH /api/{user_id}/tasks/{id}/complete"];
    assert!(
        complete["responses"].get("404").is_some() && complete["responses"].get("422").is_some()
    );
}

#[tokio::test]
async fn post_tasks_documents_the_idempotency_key_and_its_reuse() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let post = &doc["paths"]["/api/{user_id}/tasks"]["post"];
    let header = post["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("an Idempotency-Key parameter");
    assert_eq!(header["in"], "header");
    assert_eq!(header["required"], false);
    assert_eq!(header["schema"]["type"], "string", "a header is never null: {header}");
    let codes: Vec<String> = examples(resolve(&doc, &post["responses"]["422"]))
        .values()
        .map(|body| body["error_code"].as_str().unwrap().to_owned())
        .collect();
    assert!(codes.contains(&"IDEMPOTENCY_KEY_REUSED".to_owned()), "{codes:?}");
    assert!(codes.contains(&"VALIDATION_ERROR".to_owned()), "{codes:?}");
    let put = &doc["paths"]["/api/{user_id}/tasks/{id}"]["put"];
    let put_codes = serde_json::to_string(resolve(&doc, &put["responses"]["422"])).unwrap();
    assert!(!put_codes.contains("IDEMPOTENCY_KEY_REUSED"), "only POST takes the key");
}

#[tokio::test]
async fn health_endpoints_are_documented_without_security() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for path in ["/healthz", "/readyz"] {
        let get = &doc["paths"][path]["get"];
        assert!(get.is_object(), "{path} documented");
        assert!(get.get("security").is_none(), "{path} needs no token");
        let ok = resolve(&doc, &get["responses"]["200"]);
        assert_eq!(ok["content"]["application/json"]["example"], json!({ "status": "ok" }));
        let live: Value = app.client.get(app.url(path)).send().await.unwrap().json().await.unwrap();
        assert_eq!(live, json!({ "status": "ok" }), "the example is what {path} answers");
    }
    let not_ready = resolve(&doc, &doc["paths"]["/readyz"]["get"]["responses"]["503"]);
    let bodies = examples(not_ready);
    assert!(bodies.values().all(|b| b["error_code"] == "SERVICE_UNAVAILABLE"), "{bodies:?}");
}

/// Finds the example called `name` among a component's examples.
fn example_of(doc: &Value, component: &str, name: &str) -> Value {
    doc["components"]["responses"][component]["content"]["application/json"]["examples"][name]
        ["value"]
        .clone()
}

#[tokio::test]
async fn examples_are_the_bodies_the_service_really_answers() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let token = token_for("u");
    let id = app.new_task("u", "a task").await["id"].as_str().unwrap().to_owned();
    let url = |path: &str| app.url(&format!("/api/u{path}"));
    let check = async |component: &str, name: &str, response: reqwest::Response| {
        let expected = example_of(&doc, component, name);
        let status = expected["status_code"].as_u64().expect(name) as u16;
        let code = expected["error_code"].as_str().unwrap().to_owned();
        let body = assert_error(response, status, &code).await;
        assert_eq!(body, expected, "{component} {name}");
    };
    let post = |body: Value| app.authed(app.client.post(url("/tasks")), &token).json(&body).send();

    check("Unauthorized", "missing_token", app.client.get(url("/tasks")).send().await.unwrap())
        .await;
    let expired = crate::helpers::sign(&json!({ "sub": "u", "exp": crate::helpers::now() - 5 }));
    check("Unauthorized", "token_expired", app.list_tasks("u", &expired).await).await;
    check("Forbidden", "forbidden_user_access", app.list_tasks("someone-else", &token).await).await;
    let missing = "01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d";
    check("NotFound", "not_found", app.get_task("u", &token, missing).await).await;
    check("InvalidTaskId", "malformed_task_id", app.get_task("u", &token, "42").await).await;
    let query = |q: &str| app.authed(app.client.get(url(&format!("/tasks?{q}"))), &token).send();
    check("InvalidListQuery", "bad_limit", query("limit=0").await.unwrap()).await;
    check("InvalidListQuery", "bad_cursor", query("cursor=!").await.unwrap()).await;
    check("InvalidNewTask", "empty_title", post(json!({ "title": "  " })).await.unwrap()).await;
    let several = json!({ "title": "\u{200B}", "description": "invoice \u{202E}fdp.exe" });
    check("InvalidNewTask", "several_fields", post(several).await.unwrap()).await;
    let unknown = json!({ "title": "t", "id": missing });
    check("InvalidNewTask", "unknown_field", post(unknown.clone()).await.unwrap()).await;
    let put = app.replace_task("u", &token, &id, &unknown).await;
    check("InvalidTask", "unknown_field", put).await;
    let patch = app.complete_task("u", &token, &id, Some(&json!({ "completed": "yes" }))).await;
    check("InvalidCompletion", "completed_not_a_boolean", patch).await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.authed(app.client.post(url("/tasks")), &token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    check("BadRequest", "bad_request", raw("{\"title\":", "application/json").await.unwrap()).await;
    check(
        "UnsupportedMediaType",
        "unsupported_media_type",
        raw("title=t", "text/plain").await.unwrap(),
    )
    .await;
    let big = app
        .authed(app.client.post(url("/tasks")), &token)
        .header("content-type", "application/json")
        .body(vec![b' '; 65 * 1024])
        .send()
        .await
        .unwrap();
    check("PayloadTooLarge", "payload_too_large", big).await;

    // The organising fields, the merge patch, the list's parameters, conditions and tags.
    let bad_fields = json!({ "title": "Buy milk", "tags": ["Work", "x".repeat(33)],
        "due": { "date": "2026-02-30", "time": "09:30", "time_zone": "Mars/Olympus" } });
    check("InvalidNewTask", "bad_tags_and_due", post(bad_fields.clone()).await.unwrap()).await;
    check("InvalidTask", "bad_tags_and_due", app.replace_task("u", &token, &id, &bad_fields).await)
        .await;
    let merge = |body: Value| {
        app.authed(app.client.patch(url(&format!("/tasks/{id}"))), &token)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string())
            .send()
    };
    check("InvalidPatch", "null_title", merge(json!({ "title": null })).await.unwrap()).await;
    check("InvalidPatch", "unknown_member", merge(json!({ "colour": "red" })).await.unwrap()).await;
    for (name, q) in [
        ("unknown_parameter", "colour=red"),
        ("bad_date", "due_from=2026-02-30"),
        ("bad_zone", "overdue=true&tz=Mars/Olympus"),
        ("bad_sort", "sort=size"),
    ] {
        check("InvalidListQuery", name, query(q).await.unwrap()).await;
    }
    let stale = app
        .authed(app.client.delete(url(&format!("/tasks/{id}"))), &token)
        .header("if-match", "\"99\"")
        .send()
        .await
        .unwrap();
    check("PreconditionFailed", "precondition_failed", stale).await;
    app.authed(app.client.patch(url(&format!("/tasks/{id}"))), &token)
        .json(&json!({ "tags": ["job"] }))
        .send()
        .await
        .unwrap();
    let rename = app
        .authed(app.client.patch(url("/tags/job")), &token)
        .json(&json!({ "name": " " }))
        .send()
        .await
        .unwrap();
    check("InvalidTagRename", "empty_name", rename).await;
}

// ---- /api/auth ----

const README: &str = include_str!("../../README.md");

/// The README's `/api/auth` section, up to the next section.
fn readme_auth_section() -> &'static str {
    let start = README.find("## Accounts and sessions (`/api/auth`)").expect("the README section");
    let section = &README[start..];
    let end = section[1..].find("\n## ").map_or(section.len(), |at| at + 1);
    &section[..end]
}

/// The routes the README says `/api/auth` serves, as "METHOD /api/auth/path".
fn readme_auth_routes() -> BTreeSet<String> {
    let listing = readme_auth_section().split("\n\n").nth(1).expect("the route listing");
    listing
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| {
            let (method, path) = code.split_once(' ')?;
            (matches!(method, "GET" | "POST") && path.starts_with('/'))
                .then(|| format!("{method} /api/auth{path}"))
        })
        .collect()
}

/// The README's table of `/api/auth` error codes, by status.
fn readme_auth_codes() -> BTreeMap<u16, BTreeSet<String>> {
    let mut codes: BTreeMap<u16, BTreeSet<String>> = BTreeMap::new();
    let rows = readme_auth_section()
        .lines()
        .skip_while(|line| !line.starts_with("| status | `code` on `/api/auth` |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let statuses: Vec<u16> = cells[1].split('/').map(|s| s.trim().parse().unwrap()).collect();
        // "404 / 405 | `NOT_FOUND` / `METHOD_NOT_ALLOWED`": one group of codes per status.
        let groups: Vec<&str> =
            if statuses.len() > 1 { cells[2].split(" / ").collect() } else { vec![cells[2]] };
        assert_eq!(groups.len(), statuses.len(), "{row}");
        for (status, group) in statuses.into_iter().zip(groups) {
            let named = group.split('`').skip(1).step_by(2);
            let named = named.filter(|c| c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'));
            codes.entry(status).or_default().extend(named.map(str::to_owned));
        }
    }
    assert!(codes.len() >= 9, "the README's table is read: {codes:?}");
    codes
}

/// The `/api/auth` operations, by "METHOD path".
fn auth_operations(doc: &Value) -> BTreeMap<String, &Value> {
    operations(doc).into_iter().filter(|(name, _)| is_auth(name)).collect()
}

/// Every example body of a Better Auth error response, by example name.
fn auth_examples(response: &Value) -> BTreeMap<String, Value> {
    examples_with_schema(response, "AuthErrorBody")
}

/// Sends `method path` with no credential (and an empty JSON body for a POST).
async fn send(app: &TestApp, method: &str, path: &str) -> reqwest::Response {
    let request = match method {
        "GET" => app.client.get(app.url(path)),
        "POST" => app.client.post(app.url(path)).json(&json!({})),
        other => panic!("{other}"),
    };
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_auth_route_is_served_and_documented_with_its_method() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let routes = readme_auth_routes();
    assert_eq!(routes.len(), 14, "the README's route listing is read: {routes:?}");
    let documented: BTreeSet<String> = auth_operations(&doc).into_keys().collect();
    assert_eq!(documented, routes, "the document's /api/auth routes are the README's");
    for route in &routes {
        let (method, path) = route.split_once(' ').unwrap();
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert_eq!(operation["tags"], json!(["auth"]), "{route}");
        // Served with this method: neither the router's 404 nor its 405...
        let response = send(&app, method, path).await;
        assert!(![404, 405].contains(&response.status().as_u16()), "{route}: {response:?}");
        // ...and only with it.
        let other = if method == "GET" { "POST" } else { "GET" };
        assert_auth_error(send(&app, other, path).await, 405, "METHOD_NOT_ALLOWED").await;
    }
}

#[tokio::test]
async fn every_auth_error_response_has_its_own_description_and_examples_of_readme_codes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let readme = readme_auth_codes();
    let mut checked = 0;
    for (response_name, status, response) in error_responses(&doc, auth_operations(&doc)) {
        let allowed = readme.get(&status).unwrap_or_else(|| panic!("README lists {status}"));
        let examples = auth_examples(response);
        assert!(!examples.is_empty(), "{response_name} has examples");
        for (name, body) in examples {
            let at = format!("{response_name} example {name}: {body}");
            let fields: BTreeSet<&str> =
                body.as_object().expect(&at).keys().map(String::as_str).collect();
            assert_eq!(fields, BTreeSet::from(["code", "message"]), "{at}");
            assert!(allowed.contains(body["code"].as_str().expect(&at)), "{at}: {allowed:?}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{at}");
            checked += 1;
        }
        if status == 429 {
            for header in ["Retry-After", "X-Retry-After"] {
                assert!(response["headers"].get(header).is_some(), "{response_name} {header}");
            }
        }
    }
    assert!(checked > 80, "only {checked} examples checked");
}

#[tokio::test]
async fn auth_routes_document_the_statuses_they_answer_without_a_session_and_their_security() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["BearerAuth"]["bearerFormat"], "JWT", "the task API's scheme stays");
    assert_eq!(schemes["SessionCookie"]["in"], "cookie");
    assert_eq!(schemes["SessionCookie"]["name"], "better-auth.session_token");
    assert_eq!(schemes["SessionBearer"]["scheme"], "bearer");
    let session = json!([{ "SessionCookie": [] }, { "SessionBearer": [] }]);
    for (name, operation) in auth_operations(&doc) {
        let (method, path) = name.split_once(' ').unwrap();
        let responses = &operation["responses"];
        for status in ["429", "503"] {
            assert!(responses.get(status).is_some(), "{name} documents {status}");
        }
        assert_eq!(responses.get("403").is_some(), method == "POST", "{name}: cross-site 403");
        let reads_body = operation.get("requestBody").is_some();
        assert_eq!(responses.get("413").is_some(), reads_body, "{name}: 413 iff a body");
        assert_eq!(responses.get("400").is_some(), reads_body, "{name}: 400 iff a body");
        // What the route answers without any credential is what the document says it may.
        let answer = send(&app, method, path).await.status().as_u16();
        let documents_401 = responses.get("401").is_some();
        let needs_session = documents_401 && path != "/api/auth/sign-in/email";
        if needs_session {
            assert_eq!(answer, 401, "{name} without a session");
            assert_eq!(operation["security"], session, "{name} names the session schemes");
        } else {
            assert!(responses.get(answer.to_string()).is_some(), "{name} answered {answer}");
            assert_ne!(operation["security"], session, "{name} needs no session");
        }
    }
}

#[tokio::test]
async fn auth_examples_are_the_bodies_the_service_really_answers() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let check = async |component: &str, name: &str, response: reqwest::Response| {
        let expected = example_of(&doc, component, name);
        let code = expected["code"].as_str().unwrap_or_else(|| panic!("{component} {name}"));
        let status = doc_status(&doc, component);
        let body = assert_auth_error(response, status, code).await;
        assert_eq!(body, expected, "{component} {name}");
    };
    let ada = sign_up(&app, "ada@example.com").await;

    let wrong = sign_in(&app, "ada@example.com", "not the password").await;
    check("AuthInvalidCredentials", "invalid_email_or_password", wrong).await;
    let taken = json!({ "name": "Ada", "email": "ADA@example.com", "password": PASSWORD });
    check("AuthEmailTaken", "user_already_exists", post(&app, "/sign-up/email", &taken).await)
        .await;
    let new =
        |email: &str, password: &str| json!({ "name": "B", "email": email, "password": password });
    let sign_up_with = async |body: Value| post(&app, "/sign-up/email", &body).await;
    check("AuthSignUpRefused", "invalid_email", sign_up_with(new("bob", PASSWORD)).await).await;
    let short = sign_up_with(new("bob@example.com", "short")).await;
    check("AuthSignUpRefused", "password_too_short", short).await;
    let common = sign_up_with(new("bob@example.com", "password123")).await;
    check("AuthSignUpRefused", "password_compromised", common).await;
    let wrong_type = json!({ "email": 5, "password": PASSWORD });
    check("AuthSignInRefused", "validation_error", post(&app, "/sign-in/email", &wrong_type).await)
        .await;
    let token = app.client.get(app.url("/api/auth/token")).send().await.unwrap();
    check("AuthUnauthorized", "unauthorized", token).await;

    let bearer = |path: &str, body: Value| {
        app.client
            .post(app.url(&format!("/api/auth{path}")))
            .header("authorization", format!("Bearer {}", ada.bearer))
            .json(&body)
            .send()
    };
    let email = bearer("/update-user", json!({ "email": "eve@example.com" })).await.unwrap();
    check("AuthUpdateRefused", "email_can_not_be_updated", email).await;
    let guess =
        json!({ "currentPassword": "a wrong guess", "newPassword": "another long passphrase" });
    let changed = bearer("/change-password", guess).await.unwrap();
    check("AuthNewPasswordRefused", "invalid_password", changed).await;

    let with_cookie = |origin: Option<&str>, who: &SignedIn| {
        let request = app
            .client
            .post(app.url("/api/auth/revoke-other-sessions"))
            .header("cookie", &who.cookie);
        match origin {
            Some(origin) => request.header("origin", origin),
            None => request,
        }
        .send()
    };
    check("AuthCrossSite", "missing_or_null_origin", with_cookie(None, &ada).await.unwrap()).await;
    let evil = with_cookie(Some("https://evil.example"), &ada).await.unwrap();
    check("AuthCrossSite", "invalid_origin", evil).await;

    // The router's limit and the edge's (a declared size over the service's) answer alike.
    let oversized = |bytes: usize| {
        app.client
            .post(app.url("/api/auth/sign-in/email"))
            .header("content-type", "application/json")
            .body(vec![b' '; bytes])
            .send()
    };
    check("AuthPayloadTooLarge", "payload_too_large", oversized(17 * 1024).await.unwrap()).await;
    check("AuthPayloadTooLarge", "payload_too_large", oversized(65 * 1024).await.unwrap()).await;

    // Success examples too.
    let ok = with_cookie(Some(&app.address), &ada).await.unwrap();
    assert_eq!(ok.status(), 200);
    let documented = &doc["paths"]["/api/auth/revoke-other-sessions"]["post"]["responses"]["200"];
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body, documented["content"]["application/json"]["example"]);
}

#[tokio::test]
async fn the_rate_limit_example_is_the_body_of_a_real_429() {
    let app = spawn_app_with(|s| s.rate_limit = Switch::On).await;
    let doc = document(&app).await;
    for _ in 0..3 {
        assert_eq!(sign_in(&app, "nobody@example.com", PASSWORD).await.status(), 401);
    }
    let limited = sign_in(&app, "nobody@example.com", PASSWORD).await;
    assert!(limited.headers().contains_key("x-retry-after"));
    let body = assert_auth_error(limited, 429, "TOO_MANY_REQUESTS").await;
    assert_eq!(body, example_of(&doc, "AuthTooManyRequests", "too_many_requests"));
}

/// The one status the error component `component` documents.
fn doc_status(doc: &Value, component: &str) -> u16 {
    let reference = format!("#/components/responses/{component}");
    let statuses: BTreeSet<u16> = operations(doc)
        .into_iter()
        .flat_map(|(_, operation)| operation["responses"].as_object().unwrap().clone())
        .filter(|(_, response)| response["$ref"] == reference.as_str())
        .map(|(status, _)| status.parse().unwrap())
        .collect();
    assert_eq!(statuses.len(), 1, "{component} is used for one status: {statuses:?}");
    statuses.into_iter().next().unwrap()
}

#[tokio::test]
async fn try_it_out_starts_from_a_new_open_task_and_the_document_says_how_to_get_a_token() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let example = doc["components"]["schemas"]["TaskInput"]["example"].clone();
    assert_eq!(example, json!({ "title": "Buy milk" }));
    // Sent as it is, the example makes what a person expects: an open task called "Buy milk".
    let created = app.create_task("u", &token_for("u"), &example).await;
    assert_eq!(created.status(), 201);
    let task: Value = created.json().await.unwrap();
    assert_eq!(
        (task["title"].as_str(), task["completed"].as_bool()),
        (Some("Buy milk"), Some(false))
    );
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(description.contains("/api/auth/token") && description.contains("Authorize"));
    let bearer = doc["components"]["securitySchemes"]["BearerAuth"]["description"].as_str();
    assert!(bearer.unwrap().contains("/api/auth/token"), "{bearer:?}");
}

#[tokio::test]
async fn the_list_documents_every_parameter_it_takes_and_the_conditional_headers() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let get = &doc["paths"]["/api/{user_id}/tasks"]["get"];
    let names: Vec<&str> =
        get["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for name in [
        "limit",
        "cursor",
        "completed",
        "priority",
        "tag",
        "q",
        "due_from",
        "due_to",
        "has_due",
        "overdue",
        "tz",
        "sort",
        "order",
        "If-None-Match",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
        // Each documented query parameter is one the list takes (an unknown one is a 422).
        if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') && name != "cursor" {
            let response = app
                .authed(
                    app.client.get(app.url(&format!("/api/u/tasks?{name}=%00"))),
                    &token_for("u"),
                )
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            assert_ne!(body["errors"][0]["message"], "is not a parameter of this list", "{name}");
        }
    }
    for (method, path) in [
        ("put", "/api/{user_id}/tasks/{id}"),
        ("patch", "/api/{user_id}/tasks/{id}"),
        ("delete", "/api/{user_id}/tasks/{id}"),
        ("patch", "/api/{user_id}/tasks/{id}/complete"),
    ] {
        let operation = &doc["paths"][path][method];
        let takes_if_match =
            operation["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "If-Match");
        assert!(takes_if_match, "{method} {path} documents If-Match");
        assert!(operation["responses"].get("412").is_some(), "{method} {path} documents its 412");
    }
    let patch = &doc["paths"]["/api/{user_id}/tasks/{id}"]["patch"];
    assert!(patch["requestBody"]["content"].get("application/merge-patch+json").is_some());
    for schema in ["Priority", "DueInput", "TagSummary", "TagRename"] {
        assert!(doc["components"]["schemas"].get(schema).is_some(), "{schema}");
    }
    let codes = doc["components"]["schemas"]["ErrorCode"].to_string();
    assert!(codes.contains("PRECONDITION_FAILED") && codes.contains("TAG_LIMIT_REACHED"));
}
