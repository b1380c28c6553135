//! The OpenAPI document is exact: every error response has its own description and examples
//! whose body is what the service really answers with that status.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::{TestApp, assert_error, spawn_app, token_for};

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
        409 => &["TASK_LIMIT_REACHED"],
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

/// Every example body of a response, by example name.
fn examples(response: &Value) -> BTreeMap<String, Value> {
    let content = &response["content"]["application/json"];
    assert_eq!(content["schema"]["$ref"], "#/components/schemas/ErrorBody");
    let mut found: BTreeMap<String, Value> = content["examples"]
        .as_object()
        .map(|all| all.iter().map(|(name, ex)| (name.clone(), ex["value"].clone())).collect())
        .unwrap_or_default();
    if let Some(single) = content.get("example") {
        found.insert("example".to_owned(), single.clone());
    }
    found
}

#[tokio::test]
async fn every_error_response_has_its_own_description_and_examples_of_its_own_status() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut descriptions: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    let mut checked = 0;
    for (operation_name, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let status: u16 = status.parse().unwrap();
            if status < 400 {
                continue;
            }
            let response = resolve(&doc, response);
            let description = response["description"].as_str().unwrap();
            assert!(!description.is_empty(), "{operation_name} {status}");
            descriptions.entry(description.to_owned()).or_default().insert(status);
            let examples = examples(response);
            assert!(!examples.is_empty(), "{operation_name} {status} has examples");
            for (name, body) in examples {
                let at = format!("{operation_name} {status} example {name}: {body}");
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
    }
    assert!(checked > 50, "only {checked} examples checked");
    for (description, statuses) in descriptions {
        assert_eq!(statuses.len(), 1, "{description:?} is shared by statuses {statuses:?}");
    }
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
}
