//! `Idempotency-Key` on `POST /api/{user_id}/tasks`: retries replay the first answer.

use reqwest::Response;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{TestApp, assert_error, spawn_app, token_for};

const KEY: &str = "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"";

/// POSTs `body` (sent as is) to `user`'s tasks with one `Idempotency-Key` header per value.
async fn post_with_keys(app: &TestApp, user: &str, body: &str, keys: &[HeaderValue]) -> Response {
    let mut request = app
        .authed(app.client.post(app.url(&format!("/api/{user}/tasks"))), &token_for(user))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for key in keys {
        request = request.header("idempotency-key", key.clone());
    }
    request.send().await.unwrap()
}

async fn post_with_key(app: &TestApp, user: &str, body: &str, key: &str) -> Response {
    post_with_keys(app, user, body, &[HeaderValue::from_str(key).unwrap()]).await
}

async fn total(app: &TestApp, user: &str) -> String {
    let response = app.list_tasks(user, &token_for(user)).await;
    assert_eq!(response.status(), 200);
    response.headers()["x-total-count"].to_str().unwrap().to_owned()
}

/// Status, `Location`, `Idempotent-Replayed` and the body's bytes.
async fn answer(response: Response) -> (u16, String, Option<String>, String) {
    let header =
        |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let (location, replayed) =
        (header("location").unwrap_or_default(), header("idempotent-replayed"));
    (response.status().as_u16(), location, replayed, response.text().await.unwrap())
}

#[tokio::test]
async fn the_same_key_and_body_twice_answer_the_first_answer_and_create_one_task() {
    let app = spawn_app().await;
    let body = r#"{"title": "Buy milk", "description": "2 litres"}"#;
    let (status, location, replayed, first) =
        answer(post_with_key(&app, "alice", body, KEY).await).await;
    assert_eq!(status, 201);
    assert_eq!(replayed, None, "the first answer is not a replay");
    let task: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(location, format!("/api/alice/tasks/{}", task["id"].as_str().unwrap()));

    let again = answer(post_with_key(&app, "alice", body, KEY).await).await;
    assert_eq!(again, (201, location, Some("true".to_owned()), first), "the same answer, marked");
    assert_eq!(total(&app, "alice").await, "1");
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_422_and_creates_nothing() {
    let app = spawn_app().await;
    let created = post_with_key(&app, "alice", r#"{"title": "Buy milk"}"#, KEY).await;
    assert_eq!(created.status(), 201);
    for other in [
        r#"{"title": "Buy bread"}"#,
        r#"{"title": "Buy milk", "completed": true}"#,
        r#"{"title": "Buy milk", "description": ""}"#,
    ] {
        let reused = post_with_key(&app, "alice", other, KEY).await;
        assert_eq!(reused.headers().get("idempotent-replayed"), None);
        assert_error(reused, 422, "IDEMPOTENCY_KEY_REUSED").await;
    }
    assert_eq!(total(&app, "alice").await, "1");
}

#[tokio::test]
async fn json_white_space_field_order_and_defaults_do_not_make_another_request() {
    let app = spawn_app().await;
    let first = post_with_key(&app, "alice", r#"{"title":"t","description":"d"}"#, KEY).await;
    let first: Value = first.json().await.unwrap();
    for same in [
        "{ \"description\" : \"d\",\n  \"title\" : \"t\" }",
        r#"{"title": "  t  ", "description": "d", "completed": false}"#,
    ] {
        let replay = post_with_key(&app, "alice", same, KEY).await;
        assert_eq!(replay.status(), 201, "{same}");
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        assert_eq!(replay.json::<Value>().await.unwrap(), first);
    }
    assert_eq!(total(&app, "alice").await, "1");
}

#[tokio::test]
async fn the_same_key_from_two_users_creates_two_tasks() {
    let app = spawn_app().await;
    let body = r#"{"title": "Buy milk"}"#;
    let alice: Value = post_with_key(&app, "alice", body, KEY).await.json().await.unwrap();
    let bob = post_with_key(&app, "bob", body, KEY).await;
    assert_eq!(bob.status(), 201);
    assert_eq!(bob.headers().get("idempotent-replayed"), None);
    let bob: Value = bob.json().await.unwrap();
    assert_ne!(alice["id"], bob["id"]);
    assert_eq!(bob["user_id"], "bob");
    assert_eq!((total(&app, "alice").await, total(&app, "bob").await), ("1".into(), "1".into()));
}

#[tokio::test]
async fn without_a_key_two_posts_make_two_tasks() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let response = post_with_keys(&app, "alice", r#"{"title": "Buy milk"}"#, &[]).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers().get("idempotent-replayed"), None);
    }
    assert_eq!(total(&app, "alice").await, "2");
}

#[tokio::test]
async fn the_quoted_and_the_bare_form_name_the_same_key() {
    let app = spawn_app().await;
    let body = r#"{"title": "Buy milk"}"#;
    let quoted: Value =
        post_with_key(&app, "alice", body, "\"abc-123\"").await.json().await.unwrap();
    let bare = post_with_key(&app, "alice", body, "abc-123").await;
    assert_eq!(bare.headers()["idempotent-replayed"], "true");
    assert_eq!(bare.json::<Value>().await.unwrap()["id"], quoted["id"]);
    assert_eq!(total(&app, "alice").await, "1");
}

#[tokio::test]
async fn a_malformed_key_is_422_naming_the_header_and_creates_nothing() {
    let app = spawn_app().await;
    let too_long = format!("\"{}\"", "k".repeat(256));
    let malformed = [
        HeaderValue::from_static(""),
        HeaderValue::from_static("\"\""),
        HeaderValue::from_str(&too_long).unwrap(),
        HeaderValue::from_static("\"two words\""),
        HeaderValue::from_static("\"unterminated"),
        HeaderValue::from_static("\"key\";param=1"),
        HeaderValue::from_static("a,b"),
        HeaderValue::from_bytes(b"\"caf\xc3\xa9\"").unwrap(),
    ];
    for key in malformed {
        let response =
            post_with_keys(&app, "alice", r#"{"title": "t"}"#, std::slice::from_ref(&key)).await;
        let body = assert_error(response, 422, "VALIDATION_ERROR").await;
        assert_eq!(body["errors"][0]["field"], "Idempotency-Key", "{key:?}: {body}");
    }
    let longest = format!("\"{}\"", "k".repeat(255));
    assert_eq!(post_with_key(&app, "alice", r#"{"title": "t"}"#, &longest).await.status(), 201);
    assert_eq!(total(&app, "alice").await, "1");
}

#[tokio::test]
async fn several_idempotency_key_headers_are_422() {
    let app = spawn_app().await;
    let same = HeaderValue::from_static(KEY);
    let response = post_with_keys(&app, "alice", r#"{"title": "t"}"#, &[same.clone(), same]).await;
    let body = assert_error(response, 422, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(total(&app, "alice").await, "0");
}

#[tokio::test]
async fn the_token_is_checked_before_the_key() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/alice/tasks"))
        .header("idempotency-key", "\"unterminated")
        .json(&json!({ "title": "t" }))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "MISSING_TOKEN").await;
}

#[tokio::test]
async fn a_request_refused_as_invalid_does_not_use_up_its_key() {
    let app = spawn_app().await;
    let invalid = post_with_key(&app, "alice", r#"{"title": "   "}"#, KEY).await;
    assert_error(invalid, 422, "VALIDATION_ERROR").await;
    let valid = post_with_key(&app, "alice", r#"{"title": "t"}"#, KEY).await;
    assert_eq!(valid.status(), 201);
    assert_eq!(valid.headers().get("idempotent-replayed"), None);
}

#[tokio::test]
async fn twenty_concurrent_posts_with_one_key_create_one_task_and_all_answer_it() {
    let app = spawn_app().await;
    let app = std::sync::Arc::new(app);
    let mut posts = JoinSet::new();
    for _ in 0..20 {
        let app = app.clone();
        posts.spawn(async move {
            let response = post_with_key(&app, "alice", r#"{"title": "Buy milk"}"#, KEY).await;
            assert_eq!(response.status(), 201);
            let replayed = response.headers().contains_key("idempotent-replayed");
            let task: Value = response.json().await.unwrap();
            (task["id"].as_str().unwrap().to_owned(), replayed)
        });
    }
    let answers = posts.join_all().await;
    let ids: std::collections::HashSet<_> = answers.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), 1, "every answer names the one task: {answers:?}");
    let fresh = answers.iter().filter(|(_, replayed)| !replayed).count();
    assert_eq!(fresh, 1, "one request created it, the others replayed it");
    assert_eq!(total(&app, "alice").await, "1");
}

#[tokio::test]
async fn a_replay_after_the_task_was_deleted_still_answers_the_first_answer() {
    let app = spawn_app().await;
    let body = r#"{"title": "Buy milk"}"#;
    let (_, location, _, first) = answer(post_with_key(&app, "alice", body, KEY).await).await;
    let id = serde_json::from_str::<Value>(&first).unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete_task("alice", &token_for("alice"), &id).await.status(), 204);

    let replay = answer(post_with_key(&app, "alice", body, KEY).await).await;
    assert_eq!(replay, (201, location, Some("true".to_owned()), first));
    assert_eq!(total(&app, "alice").await, "0", "the replay did not create the task again");
}
