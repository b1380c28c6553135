//! The task API's happy paths, validation and paging.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, token_for};

#[tokio::test]
async fn a_created_task_is_returned_with_201_and_its_location() {
    let app = spawn_app().await;
    let token = token_for("alice");
    let response = app
        .create_task(
            "alice",
            &token,
            &json!({ "title": "  Buy milk  ", "description": "2 litres" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/alice/tasks/{}", task["id"].as_str().unwrap()));
    assert_eq!(task["title"], "Buy milk", "the title is trimmed");
    assert_eq!(task["description"], "2 litres");
    assert_eq!(task["user_id"], "alice");
    assert_eq!(task["completed"], false);
    assert_eq!(task["completed_at"], Value::Null);
    let id = uuid::Uuid::parse_str(task["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 7, "ids are UUIDv7");
    for field in ["created_at", "updated_at"] {
        let stamp = task[field].as_str().unwrap();
        assert!(stamp.ends_with('Z'), "{field} is UTC: {stamp}");
        time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).unwrap();
    }

    let fetched = app.get_task("alice", &token, task["id"].as_str().unwrap()).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.json::<Value>().await.unwrap(), task);
}

#[tokio::test]
async fn a_task_created_completed_has_a_completion_time() {
    let app = spawn_app().await;
    let response =
        app.create_task("a", &token_for("a"), &json!({ "title": "t", "completed": true })).await;
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["completed"], true);
    assert_eq!(task["completed_at"], task["created_at"]);
}

#[tokio::test]
async fn the_list_is_newest_first_with_a_total_and_no_store() {
    let app = spawn_app().await;
    for title in ["first", "second", "third"] {
        app.new_task("bob", title).await;
    }
    let response = app.list_tasks("bob", &token_for("bob")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-total-count"], "3");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().get("link").is_none(), "no next page");
    let tasks: Vec<Value> = response.json().await.unwrap();
    let titles: Vec<&str> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["third", "second", "first"]);
}

#[tokio::test]
async fn an_empty_list_is_an_empty_array() {
    let app = spawn_app().await;
    let response = app.list_tasks("nobody", &token_for("nobody")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-total-count"], "0");
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
}

#[tokio::test]
async fn pages_follow_the_link_header_until_the_end() {
    let app = spawn_app().await;
    let token = token_for("carol");
    for n in 0..5 {
        app.new_task("carol", &format!("task {n}")).await;
    }
    let mut url = app.url("/api/carol/tasks?limit=2");
    let mut seen = Vec::new();
    loop {
        let response = app.authed(app.client.get(&url), &token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-total-count"], "5");
        let next = response.headers().get("link").map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.into_iter().map(|t| t["title"].as_str().unwrap().to_owned()));
        match next {
            Some(link) => {
                assert!(link.ends_with(r#">; rel="next""#), "{link}");
                let path = link.trim_start_matches('<').split('>').next().unwrap();
                url = app.url(path);
            }
            None => break,
        }
    }
    assert_eq!(seen, ["task 4", "task 3", "task 2", "task 1", "task 0"]);
}

#[tokio::test]
async fn bad_paging_parameters_are_422() {
    let app = spawn_app().await;
    let token = token_for("dave");
    for query in ["limit=0", "limit=501", "limit=ten", "cursor=not-a-cursor", "cursor=AAAA"] {
        let response = app
            .authed(app.client.get(app.url(&format!("/api/dave/tasks?{query}"))), &token)
            .send()
            .await
            .unwrap();
        assert_error(response, 422, "VALIDATION_ERROR").await;
    }
    let ok = app
        .authed(app.client.get(app.url("/api/dave/tasks?limit=500")), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn put_replaces_every_field_and_clears_omitted_ones() {
    let app = spawn_app().await;
    let token = token_for("erin");
    let created = app
        .create_task(
            "erin",
            &token,
            &json!({ "title": "old", "description": "desc", "completed": true }),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let response = app.replace_task("erin", &token, id, &json!({ "title": "new" })).await;
    assert_eq!(response.status(), 200);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["title"], "new");
    assert_eq!(task["description"], Value::Null, "omitted description is cleared");
    assert_eq!(task["completed"], false, "omitted completed becomes false");
    assert_eq!(task["completed_at"], Value::Null);
    assert_eq!(task["created_at"], created["created_at"]);
    assert_eq!(task["id"], created["id"]);
    assert_eq!(app.get_task("erin", &token, id).await.json::<Value>().await.unwrap(), task);
}

#[tokio::test]
async fn patch_complete_toggles_and_sets() {
    let app = spawn_app().await;
    let token = token_for("fay");
    let task = app.new_task("fay", "t").await;
    let id = task["id"].as_str().unwrap();

    let done: Value = app.complete_task("fay", &token, id, None).await.json().await.unwrap();
    assert_eq!(done["completed"], true);
    assert!(done["completed_at"].is_string());

    let set_again: Value = app
        .complete_task("fay", &token, id, Some(&json!({ "completed": true })))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set_again["completed"], true, "setting is not toggling");
    assert_eq!(set_again["completed_at"], done["completed_at"], "completion time is kept");

    let undone: Value = app.complete_task("fay", &token, id, None).await.json().await.unwrap();
    assert_eq!(undone["completed"], false);
    assert_eq!(undone["completed_at"], Value::Null);

    let response = app.complete_task("fay", &token, id, Some(&json!({ "completed": "yes" }))).await;
    assert_error(response, 422, "VALIDATION_ERROR").await;
}

#[tokio::test]
async fn delete_removes_the_task() {
    let app = spawn_app().await;
    let token = token_for("gus");
    let task = app.new_task("gus", "t").await;
    let id = task["id"].as_str().unwrap();
    let response = app.delete_task("gus", &token, id).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_error(app.get_task("gus", &token, id).await, 404, "NOT_FOUND").await;
    assert_error(app.delete_task("gus", &token, id).await, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn invalid_task_bodies_are_422_with_field_errors() {
    let app = spawn_app().await;
    let token = token_for("hal");
    let cases = [
        (json!({}), "title"),
        (json!({ "title": "   " }), "title"),
        (json!({ "title": "x".repeat(201) }), "title"),
        (json!({ "title": "line\nbreak" }), "title"),
        (json!({ "title": 5 }), "title"),
        (json!({ "title": "ok", "description": "d".repeat(1001) }), "description"),
        (json!({ "title": "ok", "completed": "yes" }), "completed"),
        (json!({ "title": "ok", "id": "01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d" }), "id"),
        (json!({ "title": "ok", "user_id": "mallory" }), "user_id"),
        (json!({ "title": "ok", "created_at": "2020-01-01T00:00:00Z" }), "created_at"),
        (json!({ "title": "ok", "colour": "red" }), "colour"),
        (json!(["title"]), "body"),
    ];
    for (body, field) in cases {
        let response = app.create_task("hal", &token, &body).await;
        assert_eq!(response.status(), 422, "for {body}");
        let error = assert_error(response, 422, "VALIDATION_ERROR").await;
        assert_eq!(error["errors"][0]["field"], field, "for {body}: {error}");
        assert!(error["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Exactly 200 characters (not bytes) is fine.
    let response = app.create_task("hal", &token, &json!({ "title": "é".repeat(200) })).await;
    assert_eq!(response.status(), 201);
    let listed = app.list_tasks("hal", &token).await;
    assert_eq!(listed.headers()["x-total-count"], "1", "nothing invalid was stored");
}

#[tokio::test]
async fn a_put_with_an_invalid_body_changes_nothing() {
    let app = spawn_app().await;
    let token = token_for("ivy");
    let task = app.new_task("ivy", "keep me").await;
    let id = task["id"].as_str().unwrap();
    let response = app.replace_task("ivy", &token, id, &json!({ "title": "" })).await;
    assert_error(response, 422, "VALIDATION_ERROR").await;
    assert_eq!(app.get_task("ivy", &token, id).await.json::<Value>().await.unwrap(), task);
}

#[tokio::test]
async fn a_malformed_task_id_is_422() {
    let app = spawn_app().await;
    let token = token_for("jo");
    let error =
        assert_error(app.get_task("jo", &token, "not-a-uuid").await, 422, "VALIDATION_ERROR").await;
    assert_eq!(error["errors"][0]["field"], "id");
    assert_error(app.delete_task("jo", &token, "123").await, 422, "VALIDATION_ERROR").await;
}

#[tokio::test]
async fn a_missing_task_is_404() {
    let app = spawn_app().await;
    let token = token_for("kim");
    let id = uuid::Uuid::now_v7().to_string();
    assert_error(app.get_task("kim", &token, &id).await, 404, "NOT_FOUND").await;
    assert_error(
        app.replace_task("kim", &token, &id, &json!({ "title": "x" })).await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_error(app.complete_task("kim", &token, &id, None).await, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn writes_are_visible_to_the_very_next_read() {
    let app = spawn_app().await;
    let token = token_for("lee");
    for n in 1..=20 {
        app.new_task("lee", &format!("t{n}")).await;
        let response = app.list_tasks("lee", &token).await;
        assert_eq!(response.headers()["x-total-count"], n.to_string().as_str());
    }
}

#[tokio::test]
async fn concurrent_creates_all_land() {
    // More at once than the default per-user cap of requests in flight.
    let app = std::sync::Arc::new(spawn_app_with(|s| s.max_inflight_per_user = 64).await);
    let mut handles = Vec::new();
    for n in 0..50 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            app.create_task("max", &token_for("max"), &json!({ "title": format!("t{n}") }))
                .await
                .status()
        }));
    }
    for handle in handles {
        assert_eq!(handle.await.unwrap(), 201);
    }
    let response = app.list_tasks("max", &token_for("max")).await;
    assert_eq!(response.headers()["x-total-count"], "50");
}

#[tokio::test]
async fn the_list_reflects_every_kind_of_write_at_once() {
    let app = spawn_app().await;
    let token = token_for("nia");
    let titles = |tasks: &Vec<Value>| -> Vec<(String, bool)> {
        tasks
            .iter()
            .map(|t| (t["title"].as_str().unwrap().to_owned(), t["completed"].as_bool().unwrap()))
            .collect()
    };
    let list = || async { app.list_tasks("nia", &token).await.json::<Vec<Value>>().await.unwrap() };
    let a = app.new_task("nia", "a").await;
    let b = app.new_task("nia", "b").await;
    assert_eq!(titles(&list().await), [("b".into(), false), ("a".into(), false)]);
    // Read twice so a cached page exists, then change the data under it in every way.
    assert_eq!(titles(&list().await), [("b".into(), false), ("a".into(), false)]);

    app.replace_task("nia", &token, a["id"].as_str().unwrap(), &json!({ "title": "a2" })).await;
    assert_eq!(titles(&list().await), [("b".into(), false), ("a2".into(), false)]);
    app.complete_task("nia", &token, b["id"].as_str().unwrap(), None).await;
    assert_eq!(titles(&list().await), [("b".into(), true), ("a2".into(), false)]);
    app.delete_task("nia", &token, b["id"].as_str().unwrap()).await;
    assert_eq!(titles(&list().await), [("a2".into(), false)]);
    // Another user's writes leave this user's list as it is.
    app.new_task("other", "x").await;
    assert_eq!(titles(&list().await), [("a2".into(), false)]);
}

#[tokio::test]
async fn under_concurrent_writes_every_read_after_a_write_sees_it() {
    let app = std::sync::Arc::new(spawn_app().await);
    let mut workers = Vec::new();
    for worker in 0..8 {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            let token = token_for("race");
            for n in 0..15 {
                let created = app.new_task("race", &format!("w{worker}-{n}")).await;
                // The write was answered, so the very next read must include it, whatever the
                // other workers' reads and writes left in the cache meanwhile.
                let response = app
                    .authed(app.client.get(app.url("/api/race/tasks?limit=500")), &token)
                    .send()
                    .await
                    .unwrap();
                let listed: Vec<Value> = response.json().await.unwrap();
                assert!(
                    listed.iter().any(|t| t["id"] == created["id"]),
                    "worker {worker} lost its write {n}"
                );
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let response = app.list_tasks("race", &token_for("race")).await;
    assert_eq!(response.headers()["x-total-count"], "120");
}

#[tokio::test]
async fn a_create_past_the_per_user_cap_is_a_409_and_writes_nothing() {
    let app = crate::helpers::spawn_app_with(|s| s.max_tasks_per_user = 2).await;
    let token = token_for("capped");
    let first = app.new_task("capped", "one").await;
    app.new_task("capped", "two").await;
    let refused = app.create_task("capped", &token, &json!({ "title": "three" })).await;
    let body = assert_error(refused, 409, "TASK_LIMIT_REACHED").await;
    assert!(body["detail"].as_str().unwrap().contains('2'), "{body}");
    let with_key = app
        .authed(app.client.post(app.url("/api/capped/tasks")), &token)
        .header("Idempotency-Key", "\"k\"")
        .json(&json!({ "title": "three" }))
        .send()
        .await
        .unwrap();
    assert_error(with_key, 409, "TASK_LIMIT_REACHED").await;
    assert_eq!(app.list_tasks("capped", &token).await.headers()["x-total-count"], "2");
    // Another user is not capped by this one's tasks; a delete frees a place.
    app.new_task("other", "mine").await;
    let id = first["id"].as_str().unwrap();
    assert_eq!(app.delete_task("capped", &token, id).await.status(), 204);
    app.new_task("capped", "three").await;
    assert_eq!(app.list_tasks("capped", &token).await.headers()["x-total-count"], "2");
}

#[tokio::test]
async fn a_nul_or_other_control_character_is_refused_in_every_stored_text_on_every_backend() {
    let app = spawn_app().await;
    let token = token_for("u");
    for body in [
        json!({ "title": "a\u{0}b" }),
        json!({ "title": "ok", "description": "a\u{0}b" }),
        json!({ "title": "ok", "description": "bell\u{7}" }),
    ] {
        let response = app.create_task("u", &token, &body).await;
        assert_error(response, 422, "VALIDATION_ERROR").await;
    }
    let kept = app
        .create_task("u", &token, &json!({ "title": "ok", "description": "two\nlines\tand a tab" }))
        .await;
    assert_eq!(kept.status(), 201);
    // A token whose user id holds a NUL names no user.
    let nul_user = crate::helpers::sign(&json!({
        "sub": "u\u{0}", "iat": crate::helpers::now(), "exp": crate::helpers::now() + 900
    }));
    let response = app.list_tasks("u%00", &nul_user).await;
    assert_error(response, 401, "MISSING_UID_CLAIM").await;
    let listed = app.list_tasks("u", &token).await;
    assert_eq!(listed.headers()["x-total-count"], "1", "only the valid task was stored");
}
